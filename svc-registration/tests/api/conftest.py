"""The registration service app on the run's database, with a token issuer of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.testing.runs import RunServers
from shared.testing.service_app import Harness, service_app


# Module scope: the app's outbox relay shares the run's registration schema with the end-to-end
# platform, so it must be gone before that starts (else it would publish the platform's events).
@pytest.fixture(scope="module")
def registration(
    migrated_database: str, test_servers: RunServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    from svc_registration.main import create_app
    from svc_registration.settings import RegistrationSettings

    with service_app(
        "registration", create_app, RegistrationSettings, migrated_database, test_servers, tmp_path_factory
    ) as harness:
        yield harness
