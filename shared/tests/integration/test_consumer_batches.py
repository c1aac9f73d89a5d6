"""A consumer applies a burst of deliveries in batches (one transaction for many messages), and a
failing message in a batch is isolated: the others are applied once, it alone is retried."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import text

from shared.events import Envelope, new_envelope
from shared.events.deadletters import list_dead_letters
from shared.events.relay import message_for
from shared.events.topology import Names, declare_service_queues
from shared.testing.backbone import Backbone, PingedV1, control, eventually
from shared.testing.runs import RunServers, delete_broker_namespace

pytestmark = pytest.mark.integration

CONSUMERS = ("burst", "isolated", "trickle", "eager", "choosy")
RETRY_DELAYS_MS = [100, 200]


@pytest.fixture
async def harness(backbone_database: str, test_servers: RunServers) -> AsyncIterator[Backbone]:
    namespace = f"{test_servers.namespace}cb{uuid.uuid4().hex[:6]}"
    backbone = Backbone(backbone_database, test_servers.broker_url, namespace)
    await backbone.broker.connect()
    yield backbone
    await backbone.close()
    await delete_broker_namespace(test_servers.broker_url, namespace, CONSUMERS)


async def queued_before_consuming(backbone: Backbone, consumer: str, values: Sequence[int]) -> list[Envelope]:
    """Publish while nobody consumes, so the consumer finds them all waiting, as after a pause."""
    channel = await backbone.broker.channel()
    queue = await declare_service_queues(
        channel, Names(backbone.broker.namespace, consumer), ["backbone.pinged"], RETRY_DELAYS_MS
    )
    envelopes = [new_envelope(PingedV1(value=v), backbone.clock) for v in values]
    messages = [message_for(e.event_type, e.model_dump(mode="json")) for e in envelopes]
    assert set(await backbone.broker.publish_events(messages)) == {None}
    while (await queue.declare()).message_count < len(values):
        await asyncio.sleep(0.05)
    await channel.close()
    return envelopes


async def transactions_that_wrote(backbone: Backbone, envelopes: Sequence[Envelope]) -> int:
    async with backbone.sessions() as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(DISTINCT xmin::text) FROM effects WHERE event_id = ANY(:ids)"),
                    {"ids": [e.event_id for e in envelopes]},
                )
            ).scalar_one()
        )


async def all_applied_once(backbone: Backbone, envelopes: Sequence[Envelope]) -> None:
    ids = [e.event_id for e in envelopes]

    async def all_there() -> bool:
        return len(await backbone.effect_counts(ids)) == len(ids)

    await eventually(all_there, 60, f"{len(ids)} effects")
    assert set((await backbone.effect_counts(ids)).values()) == {1}, "an event had more than one effect"


async def test_a_burst_of_deliveries_is_applied_once_each_in_far_fewer_transactions_than_messages(
    harness: Backbone,
) -> None:
    envelopes = await queued_before_consuming(harness, "burst", range(1000, 1300))
    consumer = harness.consumer("burst", prefetch=100, retry_delays_ms=RETRY_DELAYS_MS)
    await consumer.start()

    await all_applied_once(harness, envelopes)
    assert await transactions_that_wrote(harness, envelopes) <= len(envelopes) // 2
    await consumer.stop()


async def trickle(backbone: Backbone, values: Sequence[int], gap_s: float) -> list[Envelope]:
    """Publish one at a time, `gap_s` apart, to a consumer that is already waiting."""
    envelopes = [new_envelope(PingedV1(value=v), backbone.clock) for v in values]
    for envelope in envelopes:
        assert await backbone.broker.publish_events(
            [message_for(envelope.event_type, envelope.model_dump(mode="json"))]
        ) == [None]
        await asyncio.sleep(gap_s)
    return envelopes


@pytest.mark.parametrize(
    ("consumer_name", "linger_s", "transactions"),
    [("trickle", 0.5, range(1, 2)), ("eager", 0.0, range(2, 6))],
)
async def test_a_consumer_that_lingers_gathers_a_trickle_of_deliveries_into_one_transaction(
    harness: Backbone, consumer_name: str, linger_s: float, transactions: range
) -> None:
    # Five deliveries 20 ms apart: one transaction when the consumer waits half a second after the
    # first, several without waiting (the control: the test cannot pass by accident).
    consumer = harness.consumer(
        consumer_name, prefetch=64, retry_delays_ms=RETRY_DELAYS_MS, linger_s=linger_s
    )
    await consumer.start()
    try:
        envelopes = await trickle(harness, range(3000, 3005), gap_s=0.02)
        await all_applied_once(harness, envelopes)
        assert await transactions_that_wrote(harness, envelopes) in transactions
    finally:
        await consumer.stop()


async def test_a_failing_message_in_a_batch_is_retried_alone_and_the_others_are_applied_once(
    harness: Backbone,
) -> None:
    failing = 2013
    envelopes = await queued_before_consuming(harness, "isolated", range(2000, 2040))
    control.failing.add(failing)
    consumer = harness.consumer("isolated", prefetch=64, max_attempts=3, retry_delays_ms=RETRY_DELAYS_MS)
    await consumer.start()
    try:
        others = [e for e in envelopes if e.payload["value"] != failing]
        [bad] = [e for e in envelopes if e.payload["value"] == failing]
        await all_applied_once(harness, others)

        async def dead_lettered() -> bool:
            return len(await list_dead_letters(harness.broker, "isolated")) == 1

        await eventually(dead_lettered, what="the failing message in the dead letters")
        [letter] = await list_dead_letters(harness.broker, "isolated")
        assert letter.message_id == str(bad.event_id) and letter.attempts == 3
        assert await harness.effect_counts([bad.event_id]) == {}
        assert set((await harness.effect_counts([e.event_id for e in others])).values()) == {1}
    finally:
        control.failing.discard(failing)
        await consumer.stop()


async def inbox_rows(backbone: Backbone, consumer: str) -> int:
    async with backbone.sessions() as session:
        statement = text("SELECT count(*) FROM inbox WHERE consumer = :consumer")
        return int((await session.execute(statement, {"consumer": consumer})).scalar_one())


async def test_events_a_subscription_does_not_concern_are_acked_with_no_inbox_row_and_no_effect(
    harness: Backbone,
) -> None:
    envelopes = await queued_before_consuming(harness, "choosy", range(4000, 4040))
    consumer = harness.consumer(
        "choosy", concerns=lambda p: p.value % 2 == 0, prefetch=64, retry_delays_ms=RETRY_DELAYS_MS
    )
    await consumer.start()
    try:
        concerned = [e for e in envelopes if e.payload["value"] % 2 == 0]
        passed_over = [e for e in envelopes if e.payload["value"] % 2 == 1]
        await all_applied_once(harness, concerned)
        # One passed-over event alone (a batch of one) and one beside a concerned one.
        alone_and_beside = await trickle(harness, [4041, 4043, 4044], gap_s=0.3)
        await all_applied_once(harness, alone_and_beside[2:])
        await asyncio.sleep(0.5)  # the acks on their way
    finally:
        await consumer.stop()
    # Closing the connection gives back whatever was left unacked: nothing may be.
    await harness.broker.close()
    await harness.broker.connect()
    assert await waiting_in(harness, "choosy") == 0
    assert await harness.effect_counts([e.event_id for e in passed_over + alone_and_beside[:2]]) == {}
    assert await inbox_rows(harness, "choosy") == len(concerned) + 1
    assert await list_dead_letters(harness.broker, "choosy") == []


async def waiting_in(backbone: Backbone, consumer: str) -> int:
    channel = await backbone.broker.channel()
    queue = await declare_service_queues(
        channel, Names(backbone.broker.namespace, consumer), ["backbone.pinged"], RETRY_DELAYS_MS
    )
    count = (await queue.declare()).message_count
    await channel.close()
    return count or 0
