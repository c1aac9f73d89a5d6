"""Reimbursements and benefit payments as stored, the same way in both tables: the application whole as a
document (shared.documents.DocumentStore), its key columns beside it; a page of an actor's list; the
open applications by their due dates for the deadline scans (claimed in id order with SKIP LOCKED, so
replicas running the same scan never take the same row)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.documents import DocumentStore
from svc_claims.domain.access import ListingScope

A = TypeVar("A")


def key_columns(application: Any) -> dict[str, Any]:
    """The columns both tables search by (a reimbursement or a benefit payment)."""
    return {
        "id": application.id,
        "person_id": application.person_id,
        "office_code": application.office_code,
        "unit_code": application.unit_code,
        "status": application.status.value,
        "due_on": application.due_on,
        "due_provisional": application.due_provisional,
        "overdue_announced": application.overdue_announced,
        "filed_at": application.steps[0].at,
        "version": application.version,
    }


async def page(
    session: AsyncSession,
    store: DocumentStore[A],
    *,
    scope: ListingScope,
    status: str | None = None,
    offset: int,
    limit: int,
) -> tuple[list[A], int]:
    """The applications within an actor's scope (the person, the unit, the set of offices), newest first."""
    table = store.table
    conditions: list[ColumnElement[bool]] = []
    if scope.person_id is not None:
        conditions.append(table.c.person_id == scope.person_id)
    if scope.unit_code is not None:
        conditions.append(table.c.unit_code == scope.unit_code)
    if scope.offices is not None:
        conditions.append(table.c.office_code.in_(sorted(scope.offices)))
    if status is not None:
        conditions.append(table.c.status == status)
    return await store.find(
        session, *conditions, order_by=[table.c.filed_at.desc()], offset=offset, limit=limit
    )


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
