"""Insured units (参保单位) as stored, with their change history."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from svc_registration.domain.unit import ChangeKind, Unit, UnitChange, UnitStatus
from svc_registration.models import (
    enrollments,
    units,
)


class Units:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_unit(self, unit: Unit) -> None:
        await self.session.execute(insert(units).values(_unit_row(unit)))

    async def get_unit(self, code: str, for_update: bool = False) -> Unit | None:
        query = select(units).where(units.c.code == code)
        row = (
            (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        )
        return _unit(row) if row else None

    async def update_unit(self, unit: Unit, previous_code: str) -> None:
        await self.session.execute(update(units).where(units.c.id == unit.id).values(_unit_row(unit)))
        if unit.code != previous_code:  # the employees follow the unit's new credit code
            await self.session.execute(
                update(enrollments)
                .where(enrollments.c.unit_code == previous_code)
                .values(unit_code=unit.code)
            )


def _unit_row(u: Unit) -> dict:
    changes = [
        {
            **asdict(c),
            "kind": c.kind.value,
            "at": c.at.isoformat(),
            "documents": list(c.documents),
            "related_units": list(c.related_units),
        }
        for c in u.changes
    ]
    return {
        "id": u.id, "code": u.code, "name": u.name, "legal_representative": u.legal_representative,
        "office_code": u.office_code, "status": u.status.value, "version": u.version,
        "registered_by": u.registered_by, "registered_at": u.registered_at, "changes": changes, "handling": u.handling,
    }  # fmt: skip


def _unit(row) -> Unit:  # type: ignore[no-untyped-def]
    changes = tuple(
        UnitChange(**{**c, "kind": ChangeKind(c["kind"]), "at": datetime.fromisoformat(c["at"]),
                      "documents": tuple(c["documents"]), "related_units": tuple(c["related_units"])})
        for c in row["changes"]
    )  # fmt: skip
    return Unit(
        id=row["id"], code=row["code"], name=row["name"], legal_representative=row["legal_representative"],
        office_code=row["office_code"], status=UnitStatus(row["status"]), version=row["version"],
        registered_by=row["registered_by"], registered_at=row["registered_at"], changes=changes, handling=row["handling"],
    )  # fmt: skip
