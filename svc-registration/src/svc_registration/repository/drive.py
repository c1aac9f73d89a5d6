"""SQL of the universal-enrollment drive (全民参保计划): department lists, their rows, and the set-based
matching against enrollment."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from svc_registration.domain.enrollment import Enrollment
from svc_registration.models import drive_lists, drive_rows, enrollments
from svc_registration.repository.enrollments import enrollment_of_row

BATCH = 5000  # persons per query: one query per batch, never one per row
INSERT_BATCH = 2000


class Drive:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def enrollments_of_many(self, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Enrollment]]:
        """Every enrollment of the given persons, by person."""
        found: dict[uuid.UUID, list[Enrollment]] = {}
        for start in range(0, len(person_ids), BATCH):
            query = select(enrollments).where(enrollments.c.person_id.in_(person_ids[start : start + BATCH]))
            for row in (await self.session.execute(query)).mappings():
                found.setdefault(row["person_id"], []).append(enrollment_of_row(row))
        return found

    async def add_list(self, values: dict, rows: list[dict]) -> None:
        await self.session.execute(insert(drive_lists).values(values))
        for start in range(0, len(rows), INSERT_BATCH):
            await self.session.execute(insert(drive_rows), rows[start : start + INSERT_BATCH])

    async def get_list(self, list_id: uuid.UUID) -> dict | None:
        row = (
            (await self.session.execute(select(drive_lists).where(drive_lists.c.id == list_id)))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    async def findings(
        self, list_id: uuid.UUID, finding: str | None, offset: int, limit: int
    ) -> tuple[list[dict], int]:
        conditions = [drive_rows.c.list_id == list_id] + (
            [drive_rows.c.finding == finding] if finding else []
        )
        total = (
            await self.session.execute(select(func.count()).select_from(drive_rows).where(*conditions))
        ).scalar_one()
        query = (
            select(drive_rows).where(*conditions).order_by(drive_rows.c.row_no).offset(offset).limit(limit)
        )
        return [dict(row) for row in (await self.session.execute(query)).mappings()], total

    async def latest_lists(self, office_code: str, year: int, kinds: list[str]) -> dict[str, uuid.UUID]:
        """Per kind, the office's latest list dated in `year`: the latest date, then the latest upload."""
        query = (
            select(drive_lists.c.kind, drive_lists.c.id)
            .ext(distinct_on(drive_lists.c.kind))
            .where(
                drive_lists.c.office_code == office_code,
                drive_lists.c.kind.in_(kinds),
                drive_lists.c.as_of.between(date(year, 1, 1), date(year, 12, 31)),
            )
            .order_by(
                drive_lists.c.kind,
                drive_lists.c.as_of.desc(),
                drive_lists.c.uploaded_at.desc(),
                drive_lists.c.id,
            )
        )
        return {kind: list_id for kind, list_id in (await self.session.execute(query)).all()}

    async def rows_of(self, list_id: uuid.UUID) -> list[tuple[uuid.UUID, str | None]]:
        """(person, township code) of each row of a list."""
        query = select(drive_rows.c.person_id, drive_rows.c.township_code).where(
            drive_rows.c.list_id == list_id
        )
        return [(person, township) for person, township in (await self.session.execute(query)).all()]

    async def covered_on(self, list_ids: list[uuid.UUID], day: date) -> set[uuid.UUID]:
        """The persons of these lists with approved coverage on `day`: one join, not a query per person."""
        if not list_ids:
            return set()
        query = (
            select(drive_rows.c.person_id)
            .distinct()
            .join(enrollments, enrollments.c.person_id == drive_rows.c.person_id)
            .where(
                drive_rows.c.list_id.in_(list_ids),
                enrollments.c.status == "approved",
                enrollments.c.benefit_start <= day,
                or_(enrollments.c.benefit_end.is_(None), enrollments.c.benefit_end >= day),
            )
        )
        return set((await self.session.execute(query)).scalars())
