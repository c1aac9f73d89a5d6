"""Queues exist before any service starts, so an early event is kept for a service still starting."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from shared.testing.runs import RunServers, delete_broker_namespace
from yb_deploy.platform import SERVICES, declare_event_queues
from yb_deploy.pytest_plugin import platform_config_for


async def publish_then_count(config, routing_key: str, services: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    connection = await aio_pika.connect(config.broker_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(f"{config.broker_namespace}.events")
        await exchange.publish(
            aio_pika.Message(b"{}", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key,
            mandatory=True,
        )
        counts = {}
        for service in services:
            queue = await channel.declare_queue(f"{config.broker_namespace}.{service}", passive=True)
            counts[service] = queue.declaration_result.message_count
        return counts
    finally:
        await connection.close()


@pytest.mark.integration
def test_an_event_published_before_its_consumers_start_waits_in_their_queues(
    test_servers: RunServers,
) -> None:
    config = platform_config_for(test_servers)
    config.broker_namespace += "q"  # no running consumer of this run may take the test's message
    asyncio.run(declare_event_queues(config))
    try:
        counts = asyncio.run(
            publish_then_count(config, "facility.designated", ["registration", "settlement", "claims"])
        )
    finally:
        asyncio.run(delete_broker_namespace(config.broker_url, config.broker_namespace, SERVICES))
    assert counts["registration"] >= 1 and counts["settlement"] >= 1 and counts["claims"] >= 1
