"""What staff enter (append-only): rejections, adjustments, year-end results."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from shared.db import OnUnitOfWork
from svc_settlement.models import entries


class EntryRows(OnUnitOfWork):
    async def add_entry(self, row: dict) -> None:
        await self.session.execute(insert(entries).values(**row))

    async def entries_of(
        self,
        facility_code: str,
        period: str | None = None,
        insurance_type: str | None = None,
        care_type: str | None = None,
    ) -> list[dict]:
        query = select(entries).where(entries.c.facility_code == facility_code).order_by(entries.c.at)
        for column, value in (
            (entries.c.period, period),
            (entries.c.insurance_type, insurance_type),
            (entries.c.care_type, care_type),
        ):
            if value is not None:
                query = query.where(column == value)
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def entries_of_key(self, facility_code: str, insurance_type: str, care_type: str) -> list[dict]:
        query = select(entries.c.period, entries.c.kind, entries.c.amount).where(
            entries.c.facility_code == facility_code, entries.c.insurance_type == insurance_type, entries.c.care_type == care_type,
        )  # fmt: skip
        return [dict(r) for r in (await self.session.execute(query)).mappings()]
