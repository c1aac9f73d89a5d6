"""Writing events to the outbox inside the use case's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ARRAY, UUID, String, Text, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared, UnitOfWork
from shared.events.envelope import Envelope
from shared.tables import outbox

# The rows and the NOTIFY that wakes the relay when the transaction commits, in one statement whatever
# the number of events (two statements before: a round trip and a statement's handling saved per write).
# One channel per schema, so a commit wakes only the relay of the service that wrote the rows. Sent straight
# to asyncpg: every write with events runs it.
WRITE_TO_OUTBOX = Prepared(text(
    "WITH written AS (INSERT INTO outbox (event_id, event_type, envelope) "
    "SELECT event_id, event_type, envelope::jsonb FROM unnest(:event_ids, :event_types, :envelopes) "
    "AS batch(event_id, event_type, envelope)) "
    "SELECT pg_notify('outbox_' || current_schema(), '')"
).bindparams(
    bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))), bindparam("event_types", type_=ARRAY(String)),
    bindparam("envelopes", type_=ARRAY(Text)),
))  # fmt: skip


async def write_to_outbox(uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    await uow.execute(WRITE_TO_OUTBOX, {
        "event_ids": [e.event_id for e in envelopes], "event_types": [e.event_type for e in envelopes],
        "envelopes": [e.model_dump_json() for e in envelopes],
    })  # fmt: skip


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
