"""pytest plugin: every test run gets its own database and broker namespace, and removes them.

The servers are the ones at YB_TEST_DATABASE_ADMIN_URL / YB_TEST_BROKER_URL (default: the
standard local ports); where none answers, private ones are started for the run from the
installed binaries and stopped at the end. It knows the platform (its services, where their
migrations are, how to start it all), so it lives here rather than in shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.migrations import bootstrap, create_database, drop_database, service_database_url, upgrade
from shared.testing.runs import RunServers, delete_broker_namespace
from shared.testing.servers import (
    PrivatePostgres,
    PrivateRabbitMQ,
    free_port,
    postgres_answers,
    rabbitmq_answers,
)
from yb_deploy import leftovers
from yb_deploy.platform import DEFAULT_PORTS, REPO, PlatformConfig

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
SERVICES = ("registration", "claims", "settlement", "transfer", "facility")


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis' per-example deadline is a timing assert: on a busy 2-core machine it fails correct code.
    from hypothesis import settings

    settings.register_profile("yibao", deadline=None)
    settings.load_profile("yibao")


@pytest.fixture(scope="session")
def test_servers() -> Iterator[RunServers]:
    with isolated_servers() as servers:
        yield servers


@contextlib.contextmanager
def isolated_servers() -> Iterator[RunServers]:
    """A database and broker namespace of this run's own (benchmarks use it too), removed afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="yb-test-"))
    started: list[PrivatePostgres | PrivateRabbitMQ] = []
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
    leftovers.remove_abandoned(admin_url, broker_url, SERVICES)
    run = uuid.uuid4().hex[:10]
    database = f"yb_test_{run}"
    database_url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    servers = RunServers(database_url, broker_url, f"t{run}", scratch)
    with leftovers.held(servers, database):
        asyncio.run(create_database(admin_url, database))
        try:
            yield servers
        finally:
            asyncio.run(drop_database(admin_url, database))
            asyncio.run(delete_broker_namespace(broker_url, servers.namespace, SERVICES))
            for server in reversed(started):
                server.stop()
            shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_database(test_servers: RunServers) -> str:
    """The run's database with every service's roles, schemas and migrations: its admin URL."""
    asyncio.run(bootstrap(test_servers.admin_url, SERVICES))
    for service in SERVICES:
        upgrade(REPO / f"svc-{service}", service_database_url(test_servers.admin_url, service))
    return test_servers.admin_url


def platform_config_for(servers: RunServers, **extra_env: str) -> PlatformConfig:
    """The whole platform on this run's database and namespace, on free ports (e2e tests, benchmarks)."""
    return PlatformConfig(
        data_dir=servers.scratch / "platform",
        admin_database_url=servers.admin_url,
        broker_url=servers.broker_url,
        broker_namespace=servers.namespace,
        ports={process: free_port() for process in DEFAULT_PORTS},
        environment="test",
        extra_env=extra_env,
    )
