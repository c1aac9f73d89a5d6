"""The whole platform for a benchmark: on a database and broker namespace of its own, started and ready,
with a token issuer for its gateway; stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.auth import Principal
from shared.testing.runs import RunServers
from yb_deploy.platform import (
    PlatformConfig,
    prepare,
    start_all,
    stop_all,
    wait_until_ready,
)
from yb_deploy.pytest_plugin import platform_config_for

try:
    from shared.testing.tokens import ListingIssuer
except (
    ImportError
):  # the previous implementation (bench.compare): its test gateway took any subject its key signed
    from shared.auth.issuer import DevIssuer
    from shared.testing.service_app import AUDIENCE, ISSUER

    class ListingIssuer:  # type: ignore[no-redef]
        def __init__(self, keys_dir: Path):
            self._issuer = DevIssuer.load_or_create(keys_dir, ISSUER, AUDIENCE)

        def list(self, principals: list[Principal]) -> None:
            """Nothing to list: that gateway knew no account file."""

        def issue(self, principal: Principal, ttl_s: int = 3600, now: float | None = None) -> str:
            return self._issuer.issue(principal, ttl_s=ttl_s, now=now)


# All clients come from this one machine: the gateway's per-client limit (50/s) would only measure itself.
NO_RATE_LIMIT = {"YB_GATEWAY_RATE_LIMIT_PER_S": "1000000", "YB_GATEWAY_RATE_LIMIT_BURST": "1000000"}


@contextmanager
def running_platform(servers: RunServers, replicas: int = 1, ready_timeout_s: float = 120,
                     **environment: str) -> Iterator[tuple[PlatformConfig, ListingIssuer]]:  # fmt: skip
    config = platform_config_for(servers, YB_LOG_LEVEL="WARNING", **environment)
    config.replicas = replicas
    prepare(config)
    start_all(config)
    try:
        wait_until_ready(config, timeout_s=ready_timeout_s)
        yield config, ListingIssuer(config.keys_dir)  # each principal listed with the gateway
    finally:
        stop_all(config)
