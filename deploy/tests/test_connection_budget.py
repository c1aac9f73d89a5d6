"""The database connections a process holds: bounded by its pool, given back when idle, and never all
taken by HTTP requests (the whole platform at rest is measured in tests-e2e/test_outages.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.db import make_engine, release_idle_connections
from shared.service import build_runtime
from shared.settings import DATABASE_BACKGROUND_CONNECTIONS, CommonSettings
from shared.testing.runs import RunServers


@pytest.mark.parametrize(
    ("pool", "prefetch", "requests"), [(10, 64, 7), (10, 8, 7), (6, 4, 3), (3, 8, 1), (2, 8, 1)]
)
def test_requests_never_take_the_connections_of_the_relay_the_audit_and_the_consumer(
    pool: int, prefetch: int, requests: int, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    DevIssuer.load_or_create(tmp_path, "https://auth.test", "yibao-test")
    settings = CommonSettings(environment="test", database_pool_size=pool, consumer_prefetch=prefetch,
                              auth_jwks_file=tmp_path / JWKS_FILE)  # fmt: skip
    assert settings.database_request_connections == requests
    assert requests <= max(1, pool - DATABASE_BACKGROUND_CONNECTIONS)
    runtime = build_runtime("budget", settings, [])
    assert runtime.consumer._prefetch == prefetch  # what the consumer asks the broker for (basic.qos)
    assert runtime.consumer._workers == 1, "the consumer applies its batches holding one connection"


def test_the_defaults_are_a_pool_of_10_a_prefetch_of_64_and_one_connection_kept_at_rest() -> None:
    settings = CommonSettings(environment="test")
    assert (settings.database_pool_size, settings.consumer_concurrency, settings.database_pool_min_idle) == (
        10,
        64,
        1,
    )


async def _backends(engine, pids: list[int]) -> set[int]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
        )
        return {row[0] for row in rows}


@pytest.mark.integration
async def test_idle_pooled_connections_are_closed_keeping_the_most_recently_used(
    test_servers: RunServers,
) -> None:
    engine = make_engine(test_servers.admin_url, pool_size=6)
    observer = make_engine(test_servers.admin_url, pool_size=1)
    started = asyncio.Event()
    try:
        pids: list[int] = []

        async def busy() -> None:
            async with engine.connect() as connection:
                pids.append((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                await started.wait()

        tasks = [asyncio.create_task(busy()) for _ in range(6)]
        while len(pids) < 6:
            await asyncio.sleep(0.01)
        started.set()
        await asyncio.gather(*tasks)
        assert engine.sync_engine.pool.checkedin() == 6  # type: ignore[attr-defined]
        async with engine.connect() as connection:  # the most recently used one, handed out again (LIFO)
            recent = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        assert await release_idle_connections(engine, keep=1, idle_s=60) == 0, "nothing is idle that long yet"
        await asyncio.sleep(0.3)
        assert await release_idle_connections(engine, keep=1, idle_s=0.2) == 5
        assert await _backends(observer, pids) == {recent}, "the server still has the closed connections"
        assert engine.sync_engine.pool.checkedin() == 1  # type: ignore[attr-defined]

        # The pool opens them again on demand, up to its size.
        await asyncio.gather(*(asyncio.create_task(busy()) for _ in range(6)))
        assert engine.sync_engine.pool.checkedin() == 6  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
        await observer.dispose()
