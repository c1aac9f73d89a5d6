"""The whole platform running for the test run: every process started, all traffic through the gateway."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shared.testing.e2e import FAST_INTEROP
from shared.testing.runs import RunServers
from yb_deploy.platform import PlatformConfig, prepare, start_all, stop_all, wait_until_ready
from yb_deploy.pytest_plugin import isolated_servers, platform_config_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def test_servers() -> Iterator[RunServers]:
    """The e2e platform's own database and broker namespace, not the run's: the API tests' apps and
    helpers write to the run's schemas, and what they leave there (unsent outbox rows, inbox rows) would
    otherwise be published by the platform's relays and queue up ahead of the e2e tests' own events."""
    with isolated_servers() as servers:
        yield servers


@pytest.fixture(scope="session")
def platform(test_servers: RunServers) -> Iterator[PlatformConfig]:
    config = platform_config_for(
        test_servers,
        YB_LOG_JSON="true",
        YB_CONSUMER_RETRY_DELAYS_MS="[200,500]",
        YB_PERIODIC_INTERVAL_S="1",
        **FAST_INTEROP,
        YB_GATEWAY_TOKEN_TTL_S="3600",  # the session's tokens are signed in once, for the whole run
    )
    prepare(config)
    start_all(config)
    try:
        wait_until_ready(config, timeout_s=120)
        yield config
    finally:
        stop_all(config)


@pytest.fixture(scope="session")
def gateway(platform: PlatformConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def tokens(gateway: httpx.Client) -> dict[str, str]:
    """A token per demo account, from the gateway's token endpoint."""
    from gateway.accounts import load_demo_accounts

    issued = {}
    for account in load_demo_accounts():
        response = gateway.post(
            "/api/v1/auth/token", data={"username": account.username, "password": account.password}
        )
        response.raise_for_status()
        issued[account.username] = response.json()["access_token"]
    return issued
