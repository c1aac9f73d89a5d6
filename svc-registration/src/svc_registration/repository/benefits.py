"""Benefit registrations as stored: at most one active of a kind (and details) per person, row-locked."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.models import (
    benefit_registrations,
)


class Benefits:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def active_benefit(
        self, person_id: uuid.UUID, kind: str, **details: str
    ) -> BenefitRegistration | None:
        """The active registration of that kind (and those details, e.g. disease=…), row-locked."""
        conditions = [
            benefit_registrations.c.person_id == person_id,
            benefit_registrations.c.kind == kind,
            benefit_registrations.c.status == "active",
        ]
        for key, value in details.items():
            conditions.append(benefit_registrations.c.details[key].astext == value)
        row = (
            (await self.session.execute(select(benefit_registrations).where(*conditions).with_for_update()))
            .mappings()
            .first()
        )
        return _benefit(row) if row else None

    async def save_benefit(self, registration: BenefitRegistration) -> None:
        values = {**{f: getattr(registration, f) for f in BenefitRegistration.__dataclass_fields__}}
        values["facility_codes"] = list(registration.facility_codes)
        await self.session.execute(
            insert(benefit_registrations)
            .values(values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def benefits_due_to_expire(self, today: date, limit: int) -> list[BenefitRegistration]:
        """Active registrations whose last valid day has passed, claimed so each replica takes its own."""
        query = (
            select(benefit_registrations)
            .where(benefit_registrations.c.status == "active", benefit_registrations.c.valid_to < today)
            .order_by(benefit_registrations.c.valid_to)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_benefit(row) for row in (await self.session.execute(query)).mappings()]

    async def benefits_page(
        self,
        person_id: uuid.UUID | None,
        office_codes: frozenset[str] | None,
        kind: str | None,
        status: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[BenefitRegistration], int]:
        """Registrations filtered by person, office, kind and status (None: any), newest first, and their count."""
        table = benefit_registrations.c
        wanted = [
            (table.person_id, person_id),
            (table.kind, kind),
            (table.status, status),
        ]
        conditions = [column == value for column, value in wanted if value is not None]
        if office_codes is not None:
            conditions.append(table.office_code.in_(sorted(office_codes)))
        total = (
            await self.session.execute(
                select(func.count()).select_from(benefit_registrations).where(*conditions)
            )
        ).scalar_one()
        query = (
            select(benefit_registrations)
            .where(*conditions)
            .order_by(table.registered_at.desc(), table.id)
            .offset(offset)
            .limit(limit)
        )
        return [_benefit(row) for row in (await self.session.execute(query)).mappings()], total

    async def get_benefit(self, registration_id: uuid.UUID) -> BenefitRegistration | None:
        row = (
            (
                await self.session.execute(
                    select(benefit_registrations).where(benefit_registrations.c.id == registration_id)
                )
            )
            .mappings()
            .first()
        )
        return _benefit(row) if row else None


def _benefit(row) -> BenefitRegistration:  # type: ignore[no-untyped-def]
    fields = {f: row[f] for f in BenefitRegistration.__dataclass_fields__}
    return BenefitRegistration(**fields | {"facility_codes": tuple(row["facility_codes"])})
