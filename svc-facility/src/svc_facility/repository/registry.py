"""Loading and saving registry records and applications."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from svc_facility.domain.registry import RegistryRecord
from svc_facility.models import registry, registry_history


@dataclass(frozen=True)
class RegistryFilter:
    name: str | None = None
    kind: str | None = None
    district_code: str | None = None
    level: int | None = None
    programme: str | None = None
    status: str | None = "designated"


class Repository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_record(self, record: RegistryRecord) -> bool:
        """Insert unless the code exists; returns whether it was new."""
        result = await self.session.execute(
            insert(registry)
            .values(_row(record))
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(registry.c.code)
        )
        return result.first() is not None

    async def save_record(self, record: RegistryRecord) -> None:
        values = _row(record)
        await self.session.execute(
            update(registry)
            .where(registry.c.code == record.code)
            .values({**values, "updated_at": func.now()})
        )

    async def get_record(self, code: str, for_update: bool = False) -> RegistryRecord | None:
        query = select(registry).where(registry.c.code == code)
        row = (
            (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        )
        return _record(row) if row else None

    async def search(
        self, where: RegistryFilter, offset: int, limit: int
    ) -> tuple[list[RegistryRecord], int]:
        conditions = []
        if where.name:
            conditions.append(registry.c.name.contains(where.name, autoescape=True))
        if where.kind:
            conditions.append(registry.c.kind == where.kind)
        if where.district_code:
            conditions.append(registry.c.district_code == where.district_code)
        if where.level is not None:
            conditions.append(registry.c.level == where.level)
        if where.programme:
            conditions.append(registry.c.programmes.any(where.programme))
        if where.status:
            conditions.append(registry.c.status == where.status)
        total = (
            await self.session.execute(select(func.count()).select_from(registry).where(*conditions))
        ).scalar_one()
        rows = (
            await self.session.execute(
                select(registry).where(*conditions).order_by(registry.c.code).offset(offset).limit(limit)
            )
        ).mappings()
        return [_record(r) for r in rows], total

    async def record_history(
        self,
        record: RegistryRecord,
        change: str,
        by: str,
        at: datetime,
        reason: str | None,
        details: dict[str, Any],
    ) -> None:
        await self.session.execute(
            insert(registry_history).values(
                code=record.code, version=record.version, change=change, by=by, at=at, reason=reason,
                details=json.loads(json.dumps(details, default=str)),
            )
        )  # fmt: skip

    async def history(self, code: str) -> list[dict]:
        rows = await self.session.execute(
            select(registry_history)
            .where(registry_history.c.code == code)
            .order_by(registry_history.c.version)
        )
        return [dict(r) for r in rows.mappings()]


def _row(record: RegistryRecord) -> dict:
    return {**record.snapshot(), "programmes": list(record.programmes)}


def _record(row) -> RegistryRecord:  # type: ignore[no-untyped-def]
    return RegistryRecord(
        **{f: row[f] for f in RegistryRecord.__dataclass_fields__} | {"programmes": tuple(row["programmes"])}
    )
