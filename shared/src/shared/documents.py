"""Aggregates stored whole as a JSONB document beside the key columns that queries filter on.

A service's table for such an aggregate has an `id` primary key, an integer `version`, a `document`
JSONB column and whatever key columns it searches by; pydantic maps the domain dataclasses both ways.
Writes are optimistic: `save` replaces the row only at the version it was loaded at, so two clerks
acting on one case cannot both win, whatever the route forgot to lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared, UnitOfWork
from shared.errors import Conflict

A = TypeVar("A")


class DocumentStore(Generic[A]):
    def __init__(self, table: Table, model: type[A], key_columns: Callable[[A], dict[str, Any]]):
        self.table = table
        self.adapter: TypeAdapter[A] = TypeAdapter(model)
        self.key_columns = key_columns
        # Built once, executed with each call's values straight on asyncpg (shared.db.Prepared): every
        # step of a case reads and saves its document. The writes name every column of a row, which
        # are known once the first row is made (key_columns gives the same names for every aggregate).
        read = select(table.c.document).where(table.c.id == bindparam("aggregate_id"))
        self._get, self._get_locked = Prepared(read), Prepared(read.with_for_update())
        self._add: Prepared | None = None
        self._save: Prepared | None = None
        self._columns: frozenset[str] = frozenset()

    def load(self, document: dict[str, Any]) -> A:
        return self.adapter.validate_python(document)

    def _row(self, aggregate: A) -> dict[str, Any]:
        return {**self.key_columns(aggregate), "document": self.adapter.dump_python(aggregate, mode="json")}

    def _writes(self, row: dict[str, Any]) -> tuple[Prepared, Prepared]:
        if self._add is not None and self._save is not None:
            if row.keys() != self._columns:  # a column left out of the statements would not be written
                raise ValueError(f"key_columns named {sorted(row)}, not {sorted(self._columns)}")
        else:
            self._columns = frozenset(row)
            table = self.table
            columns: dict[str, Any] = {name: bindparam(name) for name in row}
            self._add = Prepared(insert(table).values(columns))
            self._save = Prepared(
                update(table)
                .where(
                    table.c.id == bindparam("aggregate_id"), table.c.version == bindparam("loaded_at_version")
                )
                .values({**columns, "updated_at": func.now()})
                .returning(table.c.id)
            )
        return self._add, self._save

    async def get(self, uow: UnitOfWork, aggregate_id: uuid.UUID, *, lock: bool = False) -> A | None:
        rows = await uow.execute(self._get_locked if lock else self._get, {"aggregate_id": aggregate_id})
        return self.load(rows[0]["document"]) if rows else None

    async def add(self, uow: UnitOfWork, aggregate: A) -> None:
        row = self._row(aggregate)
        await uow.execute(self._writes(row)[0], row)

    async def save(self, uow: UnitOfWork, aggregate: A, *, loaded_at_version: int) -> None:
        """Replace the stored aggregate, provided nobody has saved it since it was loaded."""
        row = self._row(aggregate)
        changed = await uow.execute(
            self._writes(row)[1], {**row, "aggregate_id": row["id"], "loaded_at_version": loaded_at_version}
        )
        if not changed:
            raise Conflict("version_conflict", "记录已被他人修改", "请刷新后重试")

    async def find(
        self,
        session: AsyncSession,
        *conditions: ColumnElement[bool],
        order_by: Sequence[ColumnElement[Any]] = (),
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[A], int]:
        """One page of the aggregates meeting `conditions`, and how many meet them in all."""
        total = (
            await session.execute(select(func.count()).select_from(self.table).where(*conditions))
        ).scalar_one()
        query = (
            select(self.table.c.document).where(*conditions).order_by(*order_by).offset(offset).limit(limit)
        )
        return [self.load(document) for (document,) in await session.execute(query)], total
