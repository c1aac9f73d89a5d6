"""Applications for designation as stored: the aggregate whole as a document, its key columns beside it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.documents import DocumentStore
from svc_facility.domain.application import Application, Status
from svc_facility.models import applications, registry

CONCLUDED = {Status.designated, Status.refused, Status.withdrawn, Status.suspended, Status.terminated}


def _key_columns(app: Application) -> dict[str, Any]:
    return {
        "id": app.id,
        "applicant_id": app.applicant_id,
        "kind": app.kind.value,
        "name": app.name,
        "office_code": app.office_code,
        "status": app.status.value,
        "version": app.version,
        "received_on": app.received_on,
        "concluded": app.status in CONCLUDED,
    }


APPLICATIONS = DocumentStore(applications, Application, _key_columns)


async def page(
    session: AsyncSession,
    *,
    applicant_id: str | None,
    office_codes: frozenset[str] | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Application], int]:
    conditions: list[ColumnElement[bool]] = []
    if applicant_id is not None:
        conditions.append(applications.c.applicant_id == applicant_id)
    if office_codes is not None:
        conditions.append(applications.c.office_code.in_(sorted(office_codes)))
    if status:
        conditions.append(applications.c.status == status)
    return await APPLICATIONS.find(
        session, *conditions, order_by=[applications.c.received_on.desc()], offset=offset, limit=limit
    )


async def open_applications(session: AsyncSession) -> list[Application]:
    found, _ = await APPLICATIONS.find(session, applications.c.concluded.is_(False))
    return found


async def claim_open_page(
    session: AsyncSession, after: uuid.UUID | None, batch: int
) -> Sequence[Row[Any, Any, Any]]:
    """The next open applications after `after`, locked; those another scanner holds are skipped."""
    conditions: list[ColumnElement[bool]] = [applications.c.concluded.is_(False)]
    if after is not None:
        conditions.append(applications.c.id > after)
    query = (
        select(applications.c.id, applications.c.document, applications.c.overdue_notices)
        .where(*conditions)
        .order_by(applications.c.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).all()


async def note_overdue_notices(session: AsyncSession, application_id: uuid.UUID, notices: list[str]) -> None:
    await session.execute(
        update(applications).where(applications.c.id == application_id).values(overdue_notices=notices)
    )


async def next_registry_code(session: AsyncSession, prefix: str) -> str:
    highest = (
        await session.execute(select(func.max(registry.c.code)).where(registry.c.code.like(f"{prefix}%")))
    ).scalar()
    number = int(highest[len(prefix) :]) + 1 if highest else 1
    return f"{prefix}{number:05d}"
