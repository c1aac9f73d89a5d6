"""Three replicas of registration and of claims, 5,000 events, one claims replica killed and restarted.

Registration's three relays share its outbox; claims' three consumers compete on its queue. Halfway
through, one claims replica is killed without warning (SIGKILL: no graceful shutdown, deliveries in
flight unacknowledged) and started again. Every effect must happen exactly once: one coverage per
approval, one `claims.eligible` per coverage, every approval published.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import text

from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.events import new_envelope
from shared.events.catalog import RegistrationApprovedV1
from shared.migrations import service_database_url
from shared.testing.servers import free_port
from yb_deploy.platform import bootstrap_platform, migrate, start_process, stop_process
from yb_deploy.pytest_plugin import isolated_servers, platform_config_for

EVENTS = 5_000
REPLICAS = 3


async def approvals_in_registrations_outbox(admin_url: str) -> None:
    engine = make_engine(service_database_url(admin_url, "registration"), 2, schema="registration")
    clock = FixedClock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    try:
        for start in range(0, EVENTS, 1_000):
            async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
                for _ in range(start, start + 1_000):
                    payload = RegistrationApprovedV1(enrollment_id=uuid.uuid4(), person_id=uuid.uuid4(), office_code="120101",
                                                     scheme="resident", tier="adult_middle", benefit_start=date(2027, 1, 1),
                                                     benefit_end=date(2027, 12, 31))  # fmt: skip
                    uow.emit(new_envelope(payload, clock))
                await uow.commit()
    finally:
        await engine.dispose()


async def counts(admin_url: str) -> dict[str, int]:
    queries = {
        "published": ("registration", "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"),
        "coverages": ("claims", "SELECT count(*) FROM coverages"),
        "distinct_coverages": ("claims", "SELECT count(DISTINCT enrollment_id) FROM coverages"),
        "eligible_events": ("claims", "SELECT count(*) FROM outbox WHERE event_type = 'claims.eligible'"),
        "eligible_per_enrollment_max": (
            "claims",
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM outbox WHERE event_type = 'claims.eligible' "
            "GROUP BY envelope->'payload'->>'enrollment_id') per",
        ),
    }
    result = {}
    for name, (service, sql) in queries.items():
        engine = make_engine(service_database_url(admin_url, service), 1, schema=service)
        try:
            async with engine.connect() as connection:
                result[name] = (await connection.execute(text(sql))).scalar_one()
        finally:
            await engine.dispose()
    return result


def wait_ready(ports: list[int], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"replica on {port} not ready"
            time.sleep(0.3)


@pytest.mark.integration
def test_every_effect_exactly_once_with_three_replicas_and_one_killed() -> None:
    with isolated_servers() as servers:  # a namespace of its own: no other consumer may take these events
        config = platform_config_for(servers, YB_CONSUMER_RETRY_DELAYS_MS="[200,500]")
        bootstrap_platform(config)
        migrate(config, ("registration", "claims"))
        asyncio.run(approvals_in_registrations_outbox(servers.admin_url))
        ports = {(service, r): free_port() for service in ("registration", "claims") for r in range(REPLICAS)}
        pids = {key: start_process(config, key[0], replica=key[1], port=port) for key, port in ports.items()}
        try:
            wait_ready(list(ports.values()))
            deadline = time.monotonic() + 240
            while (seen := asyncio.run(counts(servers.admin_url)))["coverages"] < EVENTS // 2:
                assert time.monotonic() < deadline, seen
                time.sleep(0.2)
            os.killpg(pids[("claims", 1)], signal.SIGKILL)  # mid-flow, no goodbye
            (config.run_dir / "claims-1.pid").unlink()
            time.sleep(1)
            start_process(config, "claims", replica=1, port=ports[("claims", 1)])
            wait_ready([ports[("claims", 1)]])
            while (seen := asyncio.run(counts(servers.admin_url)))["eligible_events"] < EVENTS:
                assert time.monotonic() < deadline, seen
                time.sleep(0.5)
            time.sleep(3)  # redeliveries of the killed replica's unacknowledged messages have come and gone
            final = asyncio.run(counts(servers.admin_url))
        finally:
            for service, replica in ports:
                stop_process(config, service, replica)
    assert final == {"published": EVENTS, "coverages": EVENTS, "distinct_coverages": EVENTS,
                     "eligible_events": EVENTS, "eligible_per_enrollment_max": 1}  # fmt: skip
