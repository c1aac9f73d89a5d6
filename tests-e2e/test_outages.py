"""Outages without an outage: the whole platform, two replicas of every service, on a RabbitMQ node and
a PostgreSQL cluster of its own, killed for real.

Bursts of `registration.approved` events flow from registration's outbox to claims and transfer
(claims answers each with `claims.eligible`) while these faults happen, one test each:

- the broker is SIGKILLed three times mid-burst while staff use the API through the gateway: every
  process stays live and ready, the API answers reads and writes (events wait in the outbox) and
  `/health` says what is degraded;
- a relay dies while it publishes a batch (half of it confirmed by the broker, none marked sent);
- a consumer dies between committing an effect and acknowledging its message;
- PostgreSQL crashes (immediate shutdown) mid-burst and comes back.

Each test prints Jepsen-style counts (sent, delivered, duplicates skipped, lost, applied twice) and
asserts lost = 0 and applied twice = 0: one coverage and one `claims.eligible` per approval, one
inbox row per approval at transfer. At rest afterwards the platform gives its connections back.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
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
from shared.migrations import create_database, service_database_url
from shared.testing.e2e import bearer, business_today, new_resident_id
from shared.testing.runs import RunServers
from shared.testing.servers import PrivatePostgres, PrivateRabbitMQ, free_port
from yb_deploy.faults import CONSUMER_AFTER_COMMIT, FACTORY, RELAY_MID_PUBLISH, fault_env
from yb_deploy.platform import (
    SERVICES,
    PlatformConfig,
    prepare,
    start_all,
    start_process,
    stop_all,
    stop_process,
    wait_until_ready,
)
from yb_deploy.pytest_plugin import platform_config_for

pytestmark = pytest.mark.e2e

REPLICAS = 2
BROKER_KILLS = 3
BURST = 1_000  # events written to the outbox before each fault (a few thousand in the module)
CONNECTION_BUDGET = 15  # database connections at rest, per set of one replica of every service
IDLE_S = 1.0  # the pools close idle connections after this (30 s by default)
CONSUMERS = ("claims", "transfer")  # the services that take registration.approved


class OutagePlatform:
    def __init__(
        self, config: PlatformConfig, rabbit: PrivateRabbitMQ, postgres: PrivatePostgres, database: str
    ):
        self.config, self.rabbit, self.postgres, self.database = config, rabbit, postgres, database

    @property
    def admin_url(self) -> str:
        return self.config.admin_database_url

    def urls(self) -> dict[str, str]:
        """Every process: the gateway and each replica of each service."""
        return {"gateway": self.config.gateway_url} | {
            process_name(s, r): url for s in SERVICES for r, url in enumerate(self.config.replica_urls(s))
        }

    def restart(self, service: str, replica: int, **fault: str) -> int:
        """Stop one replica and start it again, with a fault (yb_deploy.faults) when given one."""
        stop_process(self.config, service, replica)
        factory = FACTORY if fault else None
        pid = start_process(self.config, service, replica, factory=factory, env=fault or None)
        answer_ready(self.config.replica_urls(service)[replica])
        return pid


def process_name(service: str, replica: int) -> str:
    return service if replica == 0 else f"{service}-{replica}"


@pytest.fixture(scope="module")
def outage_platform() -> Iterator[OutagePlatform]:
    """Every process, twice per service, on servers of the module's own (never the machine's)."""
    scratch = Path(tempfile.mkdtemp(prefix="yb-outage-"))
    rabbit = PrivateRabbitMQ(scratch / "rabbitmq", free_port())
    postgres = PrivatePostgres(scratch / "postgres", free_port())
    config = None
    try:
        rabbit.start()
        postgres.start()
        database = f"yb_outage_{uuid.uuid4().hex[:8]}"
        asyncio.run(create_database(postgres.admin_url, database))
        run_admin_url = (
            make_url(postgres.admin_url).set(database=database).render_as_string(hide_password=False)
        )
        servers = RunServers(run_admin_url, rabbit.url, f"o{uuid.uuid4().hex[:8]}", scratch)
        config = replace(
            platform_config_for(
                servers,
                YB_LOG_JSON="true",
                YB_CONSUMER_RETRY_DELAYS_MS="[200,500]",
                YB_DATABASE_POOL_IDLE_S=str(IDLE_S),
            ),
            replicas=REPLICAS,
        )
        prepare(config)
        start_all(config)
        wait_until_ready(config, timeout_s=240)
        yield OutagePlatform(config, rabbit, postgres, database)
    finally:
        if config is not None:
            stop_all(config)
        rabbit.stop()
        postgres.stop()
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- what the tests read


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


def duplicates_skipped(config: PlatformConfig) -> int:
    """Redeliveries the consumers found in their inbox and skipped, summed over the live replicas."""
    total = 0
    for service in CONSUMERS:
        prefix = f'yb_events_duplicate_total{{event_type="registration.approved",service="{service}"}}'
        for url in config.replica_urls(service):
            try:
                lines = httpx.get(f"{url}/metrics", timeout=5).text.splitlines()
            except httpx.HTTPError:
                continue
            total += sum(int(float(line.split()[-1])) for line in lines if line.startswith(prefix))
    return total


def health(url: str) -> dict:
    return httpx.get(f"{url}/health", timeout=5).json()


def wait_for(check, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.2)
    return result


def answer_ready(url: str, timeout_s: float = 90) -> None:
    def ready() -> bool:
        try:
            return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, timeout_s, f"{url} to be ready")


def died(pid: int) -> bool:
    """Whether our child `pid` has exited (reaped here, so it does not linger as a zombie)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def flowing(platform: OutagePlatform, sent: int, delivered_at_least: int) -> dict[str, int]:
    """Wait until the burst is under way: some of it delivered, not all."""
    seen = wait_for(
        lambda: (
            (c := asyncio.run(counts(platform.admin_url)))["distinct_coverages"] >= delivered_at_least and c
        ),
        120,
        "the burst to flow",
    )
    assert seen["distinct_coverages"] < sent, f"the burst was over before the fault: {seen}"
    return seen


def all_delivered(platform: OutagePlatform, timeout_s: float = 180) -> dict[str, int]:
    """Wait until every approval written so far reached claims (and its eligibility) and transfer."""

    def done() -> dict[str, int] | None:
        seen = asyncio.run(counts(platform.admin_url))
        complete = min(seen["distinct_coverages"], seen["eligible_events"], seen["transfer_received"])
        return seen if complete >= seen["sent"] else None

    wait_for(done, timeout_s, "every approval delivered")
    time.sleep(1)  # redeliveries of what was unacknowledged at the fault have come and gone
    return asyncio.run(counts(platform.admin_url))


def jepsen(fault: str, before: dict[str, int], final: dict[str, int], skipped: int) -> str:
    sent = final["sent"] - before["sent"]
    return (
        f"\n{fault}: sent {sent}, delivered to claims {final['distinct_coverages'] - before['distinct_coverages']} "
        f"and to transfer {final['transfer_received'] - before['transfer_received']}, duplicates skipped {skipped}, "
        f"lost {final['sent'] - final['distinct_coverages']}, applied twice {final['coverages'] - final['distinct_coverages']}"
    )


def assert_exactly_once(final: dict[str, int]) -> None:
    """Lost = 0 and applied twice = 0, for everything the module has sent so far."""
    expected = final["sent"]
    assert final == {
        "sent": expected, "published": expected, "coverages": expected, "distinct_coverages": expected,
        "eligible_events": expected, "eligible_per_enrollment_max": 1, "transfer_received": expected,
    }, final  # fmt: skip


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


def fault_line(config: PlatformConfig, process: str) -> str:
    """What a process started with a fault said just before it killed itself."""
    lines = (config.log_dir / f"{process}.log").read_text(encoding="utf-8", errors="replace").splitlines()
    return next(line for line in reversed(lines) if line.startswith("fault "))


class Probe(Thread):
    """Reads and writes through the gateway, and liveness and readiness of every process, until stopped."""

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
                enroll_approve_and_read(client, self)
                for process, url in self.platform.urls().items():
                    for path in ("/health/live", "/health/ready"):
                        self.expect(httpx.get(f"{url}{path}", timeout=5), f"{process} {path}")

    def expect(self, response: httpx.Response, what: str) -> httpx.Response | None:
        self.requests += 1
        if not 200 <= response.status_code < 300:
            self.failures.append(f"{what}: {response.status_code} {response.text[:200]}")
            return None
        return response


def enroll_approve_and_read(client: httpx.Client, probe: Probe) -> None:
    """A resident enrolled, approved (one more registration.approved) and read back, through the gateway."""
    body = {"person": {"id_number": new_resident_id("120101"), "name": "断线期间参保"}, "office_code": "120101",
            "tier": "adult_middle", "coverage_year": business_today().year,
            "paid_on": f"{business_today().year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = probe.expect(client.post("/api/v1/registration/enrollments/residents", json=body), "enroll")
    if created is None:
        return
    enrollment = created.json()["id"]
    approved = probe.expect(
        client.post(f"/api/v1/registration/enrollments/{enrollment}/approve", json={"version": 1}), "approve"
    )
    if approved is not None:
        probe.approved.append(enrollment)
    probe.expect(client.get(f"/api/v1/registration/enrollments/{enrollment}"), "read")


def staff_token(config: PlatformConfig) -> str:
    answer = httpx.post(
        f"{config.gateway_url}/api/v1/auth/token", data={"username": "staff-heping", "password": "Demo@2026"}
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


# --------------------------------------------------------------------------- the tests


def test_every_process_gateway_included_serves_live_ready_and_health(outage_platform: OutagePlatform) -> None:
    for process, url in outage_platform.urls().items():
        assert httpx.get(f"{url}/health/live", timeout=5).status_code == 200, process
        ready = httpx.get(f"{url}/health/ready", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready", (process, ready.text)
    for service in SERVICES:
        for url in outage_platform.config.replica_urls(service):
            report = health(url)
            assert report["status"] == "ready" and report["degraded"] == [], report
            assert set(report["checks"]) == {"database", "broker", "consumer", "outbox", "audit"}
    platform = httpx.get(f"{outage_platform.config.gateway_url}/health", timeout=10).json()
    assert platform["status"] == "ready" and set(platform["services"]) == set(SERVICES)
    assert {len(s["replicas"]) for s in platform["services"].values()} == {REPLICAS}


def test_a_broker_killed_three_times_mid_burst_stops_no_request_and_every_event_arrives_once(
    outage_platform: OutagePlatform,
) -> None:
    config, rabbit = outage_platform.config, outage_platform.rabbit
    started, killed_at = time.monotonic(), time.time()
    before, skipped_before = asyncio.run(counts(outage_platform.admin_url)), duplicates_skipped(config)
    probe = Probe(outage_platform, staff_token(config))
    probe.start()
    delivered_at_kills, recovered_s = [], []
    try:
        for _ in range(BROKER_KILLS):
            sent = asyncio.run(counts(outage_platform.admin_url))["sent"] + BURST
            asyncio.run(approvals_in_registrations_outbox(outage_platform.admin_url, BURST))
            at_kill = flowing(outage_platform, sent, sent - BURST + BURST // 10)
            rabbit.kill()  # SIGKILL: no connection close, deliveries in flight unacknowledged
            delivered_at_kills.append(at_kill["distinct_coverages"] - (sent - BURST))
            for process, url in outage_platform.urls().items():  # each notices and says so, and stays ready
                if process == "gateway":
                    continue
                report = wait_for(
                    lambda url=url: (h := health(url))["degraded"] and h,
                    10,
                    f"{process} to report the outage",
                )
                assert report["status"] == "degraded" and {"broker", "consumer"} <= set(report["degraded"]), (
                    report
                )
            time.sleep(2)  # requests keep coming while the broker is away
            rabbit.start()
            restarted_at = time.monotonic()
            wait_until_ready(config, timeout_s=120)  # every replica's consumer attached again
            recovered_s.append(time.monotonic() - restarted_at)
    finally:
        probe.stop_event.set()
        probe.join(timeout=30)
    final = all_delivered(outage_platform)
    skipped = duplicates_skipped(config) - skipped_before
    print(
        jepsen(f"broker SIGKILLed {BROKER_KILLS}x mid-burst", before, final, skipped)
        + f"; {len(probe.approved)} approvals through the gateway during the outages; "
        f"delivered of each {BURST} at the kills {delivered_at_kills}; {probe.requests} requests and "
        f"liveness/readiness checks, failed {len(probe.failures)}; consumers attached again "
        f"{', '.join(f'{s:.1f}' for s in recovered_s)} s after each restart; test {time.monotonic() - started:.0f} s"
    )
    assert probe.failures == [], probe.failures[:5]
    assert probe.approved, "no write went through during the outages"
    assert final["sent"] == before["sent"] + BROKER_KILLS * BURST + len(probe.approved)
    assert_exactly_once(final)
    for process in outage_platform.urls():  # each outage in a few lines, not a stream of errors
        if process == "gateway":
            continue
        noisy = outage_log_lines(config, process, killed_at)
        said = [(line["level"], line["logger"], line["message"][:90]) for line in noisy]
        # At most one WARNING per outage from each part that notices it: the broker connection (lost),
        # the relay (a batch in flight stays unsent), the consumer (an ack in flight) and the holiday
        # notice listener (its request for the notices, when it listens again).
        assert len(noisy) <= 4 * BROKER_KILLS, (process, said)
        assert all(line["level"] == "WARNING" for line in noisy), (process, said)
        assert any("broker connection lost" in line["message"] for line in noisy), (process, noisy)


def test_a_relay_killed_mid_publish_loses_nothing_and_its_republished_copies_are_skipped(
    outage_platform: OutagePlatform,
) -> None:
    config = outage_platform.config
    before, skipped_before = asyncio.run(counts(outage_platform.admin_url)), duplicates_skipped(config)
    stop_process(config, "registration", 1)  # one relay left, and it dies in its first batch
    pid = outage_platform.restart("registration", 0, **fault_env("registration", RELAY_MID_PUBLISH))
    asyncio.run(approvals_in_registrations_outbox(outage_platform.admin_url, BURST))
    wait_for(lambda: died(pid), 60, "the relay to die mid-publish")
    said = fault_line(config, "registration")
    published, batch = map(int, re.findall(r"\d+", said)[:2])
    at_death = asyncio.run(counts(outage_platform.admin_url))
    for replica in range(REPLICAS):
        start_process(config, "registration", replica)
    wait_until_ready(config, timeout_s=120)
    final = all_delivered(outage_platform)
    skipped = duplicates_skipped(config) - skipped_before
    print(
        jepsen("relay SIGKILLed mid-publish", before, final, skipped)
        + f"; the dying relay had {published} of a batch of {batch} confirmed by the broker, "
        f"{at_death['published'] - before['published']} marked sent"
    )
    assert 0 < published < batch
    assert at_death["published"] - before["published"] < BURST, (
        "the relay died before the burst was marked sent"
    )
    # The confirmed half is published again after the restart and reaches each consumer twice.
    assert skipped >= len(CONSUMERS) * published, skipped
    assert_exactly_once(final)


def test_a_consumer_killed_between_commit_and_ack_applies_nothing_twice(
    outage_platform: OutagePlatform,
) -> None:
    config = outage_platform.config
    pid = outage_platform.restart("claims", 0, **fault_env("claims", CONSUMER_AFTER_COMMIT, after=20))
    # Counted once the new process runs: a restarted process's counters start again from 0.
    before, skipped_before = asyncio.run(counts(outage_platform.admin_url)), duplicates_skipped(config)
    asyncio.run(approvals_in_registrations_outbox(outage_platform.admin_url, BURST))
    wait_for(lambda: died(pid), 120, "the consumer to die after its commit")
    said = fault_line(config, "claims")
    start_process(config, "claims", 0)
    wait_until_ready(config, timeout_s=120)
    final = all_delivered(outage_platform)
    skipped = duplicates_skipped(config) - skipped_before
    print(jepsen("consumer SIGKILLed between commit and ack", before, final, skipped) + f"; {said}")
    # Its committed but unacknowledged messages came again, to the other replica or itself restarted.
    assert skipped >= 1, "no redelivery was skipped: the kill did not fall between commit and ack"
    assert_exactly_once(final)


def test_a_postgres_crash_mid_burst_is_survived_by_every_process_on_its_own(
    outage_platform: OutagePlatform,
) -> None:
    config, postgres = outage_platform.config, outage_platform.postgres
    before, skipped_before = asyncio.run(counts(outage_platform.admin_url)), duplicates_skipped(config)
    sent = before["sent"] + 2 * BURST
    asyncio.run(approvals_in_registrations_outbox(outage_platform.admin_url, 2 * BURST))
    at_crash = flowing(outage_platform, sent, before["sent"] + BURST // 10)
    postgres.crash()  # immediate shutdown: every connection cut, recovery from the WAL at start
    crashed_at = time.monotonic()
    for process, url in outage_platform.urls().items():
        if process == "gateway":
            continue
        assert httpx.get(f"{url}/health/live", timeout=5).status_code == 200, process  # not restarted
        wait_for(
            lambda url=url: httpx.get(f"{url}/health/ready", timeout=5).status_code == 503,
            10,
            f"{process} to stop being ready without its database",
        )
    time.sleep(2)
    postgres.start()
    wait_until_ready(config, timeout_s=120)
    back_s = time.monotonic() - crashed_at
    with httpx.Client(base_url=config.gateway_url, timeout=10, headers=bearer(staff_token(config))) as client:
        after = Probe(outage_platform, "")
        enroll_approve_and_read(client, after)
    final = all_delivered(outage_platform)
    skipped = duplicates_skipped(config) - skipped_before
    print(
        jepsen("PostgreSQL crashed mid-burst", before, final, skipped)
        + f"; {at_crash['distinct_coverages'] - before['distinct_coverages']} of {2 * BURST} delivered at the crash; "
        f"every process ready again {back_s:.1f} s after the crash (down about 2 s)"
    )
    assert after.failures == [] and after.approved, after.failures
    assert_exactly_once(final)


def test_a_platform_at_rest_gives_its_database_connections_back(outage_platform: OutagePlatform) -> None:
    # Runs after the bursts: the pools grew to their busiest size and must have given it back.
    budget = CONNECTION_BUDGET * REPLICAS
    time.sleep(IDLE_S * 3)
    held = wait_for(
        lambda: (
            (c := asyncio.run(connections_to(outage_platform.admin_url, outage_platform.database)))
            and len(c) <= budget
            and c
        ),
        20,
        f"at most {budget} connections at rest",
    )
    per_user: dict[str, int] = {}
    for user, _state in held:
        per_user[user] = per_user.get(user, 0) + 1
    print(
        f"\nat rest: {len(held)} connections to the platform's database from {REPLICAS} replicas of each service: "
        f"{dict(sorted(per_user.items()))}"
    )
    assert len(held) <= budget
