"""HTTP requests never take the connections the background needs: with as many requests in flight
as the pool has connections, the access audit still flushes and an event handler still commits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text

from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.db import make_engine
from shared.events.relay import asyncpg_dsn
from shared.service import ServiceRuntime, build_runtime
from shared.settings import DATABASE_BACKGROUND_CONNECTIONS, CommonSettings
from shared.tables import access_audit_metadata
from shared.testing.runs import RunServers

pytestmark = pytest.mark.integration

POOL = 5
CLERK = Principal(subject="staff-heping", role=Role.staff, office_code="120101", office_level="district")


@pytest.fixture
async def runtime(test_servers: RunServers, tmp_path) -> AsyncIterator[ServiceRuntime]:  # type: ignore[no-untyped-def]
    schema = f"gate_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    engine = make_engine(test_servers.admin_url, schema=schema)
    async with engine.begin() as connection:
        await connection.run_sync(access_audit_metadata.create_all)
    await engine.dispose()
    DevIssuer.load_or_create(tmp_path, "https://auth.test", "yibao-test")
    settings = CommonSettings(environment="test", database_url=test_servers.admin_url, database_pool_size=POOL,
                              auth_jwks_file=tmp_path / JWKS_FILE)  # fmt: skip
    runtime = build_runtime(schema, settings, [])
    yield runtime
    await runtime.engine.dispose()
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


async def test_with_as_many_requests_as_pooled_connections_the_audit_flushes_and_a_handler_commits(
    runtime: ServiceRuntime,
) -> None:
    release = asyncio.Event()
    inside: list[int] = []

    async def request(n: int) -> int:
        async with runtime.request_uow() as uow:
            await uow.session.execute(text("SELECT 1"))
            inside.append(n)
            await release.wait()
        return n

    requests = [asyncio.create_task(request(n)) for n in range(POOL)]
    while len(inside) < POOL - DATABASE_BACKGROUND_CONNECTIONS:
        await asyncio.sleep(0.01)
    assert runtime.requests_gate.locked(), "the other requests wait at the gate, not in the pool"
    pool = runtime.engine.sync_engine.pool
    assert pool.checkedout() == POOL - DATABASE_BACKGROUND_CONNECTIONS  # type: ignore[attr-defined]

    runtime.audit.record(CLERK, "GET", "/api/v1/gate/things/1", 200, "while-busy")
    assert await runtime.audit.flush() == 1
    async with runtime.uow() as uow:  # what an event handler gets
        await uow.session.execute(text("SELECT 1"))
        await uow.commit()

    release.set()
    assert sorted(await asyncio.gather(*requests)) == list(range(POOL)), "every request was served"
    async with runtime.engine.connect() as connection:
        written = await connection.execute(text("SELECT request_id FROM access_audit"))
        assert [row[0] for row in written] == ["while-busy"]
