"""Holiday notices in the database (all their SQL): drafts, and published notices numbered per year.

The database keeps the rules too (migration 0015): the publisher is never the drafter, a published
notice can be neither changed nor deleted, two published notices of a year never share a number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from svc_claims.domain.publication import Publication
from svc_claims.models import holiday_notices


@dataclass(frozen=True)
class HolidayNotice(Publication):
    id: uuid.UUID
    year: int
    version: int | None
    source: str
    document: dict[str, Any]


def _notice(row: Any) -> HolidayNotice:
    return HolidayNotice(**{column.name: getattr(row, column.name) for column in holiday_notices.columns})


async def insert_draft(
    session: AsyncSession, *, year: int, source: str, document: dict[str, Any], by: str, at: datetime
) -> uuid.UUID:
    notice_id = uuid.uuid4()
    await session.execute(
        holiday_notices.insert().values(
            id=notice_id,
            year=year,
            status="draft",
            source=source,
            document=document,
            drafted_by=by,
            drafted_at=at,
        )
    )
    return notice_id


async def get(
    session: AsyncSession, notice_id: uuid.UUID, *, for_update: bool = False
) -> HolidayNotice | None:
    query = select(holiday_notices).where(holiday_notices.c.id == notice_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else _notice(row)


async def listed(session: AsyncSession, *, year: int | None, status: str | None) -> list[HolidayNotice]:
    query = select(holiday_notices).order_by(holiday_notices.c.year, holiday_notices.c.drafted_at)
    if year is not None:
        query = query.where(holiday_notices.c.year == year)
    if status is not None:
        query = query.where(holiday_notices.c.status == status)
    return [_notice(row) for row in await session.execute(query)]


async def lock_year(session: AsyncSession, year: int) -> None:
    """One publication of a year at a time, so two never take the same number."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"holiday_notices/{year}"}
    )


async def next_number(session: AsyncSession, year: int) -> int:
    highest = (
        await session.execute(
            select(func.max(holiday_notices.c.version)).where(holiday_notices.c.year == year)
        )
    ).scalar()
    return (highest or 0) + 1


async def mark_published(
    session: AsyncSession, notice_id: uuid.UUID, *, version: int, by: str, note: str | None, at: datetime
) -> None:
    await session.execute(
        update(holiday_notices)
        .where(holiday_notices.c.id == notice_id)
        .values(
            status="published",
            version=version,
            reviewed_by=by,
            review_note=note,
            published_by=by,
            published_at=at,
        )
    )


async def latest_published(session: AsyncSession) -> list[HolidayNotice]:
    """The latest published notice of each year, by year."""
    query = (
        select(holiday_notices)
        .where(holiday_notices.c.status == "published")
        .order_by(holiday_notices.c.year, holiday_notices.c.version)
    )
    latest = {notice.year: notice for notice in map(_notice, await session.execute(query))}
    return list(latest.values())
