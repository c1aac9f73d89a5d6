"""The access audit cannot be silenced: a row the database would refuse never blocks the others,
and when nothing can be written a metric says so."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import Principal, Role
from shared.db import make_engine, make_session_factory
from shared.events.relay import asyncpg_dsn
from shared.http.audit import AccessAudit
from shared.tables import access_audit_metadata
from shared.testing.runs import RunServers

pytestmark = pytest.mark.integration

CLERK = Principal(subject="staff-heping", role=Role.staff, office_code="120101", office_level="district")


@pytest.fixture
async def audit_schema(test_servers: RunServers) -> AsyncIterator[str]:
    schema = f"audit_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    engine = make_engine(test_servers.admin_url, schema=schema)
    async with engine.begin() as connection:
        await connection.run_sync(access_audit_metadata.create_all)
    await engine.dispose()
    yield schema
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


@pytest.fixture
async def sessions(
    test_servers: RunServers, audit_schema: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(test_servers.admin_url, schema=audit_schema)
    yield make_session_factory(engine)
    await engine.dispose()


async def rows(test_servers: RunServers, schema: str) -> list[dict]:
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    try:
        return [dict(r) for r in await conn.fetch(f"SELECT * FROM {schema}.access_audit ORDER BY id")]
    finally:
        await conn.close()


def metric(name: str, service: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": service}) or 0.0


async def test_a_nul_in_a_path_is_recorded_and_the_next_request_is_recorded_too(
    sessions: async_sessionmaker[AsyncSession], test_servers: RunServers, audit_schema: str
) -> None:
    audit = AccessAudit(sessions, service="audit-nul")
    audit.record(CLERK, "GET", "/api/v1/registration/enrollments/\x00", 404, "nul-request")
    await audit.flush()
    audit.record(CLERK, "GET", "/api/v1/registration/enrollments/1", 200, "next-request")
    await audit.flush()
    written = await rows(test_servers, audit_schema)
    assert [r["request_id"] for r in written] == ["nul-request", "next-request"]
    assert written[0]["path"] == "/api/v1/registration/enrollments/\\x00"  # kept, made writable
    assert audit.waiting == 0


async def test_no_value_a_caller_can_send_blocks_the_rows_around_it(
    sessions: async_sessionmaker[AsyncSession], test_servers: RunServers, audit_schema: str
) -> None:
    audit = AccessAudit(sessions, service="audit-hostile")
    hostile = ["/api/v1/x/\udcff", "/api/v1/x/" + "长" * 5000, "/api/v1/x/\x1b[31m\r\n", "/api/v1/x/\x00\x00"]
    audit.record(CLERK, "GET", "/api/v1/x/first", 200, "first")
    for n, path in enumerate(hostile):
        audit.record(CLERK, "GET\x00" * 5, path, 404, f"hostile-{n}\x00" + "r" * 300)
    audit.record(CLERK, "GET", "/api/v1/x/last", 200, "last")
    assert await audit.flush() == len(hostile) + 2
    written = await rows(test_servers, audit_schema)
    assert written[0]["request_id"] == "first" and written[-1]["request_id"] == "last"
    assert all(len(r["path"]) <= 500 and "\x00" not in r["path"] for r in written)


async def test_when_the_audit_cannot_write_a_metric_says_so_and_nothing_is_lost(
    test_servers: RunServers, audit_schema: str
) -> None:
    engine = make_engine(test_servers.admin_url, schema="no_such_schema_here")
    audit = AccessAudit(make_session_factory(engine), service="audit-broken")
    failures_before = metric("yb_access_audit_write_failures_total", "audit-broken")
    audit.record(CLERK, "GET", "/api/v1/x/1", 200, "kept")
    with pytest.raises(DBAPIError):
        await audit.flush()
    await engine.dispose()
    assert metric("yb_access_audit_write_failures_total", "audit-broken") == failures_before + 1
    assert metric("yb_access_audit_waiting", "audit-broken") == 1
    assert audit.waiting == 1
