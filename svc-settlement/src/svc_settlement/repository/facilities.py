"""The projection of the facility registry (newest version wins; kept by shared.projections)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from svc_settlement.models import facilities


class FacilityRows:
    session: AsyncSession

    async def facility(self, code: str) -> dict | None:
        row = (
            (await self.session.execute(select(facilities).where(facilities.c.code == code)))
            .mappings()
            .first()
        )
        return dict(row) if row else None
