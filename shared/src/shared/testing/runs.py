"""What a test run or benchmark is given: its own database and broker namespace (yb_deploy.pytest_plugin makes
them), and the removal of a namespace's exchange and queues afterwards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RETRY_DELAYS_USED_IN_TESTS = (100, 200, 500, 1_000, 5_000, 30_000)


@dataclass(frozen=True)
class RunServers:
    admin_url: str  # administrator URL of the run's own database
    broker_url: str
    namespace: str  # prefix of the run's exchange and queues
    scratch: Path


async def delete_broker_namespace(broker_url: str, namespace: str, services: Iterable[str]) -> None:
    """Remove the exchange and the services' queues a run declared under `namespace`."""
    import aio_pika

    from shared.events.topology import delete_namespace

    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        await delete_namespace(channel, namespace, tuple(services), RETRY_DELAYS_USED_IN_TESTS)
    finally:
        await connection.close()
