"""The local projection of the designated-facility registry (fed by facility's events through
shared.projections)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from svc_registration.domain.facility import KnownFacility
from svc_registration.models import (
    facilities,
)


class Facilities:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get_facility(self, code: str) -> KnownFacility | None:
        row = (
            (await self.session.execute(select(facilities).where(facilities.c.code == code)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return KnownFacility(
            code=row["code"], name=row["name"], kind=row["kind"], level=row["level"], office_code=row["office_code"],
            programmes=frozenset(row["programmes"]), status=row["status"], version=row["version"],
        )  # fmt: skip
