"""Every process loads a published holiday notice, not one replica per service: each listens on a queue of its
own (shared.holiday_notices.LISTENER), beside the service's shared durable queue."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from shared.calendar import WorkingCalendar
from shared.clock import FixedClock
from shared.events import new_envelope
from shared.events.broker import Broker
from shared.events.relay import message_for
from shared.events.topology import declare_exchange
from shared.holiday_notices import announcement, listen_in_this_process, notice_table
from shared.testing.runs import RunServers, delete_broker_namespace

pytestmark = pytest.mark.integration

NOTICE = {
    "year": 2032,
    "source": "测试",
    "holidays": [{"date": "2032-01-02", "name": "元旦"}],
    "workdays": [],
}


@dataclass
class Process:
    """What the listener reads of a service's runtime: its broker connection and its stop signal."""

    broker: Broker
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    service: str = "facility"
    clock: FixedClock = field(default_factory=lambda: FixedClock(datetime(2026, 12, 6, tzinfo=UTC)))


class CountingCalendar(WorkingCalendar):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load_notice(self, table, version):  # type: ignore[no-untyped-def]
        # Only this test's year: other apps of the test process (a service harness) listen too.
        self.loads += table.year == 2032
        return super().load_notice(table, version)


async def test_two_replicas_of_a_service_both_load_one_announcement(
    test_servers: RunServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendar = CountingCalendar()
    monkeypatch.setattr("shared.holiday_notices.default_calendar", lambda: calendar)
    namespace = f"{test_servers.namespace}hn{uuid.uuid4().hex[:6]}"
    replicas = [Process(Broker(test_servers.broker_url, namespace)) for _ in range(2)]
    for replica in replicas:
        await replica.broker.connect()
    watcher = Broker(test_servers.broker_url, namespace)
    await watcher.connect()
    channel = await watcher.channel()
    requests = await channel.declare_queue(exclusive=True)
    await requests.bind(await declare_exchange(channel, namespace), routing_key="calendar.notices_requested")
    listening = [asyncio.create_task(listen_in_this_process(r)) for r in replicas]  # type: ignore[arg-type]
    try:
        await asyncio.sleep(1.0)  # both queues declared and bound (a wait for set-up, not a speed check)
        envelope = new_envelope(announcement(uuid.uuid4(), notice_table(NOTICE), 1, "admin-b"),
                                FixedClock(datetime(2026, 12, 6, tzinfo=UTC)))  # fmt: skip
        publisher = Broker(test_servers.broker_url, namespace)
        await publisher.connect()
        assert await publisher.publish_events(
            [message_for(envelope.event_type, envelope.model_dump(mode="json"))]
        ) == [None]
        await publisher.close()
        for _ in range(100):
            if calendar.loads >= 2:
                break
            await asyncio.sleep(0.1)
        assert calendar.loads == 2  # once per process
        # Each process asked the owner to announce the published notices again when it started listening.
        await asyncio.sleep(3.0)  # listening on: a listener asks once, not again and again
        assert (await requests.declare()).message_count == 2
        assert calendar.day(datetime(2032, 1, 2).date()).provisional is False
    finally:
        for replica in replicas:
            replica.stop.set()
        await asyncio.gather(*listening)
        for replica in replicas:
            await replica.broker.close()
        await watcher.close()
        await delete_broker_namespace(test_servers.broker_url, namespace, [])
