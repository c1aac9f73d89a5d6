"""The projection of the facility registry (newest version wins)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import upsert_newer
from svc_settlement.models import facilities


class FacilityRows:
    session: AsyncSession

    async def record_facility_if_newer(self, row: dict) -> None:
        """For seeding the projection outside the event path (benchmarks); events go through shared.projections."""
        await upsert_newer(self.session, facilities, row | {"recorded_at": func.now()})

    async def facility(self, code: str) -> dict | None:
        row = (
            (await self.session.execute(select(facilities).where(facilities.c.code == code)))
            .mappings()
            .first()
        )
        return dict(row) if row else None
