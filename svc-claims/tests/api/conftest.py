"""The claims service app on the run's database, with a token issuer of its own."""

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
        answer = self.client.put("/api/v1/claims/admin/business-date", json={"date": day}, headers=self.token(Role.admin))
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="session")
def claims(migrated_database: str, test_servers: RunServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    from svc_claims.main import create_app
    from svc_claims.settings import ClaimsSettings

    keys: Path = tmp_path_factory.mktemp("keys")
    issuer = DevIssuer.load_or_create(keys, ISSUER, AUDIENCE)
    namespace = f"{test_servers.namespace}c"
    settings = ClaimsSettings(
        environment="test", database_url=service_database_url(migrated_database, "claims"), database_pool_size=3,
        broker_url=test_servers.broker_url, broker_namespace=namespace, auth_jwks_file=keys / JWKS_FILE, log_json=False,
        auth_issuer=ISSUER, auth_audience=AUDIENCE,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield Harness(client, issuer)
    asyncio.run(delete_broker_namespace(test_servers.broker_url, namespace, ["claims"]))


