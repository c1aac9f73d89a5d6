"""Writing events to the outbox inside the use case's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.envelope import Envelope
from shared.tables import outbox

# One channel per schema, so a commit wakes only the relay of the service that wrote the rows.
NOTIFY_SQL = text("SELECT pg_notify('outbox_' || current_schema(), '')")


async def write_to_outbox(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    rows = [
        {"event_id": e.event_id, "event_type": e.event_type, "envelope": e.model_dump(mode="json")}
        for e in envelopes
    ]
    await session.execute(insert(outbox), rows)
    await session.execute(NOTIFY_SQL)


async def outbox_backlog(session: AsyncSession) -> tuple[int, float]:
    """Unsent rows and the age in seconds of the oldest one (0 when none)."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.extract("epoch", func.now() - func.min(outbox.c.created_at)), 0),
            ).where(outbox.c.published_at.is_(None))
        )
    ).one()
    return int(row[0]), float(row[1])
