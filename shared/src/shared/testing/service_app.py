"""One service's app on the run's database, with a token issuer of its own: the API tests' harness.

@pytest.fixture(scope="module")
def claims(migrated_database, test_servers, tmp_path_factory):
    from svc_claims.main import create_app
    from svc_claims.settings import ClaimsSettings
    with service_app("claims", create_app, ClaimsSettings, migrated_database, test_servers, tmp_path_factory) as harness:
        yield harness
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from shared.testing.runs import RunServers, delete_broker_namespace

ISSUER, AUDIENCE = "https://auth.yibao.local", "yibao-platform"


class Harness:
    def __init__(self, service: str, client: TestClient, issuer: DevIssuer):
        self.service, self.client, self.issuer = service, client, issuer

    def token(self, role: Role = Role.insured, **claims: Any) -> dict[str, str]:
        """A bearer header for a principal of `role` (an insured person gets a fresh person id unless given)."""
        if role is Role.insured:
            claims.setdefault("person_id", uuid.uuid4())
        principal = Principal(
            subject=claims.pop("subject", f"{role.value}-{uuid.uuid4().hex[:6]}"), role=role, **claims
        )
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    def business_date(self, day: str | None) -> None:
        """Move the service's business date (None: back to today)."""
        answer = self.client.put(
            f"/api/v1/{self.service}/admin/business-date", json={"date": day}, headers=self.token(Role.admin)
        )
        assert answer.status_code == 200, answer.text


@contextmanager
def service_app(
    service: str, create_app: Callable[[Any], Any], settings_class: type, migrated_database: str, servers: RunServers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Harness]:  # fmt: skip
    """The app running (its consumer, relay and jobs too) on the service's schema and a broker namespace
    of its own, removed afterwards (the e2e platform has a database and namespace of its own)."""
    keys = tmp_path_factory.mktemp("keys")
    issuer = DevIssuer.load_or_create(keys, ISSUER, AUDIENCE)
    namespace = f"{servers.namespace}{service[0]}"
    settings = settings_class(
        environment="test", database_url=service_database_url(migrated_database, service), database_pool_size=3,
        broker_url=servers.broker_url, broker_namespace=namespace, auth_jwks_file=keys / JWKS_FILE, log_json=False,
        auth_issuer=ISSUER, auth_audience=AUDIENCE,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield Harness(service, client, issuer)
    asyncio.run(delete_broker_namespace(servers.broker_url, namespace, [service]))


async def in_schema(
    database_url: str, service: str, work: Callable[[UnitOfWork], Awaitable[Any]], at: datetime
) -> Any:
    """``work(uow)`` in one committed unit of work on the service's schema, at a fixed time: what a job
    or a consumer of the service does, run by a test."""
    engine = make_engine(service_database_url(database_url, service), 2, schema=service)
    try:
        async with UnitOfWork(make_session_factory(engine), FixedClock(at), service) as uow:
            result = await work(uow)
            await uow.commit()
            return result
    finally:
        await engine.dispose()
