"""The outbox relay: claims unsent rows, publishes them with confirms, marks them sent.

Rows are claimed by status with FOR UPDATE SKIP LOCKED, so several replicas share one outbox
without publishing a row twice. The claim marks the rows sent in the same statement (one statement
per batch, not two); a row the broker did not confirm is unmarked before the transaction commits, so
outside it a row is marked sent only once confirmed. A row the broker returned as unroutable also
records the error and is tried again later. LISTEN/NOTIFY wakes the relay at once; the poll interval
guarantees progress without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any, TypeGuard

import asyncpg
from aio_pika.exceptions import DeliveryError, PublishError
from sqlalchemy import BigInteger, Text, Update, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.clock import SystemClock
from shared.db import Prepared, UnitOfWork
from shared.events.broker import Broker, OutgoingMessage
from shared.tables import outbox

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 60.0


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_RETRY_DELAY_S, 0.5 * 2 ** min(attempts, 10)))


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def due_rows(batch_size: int) -> Update:
    """The next unsent rows due, locked for this relay (others skip them) and marked sent. The envelope
    comes as the database's JSON text: published as it is, not decoded and encoded again."""
    due = (
        select(outbox.c.id)
        .where(outbox.c.published_at.is_(None), outbox.c.next_attempt_at <= func.now())
        .order_by(outbox.c.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    return (
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(published_at=func.now())
        .returning(
            outbox.c.id,
            outbox.c.event_id,
            outbox.c.event_type,
            outbox.c.attempts,
            cast(outbox.c.envelope, Text).label("body"),
            outbox.c.envelope["correlation_id"].astext.label("correlation_id"),
        )
    )


# Built once, executed when claimed rows were not confirmed: rare, but one statement for all of them.
MARK_UNSENT = Prepared(
    update(outbox)
    .where(outbox.c.id == func.any(bindparam("unsent", type_=ARRAY(BigInteger))))
    .values(published_at=None)
)


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        database_url: str,
        schema: str,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        linger_s: float = 0.0,
    ):
        self._sessions = sessions
        self._broker = broker
        self._dsn = asyncpg_dsn(database_url)
        self._schema = schema
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._linger_s = linger_s
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._due = Prepared(due_rows(batch_size))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._ensure_listening()
            try:
                published = await self.publish_batch()
            except Exception:
                log.exception("outbox relay: batch failed; rows stay unsent")
                published = 0
                await asyncio.sleep(self._poll_interval_s)
            if published < self._batch_size:
                await self._sleep_until_woken(stop)
                if self._linger_s:  # let the commits just behind the first join its batch
                    await asyncio.sleep(self._linger_s)
        await self._stop_listening()

    async def publish_batch(self) -> int:
        """Publish one batch; returns how many rows were confirmed and marked sent."""
        if not self._broker.is_connected:
            return 0  # nothing is claimed while the broker is away; rows keep their schedule
        # A unit of work on a pooled connection of its own (its statements are prepared): no ORM session
        # for the batch, only for a refusal's back-off.
        async with UnitOfWork(self._sessions, SystemClock(), self._schema) as uow:
            rows = sorted(await uow.execute(self._due), key=lambda row: row["id"])  # in outbox order
            if not rows:
                return 0
            results = await self._broker.publish_events([message_of(row) for row in rows])
            outcomes = list(zip(rows, results, strict=True))
            unsent = [row["id"] for row, error in outcomes if error is not None]
            refused = [(row, error) for row, error in outcomes if is_refusal(error)]
            if unsent:
                await uow.execute(MARK_UNSENT, {"unsent": unsent})
            for row, error in refused:
                await self._record_refusal(uow.session, row["id"], row["attempts"], error)
            await uow.commit()
        if len(unsent) > len(refused):
            log.warning("outbox relay: %d event(s) not confirmed (broker unavailable); they stay unsent",
                        len(unsent) - len(refused))  # fmt: skip
        sent = len(rows) - len(unsent)
        metrics.EVENTS_PUBLISHED.labels(self._schema).inc(sent)
        metrics.THROUGHPUT.add(self._schema, "published", sent)
        return sent

    async def _record_refusal(
        self, session: AsyncSession, row_id: int, attempts: int, error: BaseException
    ) -> None:
        """The broker returned or refused this row: back off this row only, keep it unsent."""
        reason = f"{type(error).__name__}: {error}"[:500]
        log.warning(
            "outbox relay: event refused by the broker", extra={"outbox_id": row_id, "reason": reason}
        )
        metrics.EVENTS_PUBLISH_FAILED.labels(self._schema).inc()
        await session.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(
                attempts=attempts + 1, last_error=reason, next_attempt_at=func.now() + retry_delay(attempts)
            )
        )

    async def _ensure_listening(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await asyncpg.connect(self._dsn, server_settings={"search_path": self._schema})
            await self._listener.add_listener(f"outbox_{self._schema}", lambda *_: self._wake.set())
        except Exception as exc:  # polling still delivers; try LISTEN again next round
            log.warning("outbox relay: LISTEN unavailable (%s), polling", exc)
            self._listener = None

    async def _sleep_until_woken(self, stop: asyncio.Event) -> None:
        stopped = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait(
            {stopped, woken}, timeout=self._poll_interval_s, return_when=asyncio.FIRST_COMPLETED
        )
        stopped.cancel()
        woken.cancel()
        self._wake.clear()

    async def _stop_listening(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None


def is_refusal(error: BaseException | None) -> TypeGuard[PublishError | DeliveryError]:
    """Unroutable (returned) or nacked: about this message, not about the connection."""
    return isinstance(error, (PublishError, DeliveryError))


def message_of(row: Any) -> OutgoingMessage:
    """An outbox row (its envelope selected as JSON text) as the message that carries it."""
    return OutgoingMessage(
        routing_key=row["event_type"],
        body=row["body"].encode(),
        message_id=str(row["event_id"]),
        correlation_id=row["correlation_id"],
    )


def message_for(event_type: str, envelope: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        routing_key=event_type,
        body=json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode(),
        message_id=envelope["event_id"],
        correlation_id=envelope.get("correlation_id"),
    )
