from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import pytest

from shared.testing.backbone import Backbone, create_schema
from shared.testing.runs import RunServers, delete_broker_namespace

_schema_ready: set[str] = set()
_counter = itertools.count()


@pytest.fixture(scope="session")
def backbone_database(test_servers: RunServers) -> str:
    if test_servers.admin_url not in _schema_ready:
        asyncio.run(create_schema(test_servers.admin_url))
        _schema_ready.add(test_servers.admin_url)
    return test_servers.admin_url


@pytest.fixture
async def backbone(backbone_database: str, test_servers: RunServers) -> AsyncIterator[Backbone]:
    """A connected backbone in a namespace of its own, removed after the test."""
    namespace = f"{test_servers.namespace}b{next(_counter)}{uuid.uuid4().hex[:4]}"
    harness = Backbone(backbone_database, test_servers.broker_url, namespace)
    await harness.broker.connect()
    yield harness
    await harness.close()
    await remove_namespace(test_servers.broker_url, namespace)


async def remove_namespace(broker_url: str, namespace: str) -> None:
    consumers = ("dup", "relay", "retry", "poison", "killed", "restart", "unroutable")
    await delete_broker_namespace(broker_url, namespace, consumers)
