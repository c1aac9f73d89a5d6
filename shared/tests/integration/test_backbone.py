"""The event backbone under faults: lost effects = 0 and duplicated effects = 0 in every case."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from shared import metrics
from shared.events import new_envelope
from shared.events.broker import OutgoingMessage
from shared.events.deadletters import list_dead_letters, replay_dead_letters
from shared.events.relay import message_for
from shared.events.topology import Names, event_log_queue
from shared.tables import outbox
from shared.testing.backbone import Backbone, PingedV1, UnheardV1, control, eventually
from shared.testing.runs import RunServers

pytestmark = pytest.mark.integration


def _counter(metric, *labels) -> float:  # type: ignore[no-untyped-def]
    return metric.labels(*labels)._value.get()


async def _exactly_once(backbone: Backbone, envelopes) -> None:  # type: ignore[no-untyped-def]
    ids = [e.event_id for e in envelopes]

    async def all_there() -> bool:
        return len(await backbone.effect_counts(ids)) == len(ids)

    await eventually(all_there, 60, f"{len(ids)} effects")
    counts = await backbone.effect_counts(ids)
    assert set(counts.values()) == {1}, "an event had more than one effect"


async def test_the_same_event_delivered_twice_has_one_effect(backbone: Backbone) -> None:
    consumer = backbone.consumer("dup")
    await consumer.start()
    envelope = new_envelope(PingedV1(value=1), backbone.clock)
    message = message_for(envelope.event_type, envelope.model_dump(mode="json"))
    before = _counter(metrics.EVENTS_DUPLICATE, "dup", "backbone.pinged")

    assert await backbone.broker.publish_events([message, message]) == [None, None]

    await eventually(
        lambda: _counter(metrics.EVENTS_DUPLICATE, "dup", "backbone.pinged") == before + 1,
        what="the duplicate",
    )
    assert await backbone.effect_counts([envelope.event_id]) == {envelope.event_id: 1}


async def test_two_relays_share_the_outbox_without_publishing_twice(backbone: Backbone) -> None:
    consumer = backbone.consumer("relay", prefetch=200)
    await consumer.start()
    duplicates_before = _counter(metrics.EVENTS_DUPLICATE, "relay", "backbone.pinged")
    envelopes = []
    for start in range(0, 1_000, 100):
        envelopes += await backbone.emit(range(start, start + 100))
    stop = asyncio.Event()
    relays = [asyncio.create_task(backbone.relay(batch_size=50).run(stop)) for _ in range(2)]
    try:
        await _exactly_once(backbone, envelopes)
    finally:
        stop.set()
        await asyncio.gather(*relays)
    assert _counter(metrics.EVENTS_DUPLICATE, "relay", "backbone.pinged") == duplicates_before, (
        "a row was published twice"
    )


async def test_a_failing_handler_retries_with_back_off_then_dead_letters_and_replays(
    backbone: Backbone,
) -> None:
    consumer = backbone.consumer("retry", max_attempts=3, retry_delays_ms=[100, 200])
    await consumer.start()
    control.failing.add(7)
    envelope = new_envelope(PingedV1(value=7), backbone.clock)
    await backbone.broker.publish_events([message_for(envelope.event_type, envelope.model_dump(mode="json"))])

    async def dead_lettered() -> bool:
        return len(await list_dead_letters(backbone.broker, "retry")) == 1

    await eventually(dead_lettered, what="the dead letter")
    [letter] = await list_dead_letters(backbone.broker, "retry")
    assert letter.message_id == str(envelope.event_id)
    assert letter.attempts == 3
    assert "handler told to fail" in letter.error
    attempts = control.attempts[str(envelope.event_id)]
    assert len(attempts) == 3, "three attempts, no more"
    assert attempts[1] - attempts[0] >= 0.1 and attempts[2] - attempts[1] >= 0.2, "back-off between attempts"
    assert await backbone.effect_counts([envelope.event_id]) == {}
    assert len(await list_dead_letters(backbone.broker, "retry")) == 1, "listing leaves the letter in place"

    control.failing.discard(7)  # the cause is fixed
    assert await replay_dead_letters(backbone.broker, "retry") == 1
    await _exactly_once(backbone, [envelope])
    assert await list_dead_letters(backbone.broker, "retry") == []


async def test_a_message_that_is_not_an_event_goes_straight_to_the_dead_letters(backbone: Backbone) -> None:
    consumer = backbone.consumer("poison")
    await consumer.start()
    channel = await backbone.broker.channel()
    await backbone.broker.publish_to_queue(
        channel,
        OutgoingMessage(
            routing_key=Names(backbone.broker.namespace, "poison").queue,
            body=b"{not json",
            message_id="poison-1",
        ),
    )

    async def dead_lettered() -> bool:
        return [d.message_id for d in await list_dead_letters(backbone.broker, "poison")] == ["poison-1"]

    await eventually(dead_lettered, what="the poison message in the dead letters")
    [letter] = await list_dead_letters(backbone.broker, "poison")
    assert letter.attempts == 1 and "not an event envelope" in letter.error


async def test_a_consumer_killed_after_its_effect_and_before_its_ack_causes_no_double_effect(
    backbone: Backbone, test_servers: RunServers
) -> None:
    env = {**os.environ}
    dying = subprocess.Popen(  # noqa: ASYNC220 - the child is meant to be killed mid-flight
        [sys.executable, "-m", "shared.testing.backbone", backbone.database_url, test_servers.broker_url, backbone.broker.namespace, "killed"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert dying.stdout is not None
    assert (await asyncio.to_thread(dying.stdout.readline)).strip() == b"consuming"
    [envelope] = await backbone.emit([42])
    stop = asyncio.Event()
    relay = asyncio.create_task(backbone.relay().run(stop))
    try:
        assert await asyncio.to_thread(dying.wait, 30) == 3, "the consumer died right after committing"
        assert await backbone.effect_counts([envelope.event_id]) == {envelope.event_id: 1}

        before = _counter(metrics.EVENTS_DUPLICATE, "killed", "backbone.pinged")
        survivor = backbone.consumer("killed")
        await survivor.start()
        await eventually(
            lambda: _counter(metrics.EVENTS_DUPLICATE, "killed", "backbone.pinged") == before + 1,
            what="the redelivery",
        )
        assert await backbone.effect_counts([envelope.event_id]) == {envelope.event_id: 1}
    finally:
        stop.set()
        await relay


async def test_an_unroutable_event_is_noticed_and_not_marked_sent(backbone: Backbone) -> None:
    [envelope] = await backbone.emit([1], model=UnheardV1)
    relay = backbone.relay()
    published = await relay.publish_batch()
    assert published == 0
    async with backbone.sessions() as session:
        row = (await session.execute(select(outbox).where(outbox.c.event_id == envelope.event_id))).one()
    assert row.published_at is None
    assert row.attempts == 1
    assert "NO_ROUTE" in row.last_error or "PublishError" in row.last_error


async def test_an_event_no_service_consumes_goes_to_the_event_log_and_is_marked_sent(
    backbone: Backbone,
) -> None:
    await backbone.consumer(
        "unroutable"
    ).start()  # declares the namespace's queues, as every service does at start
    [envelope] = await backbone.emit([1], model=UnheardV1)
    # At least this one: the tests share one outbox, and the row the unroutable test left backed off
    # (0.5 s) is due again by now on a slow machine, and routable in this namespace.
    assert await backbone.relay().publish_batch() >= 1
    async with backbone.sessions() as session:
        row = (await session.execute(select(outbox).where(outbox.c.event_id == envelope.event_id))).one()
    assert row.published_at is not None and row.last_error is None
    channel = await backbone.broker.connection.channel()
    log = await channel.declare_queue(event_log_queue(backbone.broker.namespace), passive=True)
    assert log.declaration_result.message_count >= 1


async def test_events_written_while_the_broker_is_down_wait_in_the_outbox_and_arrive_after(
    backbone_database: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from shared.testing.servers import PrivateRabbitMQ, free_port

    rabbit = PrivateRabbitMQ(tmp_path / "rabbitmq", free_port())
    await asyncio.to_thread(rabbit.start)
    backbone = Backbone(backbone_database, rabbit.url, "restart")
    stop = asyncio.Event()
    relay: asyncio.Task[None] | None = None
    try:
        await backbone.broker.connect()
        await backbone.consumer("restart").start()
        relay = asyncio.create_task(backbone.relay(poll_interval_s=0.5).run(stop))
        before = await backbone.emit(range(50))
        await _exactly_once(backbone, before)

        await asyncio.to_thread(rabbit.stop)
        during = await backbone.emit(range(50, 100))
        await asyncio.sleep(1.0)
        async with backbone.sessions() as session:
            waiting = (await session.execute(
                select(outbox.c.event_id).where(outbox.c.published_at.is_(None), outbox.c.event_id.in_([e.event_id for e in during]))
            )).all()  # fmt: skip
        assert len(waiting) == 50, "with the broker down the events stay unsent in the outbox"

        await asyncio.to_thread(rabbit.start)
        # The robust connection restores the consumer; the relay publishes what waited.
        await _exactly_once(backbone, [*before, *during])
    finally:
        stop.set()
        if relay is not None:
            await relay
        await backbone.close()
        await asyncio.to_thread(rabbit.stop)
