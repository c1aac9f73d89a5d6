"""The registration service app on the run's database, with a token issuer of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.migrations import service_database_url
from shared.testing.plugin import RunServers, delete_broker_namespace

ISSUER, AUDIENCE = "https://auth.yibao.local", "yibao-platform"


class Harness:
    def __init__(self, client: TestClient, issuer: DevIssuer):
        self.client, self.issuer = client, issuer

    def token(self, role: Role = Role.insured, **claims) -> dict[str, str]:  # type: ignore[no-untyped-def]
        claims.setdefault("person_id", uuid.uuid4()) if role is Role.insured else None
        principal = Principal(subject=claims.pop("subject", f"{role.value}-{uuid.uuid4().hex[:6]}"), role=role, **claims)
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}

    def business_date(self, day: str | None) -> None:
        """Move the service's business date (None: back to today)."""
        answer = self.client.put("/api/v1/registration/admin/business-date", json={"date": day}, headers=self.token(Role.admin))
        assert answer.status_code == 200, answer.text


# Module scope: the app's outbox relay shares the run's registration schema with the end-to-end
# platform, so it must be gone before that starts (else it would publish the platform's events).
@pytest.fixture(scope="module")
def registration(migrated_database: str, test_servers: RunServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    from svc_registration.main import create_app
    from svc_registration.settings import RegistrationSettings

    keys: Path = tmp_path_factory.mktemp("keys")
    issuer = DevIssuer.load_or_create(keys, ISSUER, AUDIENCE)
    namespace = f"{test_servers.namespace}r"
    settings = RegistrationSettings(
        environment="test", database_url=service_database_url(migrated_database, "registration"), database_pool_size=3,
        broker_url=test_servers.broker_url, broker_namespace=namespace, auth_jwks_file=keys / JWKS_FILE, log_json=False,
        auth_issuer=ISSUER, auth_audience=AUDIENCE,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield Harness(client, issuer)
    asyncio.run(delete_broker_namespace(test_servers.broker_url, namespace, ["registration"]))
