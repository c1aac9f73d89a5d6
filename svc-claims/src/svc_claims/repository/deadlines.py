"""The open applications of one table (reimbursements or benefit payments) by their due dates. Rows are
claimed in id order with SKIP LOCKED, so replicas running the same scan never take the same row."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.documents import DocumentStore


def _open(store: DocumentStore[Any], open_statuses: Collection[str]) -> ColumnElement[bool]:
    return store.table.c.status.in_(list(open_statuses))


async def _claim(
    session: AsyncSession,
    store: DocumentStore[Any],
    after: uuid.UUID | None,
    batch: int,
    *conditions: ColumnElement[bool],
) -> list[Any]:
    table = store.table
    if after is not None:
        conditions = (*conditions, table.c.id > after)
    query = (
        select(table.c.document)
        .where(*conditions)
        .order_by(table.c.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    return [store.load(document) for (document,) in await session.execute(query)]


async def claim_provisional(
    session: AsyncSession,
    store: DocumentStore[Any],
    open_statuses: Collection[str],
    *,
    years: Collection[int],
    after: uuid.UUID | None,
    batch: int,
) -> list[Any]:
    """Open applications whose provisional due date falls in one of `years`, locked."""
    table = store.table
    return await _claim(
        session, store, after, batch, _open(store, open_statuses), table.c.due_provisional.is_(True),
        func.extract("year", table.c.due_on).in_(list(years)),
    )  # fmt: skip


async def claim_overdue(
    session: AsyncSession,
    store: DocumentStore[Any],
    open_statuses: Collection[str],
    *,
    today: date,
    after: uuid.UUID | None,
    batch: int,
) -> list[Any]:
    """Open applications past their due date and not announced yet, locked."""
    table = store.table
    return await _claim(
        session, store, after, batch, _open(store, open_statuses), table.c.due_on < today,
        table.c.overdue_announced.is_(False),
    )  # fmt: skip


async def open_due_dates(
    session: AsyncSession, store: DocumentStore[Any], open_statuses: Collection[str]
) -> list[date]:
    rows = await session.execute(select(store.table.c.due_on).where(_open(store, open_statuses)))
    return [d for (d,) in rows if d is not None]
