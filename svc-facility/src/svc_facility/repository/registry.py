"""Loading and saving registry records and applications."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared, UnitOfWork
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


# The public search, the registry's busiest read: one statement per set of filters given, built once and
# sent straight to asyncpg; the page and the count come back together (count(*) OVER ()).
_CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "name": lambda: registry.c.name.like(bindparam("name"), escape="/"),
    "kind": lambda: registry.c.kind == bindparam("kind"),
    "district_code": lambda: registry.c.district_code == bindparam("district_code"),
    "level": lambda: registry.c.level == bindparam("level"),
    "programme": lambda: registry.c.programmes.any(bindparam("programme", type_=String)),
    "status": lambda: registry.c.status == bindparam("status"),
}


@cache
def _search(filters: frozenset[str]) -> tuple[Prepared, Prepared]:
    """The page with the count beside each row, and the count alone (for a page past the last)."""
    conditions = [make() for name, make in _CONDITIONS.items() if name in filters]
    page = (
        select(registry, func.count().over().label("total"))
        .where(*conditions)
        .order_by(registry.c.code)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return Prepared(page), Prepared(select(func.count()).select_from(registry).where(*conditions))


def _like_pattern(text: str) -> str:
    """`text` anywhere in the name, its own % and _ taken literally."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


async def search(
    uow: UnitOfWork, where: RegistryFilter, offset: int, limit: int
) -> tuple[list[RegistryRecord], int]:
    values: dict[str, Any] = {k: v for k, v in asdict(where).items() if v is not None and v != ""}
    if "name" in values:
        values["name"] = _like_pattern(values["name"])
    page, count = _search(frozenset(values))
    rows = await uow.execute(page, values | {"offset": offset, "limit": limit})
    if rows or not offset:
        return [_record(row) for row in rows], rows[0]["total"] if rows else 0
    return [], (await uow.execute(count, values))[0][0]  # a page past the last


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
