"""pytest plugin: every test run gets its own database and broker namespace, and removes them.

The servers are the ones at YB_TEST_DATABASE_ADMIN_URL / YB_TEST_BROKER_URL (default: the
standard local ports); where none answers, private ones are started for the run from the
installed binaries and stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
SERVICES = ("registration", "claims", "settlement", "transfer", "facility")


@dataclass(frozen=True)
class RunServers:
    admin_url: str  # administrator URL of the run's own database
    broker_url: str
    namespace: str  # prefix of the run's exchange and queues
    scratch: Path


def _run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def test_servers() -> Iterator[RunServers]:
    with isolated_servers() as servers:
        yield servers


@contextlib.contextmanager
def isolated_servers() -> Iterator[RunServers]:
    """A database and broker namespace of this run's own (benchmarks use it too), removed afterwards."""
    from shared.migrations import create_database, drop_database
    from yb_deploy.servers import PrivatePostgres, PrivateRabbitMQ, free_port, postgres_answers, rabbitmq_answers

    scratch = Path(tempfile.mkdtemp(prefix="yb-test-"))
    started: list = []
    admin_url = os.environ.get("YB_TEST_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    if not asyncio.run(postgres_answers(admin_url)):
        private = PrivatePostgres(scratch / "postgres", free_port())
        private.start()
        started.append(private)
        admin_url = private.admin_url
    broker_url = os.environ.get("YB_TEST_BROKER_URL", DEFAULT_BROKER_URL)
    if not asyncio.run(rabbitmq_answers(broker_url)):
        rabbit = PrivateRabbitMQ(scratch / "rabbitmq", free_port())
        rabbit.start()
        started.append(rabbit)
        broker_url = rabbit.url
    run = _run_id()
    database_url = make_url(admin_url).set(database=f"yb_test_{run}").render_as_string(hide_password=False)
    asyncio.run(create_database(admin_url, f"yb_test_{run}"))
    try:
        yield RunServers(database_url, broker_url, f"t{run}", scratch)
    finally:
        asyncio.run(drop_database(admin_url, f"yb_test_{run}"))
        asyncio.run(delete_broker_namespace(broker_url, f"t{run}", SERVICES))
        for server in reversed(started):
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


RETRY_DELAYS_USED_IN_TESTS = (100, 200, 500, 1_000, 5_000, 30_000)


async def delete_broker_namespace(broker_url: str, namespace: str, services) -> None:  # type: ignore[no-untyped-def]
    """Remove the exchange and the services' queues a run declared under `namespace`."""
    import aio_pika

    from shared.events.topology import delete_namespace

    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        await delete_namespace(channel, namespace, services, RETRY_DELAYS_USED_IN_TESTS)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def migrated_database(test_servers: RunServers) -> str:
    """The run's database with every service's roles, schemas and migrations: its admin URL."""
    from shared.migrations import bootstrap, service_database_url, upgrade
    from yb_deploy.platform import REPO

    asyncio.run(bootstrap(test_servers.admin_url, SERVICES))
    for service in SERVICES:
        upgrade(REPO / f"svc-{service}", service_database_url(test_servers.admin_url, service))
    return test_servers.admin_url


def platform_config_for(servers: RunServers, **extra_env: str):  # type: ignore[no-untyped-def]
    """The whole platform on this run's database and namespace, on free ports (e2e tests, benchmarks)."""
    from yb_deploy.platform import DEFAULT_PORTS, PlatformConfig
    from yb_deploy.servers import free_port

    return PlatformConfig(
        data_dir=servers.scratch / "platform",
        admin_database_url=servers.admin_url,
        broker_url=servers.broker_url,
        broker_namespace=servers.namespace,
        ports={process: free_port() for process in DEFAULT_PORTS},
        environment="test",
        extra_env=extra_env,
    )
