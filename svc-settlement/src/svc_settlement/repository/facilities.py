"""The projection of the facility registry (newest version wins; kept by shared.projections)."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from shared.db import OnUnitOfWork, Prepared
from svc_settlement.models import facilities

_FACILITY = Prepared(select(facilities).where(facilities.c.code == bindparam("of_code")))  # every declaration


class FacilityRows(OnUnitOfWork):
    async def facility(self, code: str) -> dict | None:
        rows = await self.uow.execute(_FACILITY, {"of_code": code})
        return dict(rows[0]) if rows else None
