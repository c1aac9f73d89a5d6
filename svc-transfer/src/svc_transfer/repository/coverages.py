"""The projection of registration's enrollments: who is covered here and whose coverage stopped."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared, UnitOfWork
from svc_transfer.models import coverages

_APPROVED = (
    "person_id",
    "office_code",
    "scheme",
    "status",
    "benefit_start",
    "benefit_end",
    "unit_code",
    "sex",
)
_RECORD_APPROVED_STATEMENT = insert(coverages).values(
    enrollment_id=bindparam("enrollment_id"), **{k: bindparam(k) for k in _APPROVED}
)
# Built once, sent straight to asyncpg with each approval's values (one per registration.approved).
# A stop that arrived first recorded the enrollment without its start: the approval supplies it (the
# certificate's periods are drawn from here), the stop still wins the status.
_RECORD_APPROVED = Prepared(
    _RECORD_APPROVED_STATEMENT.on_conflict_do_update(
        index_elements=["enrollment_id"],
        set_={k: _RECORD_APPROVED_STATEMENT.excluded[k] for k in ("benefit_start", "unit_code", "sex")},
    )
)


async def record_approved(uow: UnitOfWork, enrollment_id: uuid.UUID, values: dict[str, Any]) -> None:
    await uow.execute(_RECORD_APPROVED, {"enrollment_id": enrollment_id, **values})


async def record_stopped(session: AsyncSession, enrollment_id: uuid.UUID, values: dict[str, Any]) -> None:
    # Stopping is final for an enrollment: it wins whichever of the two events arrives first.
    await session.execute(
        insert(coverages)
        .values(enrollment_id=enrollment_id, **values)
        .on_conflict_do_update(
            index_elements=["enrollment_id"], set_={"status": "stopped", "stopped_on": values["stopped_on"]}
        )
    )


async def end_on(session: AsyncSession, enrollment_id: uuid.UUID, last_covered_day: date) -> bool:
    """The coverage ends on its last covered day at the latest; False when the enrollment is unknown."""
    ended = await session.execute(
        update(coverages)
        .where(coverages.c.enrollment_id == enrollment_id)
        .values(benefit_end=func.least(coverages.c.benefit_end, last_covered_day))
        .returning(coverages.c.enrollment_id)
    )
    return ended.first() is not None


async def active_coverage(session: AsyncSession, person: uuid.UUID, today: date) -> Any:
    query = select(coverages).where(
        coverages.c.person_id == person,
        coverages.c.status == "active",
        or_(coverages.c.benefit_end.is_(None), coverages.c.benefit_end >= today),
    )
    return (await session.execute(query.order_by(coverages.c.benefit_start))).first()


async def coverages_of(session: AsyncSession, person: uuid.UUID) -> list[Any]:
    """All the person's coverages here, locked (a certificate is drawn from them)."""
    query = select(coverages).where(coverages.c.person_id == person).with_for_update()
    return list((await session.execute(query.order_by(coverages.c.benefit_start))).all())
