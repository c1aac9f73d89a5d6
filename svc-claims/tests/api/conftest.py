"""The claims service app on the run's database, with a token issuer of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.testing.runs import RunServers
from shared.testing.service_app import Harness, service_app


@pytest.fixture(scope="session")
def claims(
    migrated_database: str, test_servers: RunServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    from svc_claims.main import create_app
    from svc_claims.settings import ClaimsSettings

    with service_app(
        "claims", create_app, ClaimsSettings, migrated_database, test_servers, tmp_path_factory
    ) as harness:
        yield harness
