"""A district's day through the gateway with N = 1, 2, 3 replicas of every service: figures printed.

    uv run python -m bench.load [--replicas 1 2 3] [--seconds 30] [--concurrency 32] [--population 2000]

For each N the whole platform runs on a database and broker namespace of its own. A population of
residents is enrolled first; then, for the given time, concurrent clients mix what a district office
and its apps do: new enrollments approved by the clerk (writes that raise registration.approved →
claims.eligible), people reading their eligibility, the public registry search, and facilities'
monthly declarations. Printed: requests per second, p50/p99 per kind, error rate, and events lost
(approvals whose coverage never reached claims, counted after the queues drain: must be 0).
The load generator shares the 2 CPU cores with the platform, so figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform as host
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
from sqlalchemy import text

from bench.platform import NO_RATE_LIMIT, ListingIssuer, running_platform
from shared.auth import Principal, Role
from shared.db import make_engine
from shared.identity import IdType, person_id_for
from shared.migrations import service_database_url
from shared.testing.e2e import business_today, new_resident_id
from yb_deploy.pytest_plugin import isolated_servers

PERSON_KEY = b"development-only-person-key-change-me"
OFFICE = "120101"
APP_DELAY_S = 1.0
MIX = (("enroll", 0.15), ("eligibility", 0.6), ("registry", 0.15), ("declare", 0.1))


def resident(number: str) -> Principal:
    return Principal(
        subject=f"p{number}",
        role=Role.insured,
        person_id=person_id_for(IdType.resident_id, number, PERSON_KEY),
    )


def facility(code: str) -> Principal:
    return Principal(subject=f"fac-{code}", role=Role.facility, facility_id=code)


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Load:
    """The district's clients; aiohttp, whose requests cost a fraction of httpx's CPU: the load generator
    shares the machine with the platform, and should measure the platform, not itself."""

    def __init__(
        self,
        client: aiohttp.ClientSession,
        issuer: ListingIssuer,
        staff: dict[str, str],
        facilities: list[str],
    ):
        self.client, self.issuer, self.staff, self.facilities = client, issuer, staff, facilities
        self.people: list[dict[str, str]] = []
        self.residents: list[
            str
        ] = []  # ID numbers to enroll, their accounts listed with the gateway beforehand
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.failures: dict[str, int] = defaultdict(int)  # "kind status" (or exception) → count
        self.approved = 0
        self.declared = 0

    async def timed(self, kind: str, method: str, url: str, **kwargs) -> Answer | None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            async with self.client.request(method, url, **kwargs) as raw:
                response = Answer(raw.status, await raw.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[kind] += 1
            self.failures[f"{kind} {type(exc).__name__}"] += 1
            return None
        self.latency[kind].append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.errors[kind] += 1
            self.failures[f"{kind} {response.status_code}"] += 1
        return response

    async def enroll(self) -> None:
        number = self.residents.pop() if self.residents else new_resident_id(OFFICE)
        body = {"person": {"id_number": number, "name": "居民"}, "office_code": OFFICE, "tier": "adult_middle",
                "coverage_year": business_today().year, "paid_on": f"{business_today().year - 1}-10-15",
                "materials": {"id_document": "original"}}  # fmt: skip
        created = await self.timed(
            "enroll", "POST", "/api/v1/registration/enrollments/residents", json=body, headers=self.staff
        )
        if created is None or created.status_code != 201:
            return
        url = f"/api/v1/registration/enrollments/{created.json()['id']}/approve"
        approved = await self.timed("enroll", "POST", url, json={"version": 1}, headers=self.staff)
        if approved is not None and approved.status_code == 200:
            self.approved += 1
            token = {"Authorization": f"Bearer {self.issuer.issue(resident(number), ttl_s=7200)}"}
            # Their app asks a moment later, once claims has heard of the approval (an event away): a read
            # in the same millisecond would answer 404 "not yet", which is no error of the platform.
            asyncio.get_running_loop().call_later(APP_DELAY_S, self.people.append, token)

    def list_callers(self, residents: int) -> None:
        """The people the run will enroll and the facilities that will declare, listed with the gateway's
        test accounts in one write: the file is rewritten whole for each listing, which would otherwise
        cost the load generator and the gateway more per caller the longer the run (the people of an
        identity provider need no listing)."""
        self.residents = [new_resident_id(OFFICE) for _ in range(residents)]
        self.issuer.list([resident(n) for n in self.residents] + [facility(code) for code in self.facilities])

    async def eligibility(self) -> None:
        if self.people:
            await self.timed(
                "eligibility", "GET", "/api/v1/claims/eligibility/me", headers=random.choice(self.people)
            )

    async def registry(self) -> None:
        await self.timed(
            "registry", "GET", "/api/v1/facility/public/registry", params={"district": OFFICE, "size": 20}
        )

    async def declare(self) -> None:
        if not self.facilities:
            return
        code = self.facilities.pop()
        token = self.issuer.issue(facility(code))
        bills = [
            {"bill_no": f"{code}-{n}", "care_type": "inpatient", "origin": "local", "pooled_fund": "1000.00"}
            for n in range(50)
        ]
        body = {"period": "2026-01", "insurance_type": "employee", "bills": bills,
                "lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": f"{Decimal(1000) * 50:.2f}"}]}  # fmt: skip
        response = await self.timed(
            "declare",
            "POST",
            "/api/v1/settlement/declarations",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        if response is not None and response.status_code == 201:
            self.declared += 1

    async def worker(self, until: float) -> None:
        kinds, weights = zip(*MIX, strict=True)
        while time.monotonic() < until:
            await getattr(self, random.choices(kinds, weights)[0])()


async def known_facilities(admin_url: str, count: int, replica_tag: int) -> list[str]:
    """Facilities settlement knows as designated, each with a budget (as the clearing benchmark does)."""
    from datetime import UTC, datetime

    from shared.clock import FixedClock
    from shared.db import UnitOfWork, make_session_factory
    from svc_settlement.models import facilities as facility_rows
    from svc_settlement.usecases import budgets

    try:
        from shared.projections import record_facility_if_newer
    except ImportError:  # the previous implementation (bench.compare): settlement's repository had it
        from svc_settlement.repository import Repository

        async def record_facility_if_newer(uow: UnitOfWork, _table: object, values: dict) -> None:  # type: ignore[misc]
            await Repository(uow.session).record_facility_if_newer(values)

    city = Principal(subject="load-city", role=Role.staff, office_code="120000", office_level="city")
    codes = [f"L{replica_tag}{i:09d}" for i in range(count)]
    engine = make_engine(service_database_url(admin_url, "settlement"), 2, schema="settlement")
    try:
        async with UnitOfWork(
            make_session_factory(engine), FixedClock(datetime(2026, 2, 10, 2, tzinfo=UTC)), "settlement"
        ) as uow:
            for code in codes:
                await record_facility_if_newer(
                    uow, facility_rows,
                    {"code": code, "name": f"负载医院{code[-4:]}", "kind": "medical_institution", "office_code": OFFICE,
                     "district_code": OFFICE, "status": "designated", "version": 1})  # fmt: skip
                await budgets.set_budget(
                    uow,
                    city,
                    code,
                    2026,
                    "employee",
                    "inpatient",
                    Decimal("1200000.00"),
                    None,
                    "负载测试",
                    None,
                )
            await uow.commit()
    finally:
        await engine.dispose()
    return codes


async def coverages_in_claims(admin_url: str) -> int:
    engine = make_engine(service_database_url(admin_url, "claims"), 1, schema="claims")
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text("SELECT count(*) FROM coverages"))).scalar_one()
    finally:
        await engine.dispose()


async def run(
    gateway_url: str, issuer: ListingIssuer, staff: dict[str, str], admin_url: str, args, replicas: int
) -> dict:  # type: ignore[no-untyped-def]
    facilities = await known_facilities(admin_url, 2_000, replicas)
    before = await coverages_in_claims(admin_url)  # coverages from earlier approvals (bench.platform_figures)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(
        gateway_url, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as client:
        load = Load(client, issuer, staff, facilities)
        load.list_callers(residents=args.population + int(100 * args.seconds))
        started = time.monotonic()
        while (
            load.approved < args.population and time.monotonic() - started < 300
        ):  # the district's population first
            await asyncio.gather(*(load.enroll() for _ in range(args.concurrency)))
        load.latency.clear()
        load.errors.clear()
        load.failures.clear()
        warmup_approved = load.approved
        started = time.monotonic()
        await asyncio.gather(*(load.worker(started + args.seconds) for _ in range(args.concurrency)))
        wall = time.monotonic() - started
    drained = time.monotonic()
    while (
        await coverages_in_claims(admin_url)
    ) < before + load.approved and time.monotonic() - drained < 120:
        await asyncio.sleep(0.5)
    coverages = await coverages_in_claims(admin_url)
    requests = sum(len(v) for v in load.latency.values())
    return {
        "requests_per_s": requests / wall, "errors": sum(load.errors.values()), "requests": requests,
        "per_kind": {k: (len(v), statistics.median(v) * 1000, sorted(v)[max(0, int(len(v) * 0.99) - 1)] * 1000) for k, v in load.latency.items()},
        "approved_during_run": load.approved - warmup_approved, "declared": load.declared,
        "lost": before + load.approved - coverages, "drain_s": time.monotonic() - drained, "failures": dict(load.failures),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--population", type=int, default=2000)
    args = parser.parse_args()
    print(f"load run: {args.seconds:.0f} s at {args.concurrency} clients after enrolling {args.population} residents; "
          f"{host.machine()}, python {host.python_version()}; mix {dict(MIX)}")  # fmt: skip
    for replicas in args.replicas:
        # PostgreSQL's 100 connections are shared by every replica's pool: smaller pools as N grows.
        pool = str(max(3, 10 // replicas))
        with isolated_servers() as servers, running_platform(servers, replicas, 180, YB_DATABASE_POOL_SIZE=pool,
                                                             **NO_RATE_LIMIT) as (config, issuer):  # fmt: skip
            clerk = Principal(
                subject="load-clerk", role=Role.staff, office_code=OFFICE, office_level="district"
            )
            staff = {"Authorization": f"Bearer {issuer.issue(clerk, ttl_s=7200)}"}
            r = asyncio.run(run(config.gateway_url, issuer, staff, servers.admin_url, args, replicas))
        kinds = "  ".join(
            f"{k} n={n} p50={p50:.0f}ms p99={p99:.0f}ms" for k, (n, p50, p99) in sorted(r["per_kind"].items())
        )
        print(f"N={replicas}: {r['requests_per_s']:.0f} req/s, errors {r['errors']}/{r['requests']} "
              f"({100 * r['errors'] / max(1, r['requests']):.2f}%), approvals {r['approved_during_run']}, declarations "
              f"{r['declared']}, events lost {r['lost']} (drained in {r['drain_s']:.1f} s)\n      {kinds}"
              f"{chr(10) + '      failures ' + str(r['failures']) if r['failures'] else ''}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
