"""A broker killed for real (SIGKILL, a private RabbitMQ node): the process says so once, reconnects at
the configured interval, and its consumer is attached again, not only connected."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

import pytest

from shared.testing.backbone import Backbone, create_schema, eventually
from shared.testing.runs import RunServers
from shared.testing.servers import PrivateRabbitMQ, free_port

pytestmark = pytest.mark.integration

LIBRARY_LOGGERS = ("aiormq", "aio_pika")
QUEUES_SETTLE_S = 5


async def test_a_killed_broker_is_logged_once_and_the_consumer_attaches_again_after_it_returns(
    test_servers: RunServers, caplog: pytest.LogCaptureFixture
) -> None:
    await create_schema(test_servers.admin_url)
    # Not under pytest's tmp_path: concurrent pytest runs prune old basetemp folders while we run.
    folder = Path(tempfile.mkdtemp(prefix="yb-recovery-"))
    rabbit = PrivateRabbitMQ(folder / "rabbitmq", free_port())
    await asyncio.to_thread(rabbit.start)
    backbone = Backbone(test_servers.admin_url, rabbit.url, "recovery")
    consumer = backbone.consumer("recovery")
    stop = asyncio.Event()
    try:
        await backbone.broker.connect()
        await consumer.start()
        relay = asyncio.create_task(backbone.relay().run(stop))
        await eventually(lambda: consumer.is_attached, 10, "the consumer to attach")
        # The interval is ours (about 1 s), not the client library's default 5 s.
        assert 0.8 <= backbone.broker.connection.reconnect_interval <= 1.2  # type: ignore[union-attr]

        # A single RabbitMQ node killed within about a second of declaring a quorum queue may come
        # back without it (its consume is then never answered): give it time to write them down, as
        # a deployment's queues, declared at bootstrap, long have been.
        await asyncio.sleep(QUEUES_SETTLE_S)
        caplog.set_level(logging.INFO)
        caplog.clear()
        await asyncio.to_thread(rabbit.kill)
        await eventually(lambda: not consumer.is_attached, 10, "the consumer to notice")
        assert not backbone.broker.is_connected
        during = await backbone.emit(range(10))  # written while the broker is away: they wait
        await asyncio.sleep(3)  # several reconnect attempts fail meanwhile

        await asyncio.to_thread(rabbit.start)
        await eventually(lambda: consumer.is_attached, 30, "the consumer to attach again")
        await eventually(lambda: backbone.broker.disconnected_s is None, 10, "the recovery to be noted")

        async def delivered_once() -> bool:
            counts = await backbone.effect_counts([e.event_id for e in during])
            return len(counts) == len(during) and set(counts.values()) == {1}

        await eventually(delivered_once, 30, "the events written during the outage")
    finally:
        stop.set()
        await asyncio.gather(relay, return_exceptions=True)
        await backbone.close()
        await asyncio.to_thread(rabbit.stop)
        shutil.rmtree(folder, ignore_errors=True)

    ours = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "shared.events.broker"]
    assert [level for level, _ in ours] == ["WARNING", "INFO"], ours
    assert "broker connection lost" in ours[0][1] and "broker connection restored after" in ours[1][1]
    noise = [
        (r.name, r.getMessage())
        for r in caplog.records
        if r.name.startswith(LIBRARY_LOGGERS) and r.levelno >= logging.WARNING
    ]
    assert noise == [], noise[:5]
