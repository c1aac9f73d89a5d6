"""Outages without an outage: the whole platform on a RabbitMQ of its own, which is killed for real.

The broker is SIGKILLed (no goodbye to its clients) while a burst of `registration.approved` events
flows from registration's outbox to claims and transfer and while staff use the API through the
gateway. During the outage every process stays live and ready and the API answers reads and writes
(events wait in the outbox); `/health` says what is degraded. After the broker returns every event
arrives exactly once, every consumer is attached again, and each process logged the outage in a
few lines. At rest afterwards the platform holds at most 15 database connections in all.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from threading import Event, Thread

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.events import new_envelope
from shared.events.catalog import RegistrationApprovedV1
from shared.migrations import create_database, drop_database, service_database_url
from shared.testing.e2e import bearer, business_today, new_resident_id
from shared.testing.runs import RunServers
from shared.testing.servers import PrivateRabbitMQ, free_port
from yb_deploy.platform import SERVICES, PlatformConfig, prepare, start_all, stop_all, wait_until_ready
from yb_deploy.pytest_plugin import DEFAULT_ADMIN_URL, platform_config_for

pytestmark = pytest.mark.e2e

BURST = 1_000
CONNECTION_BUDGET = 15
IDLE_S = 1.0  # the pools close idle connections after this (30 s by default)


class OutagePlatform:
    def __init__(self, config: PlatformConfig, rabbit: PrivateRabbitMQ, database: str):
        self.config, self.rabbit, self.database = config, rabbit, database

    @property
    def admin_url(self) -> str:
        return self.config.admin_database_url

    def urls(self) -> dict[str, str]:
        return {"gateway": self.config.gateway_url, **{s: self.config.service_url(s) for s in SERVICES}}


@pytest.fixture(scope="module")
def outage_platform() -> Iterator[OutagePlatform]:
    """Every process, on a database and a RabbitMQ node of the module's own (never the machine's)."""
    scratch = Path(tempfile.mkdtemp(prefix="yb-outage-"))
    rabbit = PrivateRabbitMQ(scratch / "rabbitmq", free_port())
    rabbit.start()
    admin_url = os.environ.get("YB_TEST_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    database = f"yb_outage_{uuid.uuid4().hex[:8]}"
    asyncio.run(create_database(admin_url, database))
    run_admin_url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    servers = RunServers(run_admin_url, rabbit.url, f"o{uuid.uuid4().hex[:8]}", scratch)
    config = platform_config_for(
        servers,
        YB_LOG_JSON="true",
        YB_CONSUMER_RETRY_DELAYS_MS="[200,500]",
        YB_DATABASE_POOL_IDLE_S=str(IDLE_S),
    )
    try:
        prepare(config)
        start_all(config)
        wait_until_ready(config, timeout_s=120)
        yield OutagePlatform(config, rabbit, database)
    finally:
        stop_all(config)
        rabbit.stop()
        asyncio.run(drop_database(admin_url, database))
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- what the test reads


async def approvals_in_registrations_outbox(admin_url: str, count: int) -> None:
    """A burst of approvals written to registration's outbox, as its use cases would."""
    engine = make_engine(service_database_url(admin_url, "registration"), 1, schema="registration")
    clock = FixedClock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    try:
        async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
            for _ in range(count):
                payload = RegistrationApprovedV1(enrollment_id=uuid.uuid4(), person_id=uuid.uuid4(), office_code="120101",
                                                 scheme="resident", tier="adult_middle", benefit_start=date(2027, 1, 1),
                                                 benefit_end=date(2027, 12, 31))  # fmt: skip
                uow.emit(new_envelope(payload, clock))
            await uow.commit()
    finally:
        await engine.dispose()


COUNTS = {
    "sent": ("registration", "SELECT count(*) FROM outbox WHERE event_type = 'registration.approved'"),
    "published": ("registration", "SELECT count(*) FROM outbox WHERE event_type = 'registration.approved' AND published_at IS NOT NULL"),
    "coverages": ("claims", "SELECT count(*) FROM coverages"),
    "distinct_coverages": ("claims", "SELECT count(DISTINCT enrollment_id) FROM coverages"),
    "eligible_events": ("claims", "SELECT count(*) FROM outbox WHERE event_type = 'claims.eligible'"),
    "eligible_per_enrollment_max": ("claims", "SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM outbox "
                                              "WHERE event_type = 'claims.eligible' GROUP BY envelope->'payload'->>'enrollment_id') per"),
    "transfer_received": ("transfer", "SELECT count(*) FROM inbox WHERE event_type = 'registration.approved'"),
}  # fmt: skip


async def counts(admin_url: str) -> dict[str, int]:
    result = {}
    for name, (service, sql) in COUNTS.items():
        engine = make_engine(service_database_url(admin_url, service), 1, schema=service)
        try:
            async with engine.connect() as connection:
                result[name] = (await connection.execute(text(sql))).scalar_one()
        finally:
            await engine.dispose()
    return result


async def connections_to(admin_url: str, database: str) -> list[tuple[str, str]]:
    """(user, state) of every connection to `database`, this query's own excluded."""
    engine = make_engine(admin_url, 1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT usename, coalesce(state, '') FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        await engine.dispose()


def duplicates_skipped(service_url: str, service: str) -> int:
    text_ = httpx.get(f"{service_url}/metrics", timeout=5).text
    prefix = f'yb_events_duplicate_total{{event_type="registration.approved",service="{service}"}}'
    return sum(int(float(line.split()[-1])) for line in text_.splitlines() if line.startswith(prefix))


def health(url: str) -> dict:
    return httpx.get(f"{url}/health", timeout=5).json()


def wait_for(check, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.2)
    return result


def outage_log_lines(config: PlatformConfig, process: str, since: float) -> list[dict]:
    """The WARNING and ERROR lines a process logged since `since` (Unix time)."""
    lines = []
    for raw in (config.log_dir / f"{process}.log").read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        logged = (
            datetime.fromisoformat(line["time"].replace(",", ".")).astimezone(UTC).timestamp()
            if "time" in line
            else 0
        )
        if line.get("level") in ("WARNING", "ERROR", "CRITICAL") and logged >= since - 1:
            lines.append(line)
    return lines


class Probe(Thread):
    """Reads and writes through the gateway, and readiness of every process, until stopped."""

    def __init__(self, platform: OutagePlatform, token: str):
        super().__init__(daemon=True)
        self.platform, self.token = platform, token
        self.stop_event = Event()
        self.failures: list[str] = []
        self.requests = 0
        self.approved: list[str] = []

    def run(self) -> None:
        with httpx.Client(
            base_url=self.platform.config.gateway_url, timeout=10, headers=bearer(self.token)
        ) as client:
            while not self.stop_event.is_set():
                self.enroll_approve_and_read(client)
                for process, url in self.platform.urls().items():
                    for path in ("/health/live", "/health/ready"):
                        self.expect(httpx.get(f"{url}{path}", timeout=5), f"{process} {path}")

    def enroll_approve_and_read(self, client: httpx.Client) -> None:
        body = {"person": {"id_number": new_resident_id("120101"), "name": "断线期间参保"}, "office_code": "120101",
                "tier": "adult_middle", "coverage_year": business_today().year,
                "paid_on": f"{business_today().year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
        created = self.expect(client.post("/api/v1/registration/enrollments/residents", json=body), "enroll")
        if created is None:
            return
        enrollment = created.json()["id"]
        approved = self.expect(
            client.post(f"/api/v1/registration/enrollments/{enrollment}/approve", json={"version": 1}),
            "approve",
        )
        if approved is not None:
            self.approved.append(enrollment)
        self.expect(client.get(f"/api/v1/registration/enrollments/{enrollment}"), "read")

    def expect(self, response: httpx.Response, what: str) -> httpx.Response | None:
        self.requests += 1
        if not 200 <= response.status_code < 300:
            self.failures.append(f"{what}: {response.status_code} {response.text[:200]}")
            return None
        return response


# --------------------------------------------------------------------------- the tests


def test_every_process_gateway_included_serves_live_ready_and_health(outage_platform: OutagePlatform) -> None:
    for process, url in outage_platform.urls().items():
        assert httpx.get(f"{url}/health/live", timeout=5).status_code == 200, process
        ready = httpx.get(f"{url}/health/ready", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready", (process, ready.text)
    for service in SERVICES:
        report = health(outage_platform.config.service_url(service))
        assert report["status"] == "ready" and report["degraded"] == [], report
        assert set(report["checks"]) == {"database", "broker", "consumer", "outbox", "audit"}
    platform = httpx.get(f"{outage_platform.config.gateway_url}/health", timeout=10).json()
    assert platform["status"] == "ready" and set(platform["services"]) == set(SERVICES)


def test_a_broker_killed_mid_burst_stops_no_request_and_every_event_arrives_once(
    outage_platform: OutagePlatform,
) -> None:
    config, rabbit = outage_platform.config, outage_platform.rabbit
    started = time.monotonic()
    token = httpx.post(
        f"{config.gateway_url}/api/v1/auth/token", data={"username": "staff-heping", "password": "Demo@2026"}
    )
    token.raise_for_status()
    asyncio.run(approvals_in_registrations_outbox(outage_platform.admin_url, BURST))
    before = wait_for(lambda: (c := asyncio.run(counts(outage_platform.admin_url)))["coverages"] >= BURST // 10 and c, 60,
                      "the burst to flow")  # fmt: skip

    killed_at = time.time()
    rabbit.kill()  # SIGKILL: no connection close, deliveries in flight unacknowledged
    probe = Probe(outage_platform, token.json()["access_token"])
    probe.start()
    for service in SERVICES:  # each process notices and says so, and stays ready
        url = config.service_url(service)
        report = wait_for(
            lambda url=url: (h := health(url))["degraded"] and h, 10, f"{service} to report the outage"
        )
        assert report["status"] == "degraded" and {"broker", "consumer"} <= set(report["degraded"]), report
    time.sleep(3)  # requests keep coming while the broker is away
    rabbit.start()
    restarted_at = time.monotonic()
    probe.stop_event.set()
    probe.join(timeout=30)
    expected = BURST + len(probe.approved)

    ready_during_catch_up: list[tuple[int, float]] = []  # claims' readiness while it catches up

    def everything_arrived() -> bool:
        asked = time.monotonic()
        answer = httpx.get(f"{config.service_url('claims')}/health/ready", timeout=10)
        ready_during_catch_up.append((answer.status_code, time.monotonic() - asked))
        seen = asyncio.run(counts(outage_platform.admin_url))
        return seen["distinct_coverages"] >= expected and seen["transfer_received"] >= expected

    wait_for(everything_arrived, 60, f"{expected} coverages")
    assert {status for status, _ in ready_during_catch_up} == {200}, ready_during_catch_up
    for service in SERVICES:  # attached again: the broker delivers to every service's consumer
        url = config.service_url(service)
        wait_for(
            lambda url=url: health(url)["status"] == "ready", 10, f"{service} to attach its consumer again"
        )
    recovered_s = time.monotonic() - restarted_at
    time.sleep(1)  # redeliveries of what was unacknowledged at the kill have come and gone
    final = asyncio.run(counts(outage_platform.admin_url))
    skipped = sum(duplicates_skipped(config.service_url(s), s) for s in ("claims", "transfer"))
    print(
        f"\nbroker SIGKILL mid-burst ({before['coverages']} of {BURST} delivered at the kill): sent {final['sent']} "
        f"(with {len(probe.approved)} approved through the gateway during the outage), published {final['published']}, "
        f"delivered to claims {final['distinct_coverages']} and to transfer {final['transfer_received']}, "
        f"duplicates skipped {skipped}, lost {final['sent'] - final['distinct_coverages']}, "
        f"applied twice {final['coverages'] - final['distinct_coverages']}; "
        f"{probe.requests} requests and readiness checks during the outage, failed {len(probe.failures)}; "
        f"all delivered and attached {recovered_s:.1f} s after the restart, claims' /health/ready meanwhile "
        f"{len(ready_during_catch_up)}x 200 in at most {max(t for _, t in ready_during_catch_up):.2f} s; "
        f"test {time.monotonic() - started:.0f} s"
    )
    assert before["coverages"] < BURST, "the broker was killed after the burst, not during it"
    assert probe.failures == [], probe.failures[:5]
    assert probe.approved, "no write went through during the outage"
    assert final == {
        "sent": expected, "published": expected, "coverages": expected, "distinct_coverages": expected,
        "eligible_events": expected, "eligible_per_enrollment_max": 1, "transfer_received": expected,
    }  # fmt: skip
    for process in SERVICES:  # the outage in a few lines, not a stream of errors
        noisy = outage_log_lines(config, process, killed_at)
        assert len(noisy) <= 3 and not [line for line in noisy if line["level"] != "WARNING"], (
            process,
            noisy,
        )
        assert any("broker connection lost" in line["message"] for line in noisy), (process, noisy)


def test_a_platform_at_rest_holds_at_most_15_database_connections(outage_platform: OutagePlatform) -> None:
    # Runs after the burst: the pools grew to their busiest size and must have given it back.
    time.sleep(IDLE_S * 3)
    held = wait_for(
        lambda: (
            (c := asyncio.run(connections_to(outage_platform.admin_url, outage_platform.database)))
            and len(c) <= CONNECTION_BUDGET
            and c
        ),
        20,
        f"at most {CONNECTION_BUDGET} connections at rest",
    )
    per_user: dict[str, int] = {}
    for user, _state in held:
        per_user[user] = per_user.get(user, 0) + 1
    print(f"\nat rest: {len(held)} connections to the platform's database: {dict(sorted(per_user.items()))}")
    assert len(held) <= CONNECTION_BUDGET
