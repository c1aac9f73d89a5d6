"""A small service used to test the event backbone itself: one schema, one effect table.

Run as a module it is a consumer that dies right after committing an effect and before acking,
for the kill-before-ack test:  python -m shared.testing.backbone DB_URL BROKER_URL NAMESPACE CONSUMER
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Integer, Table, func, insert, select
from sqlalchemy.dialects.postgresql import UUID

from shared.clock import SystemClock
from shared.db import UnitOfWork, make_engine, make_session_factory, new_metadata
from shared.events import Envelope, new_envelope
from shared.events.broker import Broker
from shared.events.consumer import Consumer, Subscription
from shared.events.registry import event
from shared.events.relay import OutboxRelay, asyncpg_dsn
from shared.tables import create_infrastructure_tables

SCHEMA = "backbone"


@event("backbone.pinged", 1, producer="backbone", summary="backbone test event")
class PingedV1(BaseModel):
    value: int


@event("backbone.unheard", 1, producer="backbone", summary="backbone test event no queue is bound to")
class UnheardV1(BaseModel):
    value: int


metadata = new_metadata()
# No unique constraint on purpose: a double effect must be visible as two rows.
effects = Table(
    "effects",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("value", Integer, nullable=False),
)


@dataclass
class HandlerControl:
    """What the test handler does: which values fail, and when each event was attempted."""

    failing: set[int] = field(default_factory=set)
    attempts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


control = HandlerControl()


async def record_effect(uow: UnitOfWork, envelope: Envelope, payload: PingedV1) -> None:
    control.attempts[str(envelope.event_id)].append(time.monotonic())
    if payload.value in control.failing:
        raise RuntimeError(f"handler told to fail for value {payload.value}")
    await uow.session.execute(insert(effects).values(event_id=envelope.event_id, value=payload.value))


async def create_schema(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    finally:
        await conn.close()
    engine = make_engine(database_url, schema=SCHEMA)
    async with engine.begin() as connection:
        await connection.run_sync(create_infrastructure_tables)
        await connection.run_sync(metadata.create_all)
    await engine.dispose()


class Backbone:
    def __init__(self, database_url: str, broker_url: str, namespace: str):
        self.database_url = database_url
        self.engine = make_engine(database_url, pool_size=10, schema=SCHEMA)
        self.sessions = make_session_factory(self.engine)
        self.clock = SystemClock()
        self.broker = Broker(broker_url, namespace)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, SCHEMA)

    def consumer(self, name: str, concerns: Callable[[PingedV1], bool] | None = None, **options) -> Consumer:  # type: ignore[no-untyped-def]
        subscription = Subscription(PingedV1, record_effect, concerns)
        return Consumer(name, [subscription], self.broker, self.uow, **options)

    def relay(self, **options) -> OutboxRelay:  # type: ignore[no-untyped-def]
        options.setdefault("poll_interval_s", 0.2)
        return OutboxRelay(self.sessions, self.broker, self.database_url, schema=SCHEMA, **options)

    async def emit(self, values: Sequence[int], model: type[BaseModel] = PingedV1) -> list[Envelope]:
        """Write events through the outbox, as a use case would (one transaction)."""
        envelopes = [new_envelope(model(value=v), self.clock) for v in values]
        async with self.uow() as uow:
            for envelope in envelopes:
                uow.emit(envelope)
            await uow.commit()
        return envelopes

    async def effect_counts(self, event_ids: Sequence) -> dict:  # type: ignore[type-arg]
        async with self.sessions() as session:
            rows = await session.execute(
                select(effects.c.event_id, func.count())
                .where(effects.c.event_id.in_(list(event_ids)))
                .group_by(effects.c.event_id)
            )
            return {row[0]: row[1] for row in rows}

    async def close(self) -> None:
        await self.broker.close()
        await self.engine.dispose()


async def eventually(check: Callable, timeout_s: float = 20.0, what: str = "condition") -> None:  # type: ignore[type-arg]
    """Poll an async or sync check until it is true; fail with `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def _die_after_commit(database_url: str, broker_url: str, namespace: str, consumer_name: str) -> None:
    backbone = Backbone(database_url, broker_url, namespace)
    await backbone.broker.connect()
    consumer = backbone.consumer(consumer_name)

    async def die(_: Envelope) -> None:
        os._exit(3)  # the effect is committed; the ack never happens

    consumer.after_commit_hook = die
    await consumer.start()
    print("consuming", flush=True)
    await asyncio.sleep(60)
    sys.exit(1)  # no message arrived


if __name__ == "__main__":
    asyncio.run(_die_after_commit(*sys.argv[1:5]))
