"""The services' engine through a PgBouncer in transaction mode, as deploy/k8s runs one in front of PostgreSQL.

In transaction mode each transaction may run on another server connection, shared with other clients.
With `YB_DATABASE_PGBOUNCER=true` the engine keeps nothing on a server connection (no statement
caches, a fresh name per prepared statement, the search path from the role): hundreds of concurrent
units of work through a pool of two server connections all see their own schema and commit. Without
it the same engine fails (PgBouncer refuses the search path in the startup packet).
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.events import new_envelope
from shared.events.catalog import RegistrationApprovedV1
from shared.migrations import service_database_url
from shared.testing.runs import RunServers, delete_broker_namespace
from shared.testing.servers import PrivatePgBouncer, free_port, stop_pid
from yb_deploy.platform import SERVICES, bootstrap_platform, start_process
from yb_deploy.pytest_plugin import platform_config_for

pytestmark = pytest.mark.integration

UNITS_OF_WORK = 200
AT_ONCE = 40


@pytest.fixture
def bouncer(migrated_database: str) -> Iterator[PrivatePgBouncer]:
    if not (shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists()):
        pytest.skip("PgBouncer is not installed (make test installs Debian's pgbouncer when run as root)")
    folder = Path(tempfile.mkdtemp(prefix="yb-pgbouncer-"))
    server = PrivatePgBouncer(folder, free_port(), migrated_database, tuple(f"yb_{s}" for s in SERVICES))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def registration_url(bouncer: PrivatePgBouncer, migrated_database: str) -> str:
    return bouncer.url("yb_registration", str(make_url(migrated_database).database))


async def units_of_work(url: str, pgbouncer: bool) -> tuple[set[str], int]:
    """Concurrent units of work, each reading its schema and writing an event to the outbox."""
    engine = make_engine(url, pool_size=AT_ONCE, schema="registration", pgbouncer=pgbouncer)
    sessions, clock = make_session_factory(engine), FixedClock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    office = f"{free_port() % 1_000_000:06d}"  # marks this run's events
    schemas: set[str] = set()

    async def one(n: int) -> None:
        async with UnitOfWork(sessions, clock, "registration") as uow:
            schemas.add((await uow.session.execute(text("SELECT current_schema()"))).scalar_one())
            await uow.session.execute(text("SELECT count(*) FROM outbox WHERE id > :n"), {"n": n})
            payload = RegistrationApprovedV1(enrollment_id=uuid.uuid4(), person_id=uuid.uuid4(), office_code=office,
                                             scheme="resident", tier="adult_middle", benefit_start=date(2027, 1, 1),
                                             benefit_end=date(2027, 12, 31))  # fmt: skip
            uow.emit(new_envelope(payload, clock))
            await uow.commit()

    try:
        await asyncio.gather(*(one(n) for n in range(UNITS_OF_WORK)))
        async with engine.connect() as connection:
            written = (
                await connection.execute(
                    text("SELECT count(*) FROM outbox WHERE envelope->'payload'->>'office_code' = :office"),
                    {"office": office},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return schemas, written


def test_hundreds_of_concurrent_units_of_work_through_pgbouncer_see_their_schema_and_commit(
    bouncer: PrivatePgBouncer, migrated_database: str
) -> None:
    schemas, written = asyncio.run(
        units_of_work(registration_url(bouncer, migrated_database), pgbouncer=True)
    )
    print(
        f"\n{UNITS_OF_WORK} units of work, {AT_ONCE} at once, through {bouncer.pool_size} server connections"
    )
    assert schemas == {"registration"}
    assert written == UNITS_OF_WORK


def test_without_the_setting_the_engine_cannot_work_through_pgbouncer(
    bouncer: PrivatePgBouncer, migrated_database: str
) -> None:
    with pytest.raises(Exception, match="search_path"):
        asyncio.run(units_of_work(registration_url(bouncer, migrated_database), pgbouncer=False))


def test_a_service_process_serves_and_its_relay_publishes_through_pgbouncer(
    bouncer: PrivatePgBouncer, migrated_database: str, test_servers: RunServers
) -> None:
    """registration as deployed: its pool through PgBouncer, its relay's LISTEN straight to PostgreSQL."""
    # A broker namespace and run folder of its own: its relay's events must not wait in any other test's queues.
    shared_run = platform_config_for(test_servers, YB_DATABASE_PGBOUNCER="true")
    config = dataclasses.replace(
        shared_run,
        broker_namespace=f"{shared_run.broker_namespace}b",
        data_dir=test_servers.scratch / "pgbouncer-platform",
    )
    bootstrap_platform(config)
    direct = service_database_url(migrated_database, "registration")
    pid = start_process(config, "registration", env={
        "YB_REGISTRATION_DATABASE_URL": registration_url(bouncer, migrated_database),
        "YB_REGISTRATION_DATABASE_LISTEN_URL": direct,
    })  # fmt: skip
    try:
        url = config.service_url("registration")
        report = wait_for(
            lambda: _health(url).get("status") == "ready" and _health(url), 90, "registration ready"
        )
        assert report["checks"]["outbox"]["ok"] is True
        asyncio.run(units_of_work(direct, pgbouncer=False))  # 200 events for its relay
        wait_for(lambda: asyncio.run(_unsent(direct)) == 0, 60, "the relay to publish them")
    finally:
        stop_pid(pid)
        asyncio.run(delete_broker_namespace(config.broker_url, config.broker_namespace, SERVICES))
    log = (config.log_dir / "registration.log").read_text(encoding="utf-8", errors="replace")
    assert "LISTEN unavailable" not in log and "Traceback" not in log, log[-2000:]


def _health(url: str) -> dict:
    try:
        return dict(httpx.get(f"{url}/health", timeout=5).json())
    except (httpx.HTTPError, ValueError):
        return {}


async def _unsent(url: str) -> int:
    engine = make_engine(url, 1, schema="registration")
    try:
        async with engine.connect() as connection:
            return int(
                (
                    await connection.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
                ).scalar_one()
            )
    finally:
        await engine.dispose()


def wait_for(check, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.3)
    return result
