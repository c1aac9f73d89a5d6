"""The service's own write path, in process: reimbursement claims carried through svc-claims to payment.

    uv run python -m bench.claim_path [--claims 300] [--rounds 3] [--concurrency 8] [--profile] [--instructions]

No server, no network and no other service: httpx's ASGI transport calls the app directly, so what is
timed is svc-claims' own work on a claim's five requests (`bench.claims_flow`'s, with its bodies): filed
at the district counter, accepted, reviewed, approved by the city (the bill computed against the person's
year, the payment order made) and paid, each with its middleware, token check, transaction, queries and
outbox rows, and nothing of uvicorn, the gateway or a load generator. What the other services would have
told claims is written in its tables before: the covered persons (one per claim, as registration's events
would) and the hospital the claims name (as facility's events would). Printed: whole claims per second,
`--concurrency` at a time, and the CPU this process spent per claim (a busy machine disturbs it far less
than claims per second), the best of `--rounds` rounds.

`--instructions` counts instead the CPU instructions this process spends per claim (callgrind, from
Debian's valgrind): the same count run after run whatever else the machine does. The process runs twice
under callgrind, collecting only while it carries 40 and then 80 claims; the difference divided by 40 is
one claim's count (its five requests, the in-process client's share, and whatever the relay and the
consumers running in the same loop did meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from bench import callgrind
from bench.claims_flow import STEPS, claim_body
from bench.read_path import AUDIENCE, ISSUER, client_of, in_process_options, on_claims_database
from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.migrations import service_database_url
from shared.testing.runs import RunServers

API = "/api/v1/claims/reimbursements"
OFFICE, CITY_OFFICE = "120101", "120000"
HOSPITAL = {"code": "H12010100002", "name": "医科大学总医院", "kind": "medical_institution", "level": 3,
            "office_code": OFFICE, "status": "designated", "version": 1}  # fmt: skip
WARM_CLAIMS = 20
INSTRUCTION_RUNS = (40, 80)


class ClaimRefused(RuntimeError):
    """A step answered otherwise than a whole claim's life expects: the figures would measure refusals."""


def claims_app(servers: RunServers) -> tuple[FastAPI, dict[str, str], dict[str, str]]:
    """svc-claims on the run's database and broker; a district clerk's and a city clerk's headers."""
    from svc_claims.main import create_app
    from svc_claims.settings import ClaimsSettings

    keys = servers.scratch / "keys"
    keys.mkdir(exist_ok=True)
    issuer = DevIssuer.load_or_create(keys, ISSUER, AUDIENCE)
    settings = ClaimsSettings(
        environment="test", database_url=service_database_url(servers.admin_url, "claims"), database_pool_size=20,
        broker_url=servers.broker_url, broker_namespace=f"{servers.namespace}b", auth_jwks_file=keys / JWKS_FILE,
        log_json=False, auth_issuer=ISSUER, auth_audience=AUDIENCE, log_level="WARNING",
    )  # fmt: skip

    def clerk(office_code: str, office_level: str) -> dict[str, str]:
        principal = Principal(subject=f"bench-{office_level}-clerk", role=Role.staff, office_code=office_code,
                              office_level=office_level)  # fmt: skip
        return {"Authorization": f"Bearer {issuer.issue(principal)}"}

    return create_app(settings), clerk(OFFICE, "district"), clerk(CITY_OFFICE, "city")


async def seed_hospital(app: FastAPI) -> None:
    """The hospital the claims name, as facility's registry events would leave it in claims' projection
    (a claim must name a known facility of the region and is computed at its registered level)."""
    from svc_claims.models import facilities

    async with app.state.runtime.sessions() as session:
        await session.execute(facilities.insert().values(**HOSPITAL))
        await session.commit()


async def covered_persons(app: FastAPI, count: int) -> list[uuid.UUID]:
    """`count` persons covered in 2021 (claims_flow's coverages): one per claim, so that no two claims
    wait on the same person's yearly accumulators and every bill is a year's first."""
    from svc_claims.models import coverages

    persons = [uuid.uuid4() for _ in range(count)]
    async with app.state.runtime.sessions() as session:
        await session.execute(coverages.insert(), [
            {"enrollment_id": uuid.uuid4(), "person_id": person, "office_code": OFFICE, "scheme": "resident",
             "tier": "adult_middle", "benefit_start": date(2021, 1, 1), "benefit_end": date(2021, 12, 31),
             "source_event_id": uuid.uuid4()}
            for person in persons
        ])  # fmt: skip
        await session.commit()
    return persons


async def step(
    client: httpx.AsyncClient,
    name: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    expected: int,
) -> dict[str, Any]:
    answer = await client.post(path, json=body, headers=headers)
    if answer.status_code != expected:
        raise ClaimRefused(f"{name}: {answer.status_code} (expected {expected}) {answer.text}")
    return answer.json()  # type: ignore[no-any-return]


async def carry(
    client: httpx.AsyncClient, person: uuid.UUID, district: dict[str, str], city: dict[str, str]
) -> None:
    """One claim through its five requests, as `bench.claims_flow.carry` sends them."""
    filed = await step(client, STEPS[0], API, claim_body(person), district, 201)
    path = f"{API}/{filed['id']}"
    receipt = filed["receipts"][0]["number"]
    lines = [{"receipt": receipt, "outcome": "accepted", "accepted_in_scope": "38000.00"}]
    bodies = {"accept": {}, "review": {"lines": lines}, "approve": {}, "pay": {"reference": "BENCH"}}
    for version, name in enumerate(STEPS[1:], start=1):
        headers = city if name == "approve" else district
        await step(client, name, f"{path}/{name}", {**bodies[name], "version": version}, headers, 200)


async def rate(
    client: httpx.AsyncClient,
    persons: list[uuid.UUID],
    district: dict[str, str],
    city: dict[str, str],
    concurrency: int = 8,
) -> float:
    """Claims per second of one claim per person, `concurrency` carried at a time; every step must answer."""
    left = list(persons)

    async def worker() -> None:
        while left:
            await carry(client, left.pop(), district, city)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(persons) / (time.perf_counter() - started)


@contextlib.asynccontextmanager
async def warm_claims(
    servers: RunServers, concurrency: int
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, str], dict[str, str]]]:
    """A client of svc-claims in this process that has carried claims already: tokens cached, pool
    filled, statements prepared, the policy files read."""
    app, district, city = claims_app(servers)
    async with client_of(app) as client:
        await seed_hospital(app)
        await rate(client, await covered_persons(app, WARM_CLAIMS), district, city, concurrency)
        yield app, client, district, city


async def counted_claims(servers: RunServers, claims: int, concurrency: int) -> None:
    async with warm_claims(servers, concurrency) as (app, client, district, city):
        persons = await covered_persons(app, claims)
        callgrind.collecting(True)
        await rate(client, persons, district, city, concurrency)
        callgrind.collecting(False)


async def measure(
    servers: RunServers, claims: int, rounds: int, profile: bool, concurrency: int = 8, as_json: bool = False
) -> None:
    async with warm_claims(servers, concurrency) as (app, client, district, city):
        if profile:
            from pyinstrument import Profiler

            persons = await covered_persons(app, claims)
            with Profiler(async_mode="enabled") as profiler:
                await rate(client, persons, district, city, concurrency)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return
        figures: list[tuple[float, float]] = []
        for _ in range(rounds):
            persons = await covered_persons(app, claims)  # written before the clock starts
            cpu = time.process_time()
            per_s = await rate(client, persons, district, city, concurrency)
            figures.append((per_s, (time.process_time() - cpu) / claims * 1e6))
    if as_json:  # for bench.compare: the best rate and the least CPU per claim
        print(json.dumps({"claim_in_process_per_s": max(v[0] for v in figures),
                          "claim_cpu_us": min(v[1] for v in figures)}))  # fmt: skip
        return
    print(f"   svc-claims reimbursement claim   {max(v[0] for v in figures):6.1f} claims/s, {concurrency} at a time "
          f"(best of {rounds}; all {', '.join(f'{v[0]:.1f}' for v in figures)})")  # fmt: skip
    print(f"   svc-claims reimbursement claim   {min(v[1] for v in figures):6.0f} µs CPU/claim in this process, five requests "
          f"(best of {rounds}; all {', '.join(f'{v[1]:.0f}' for v in figures)})")  # fmt: skip
    print(f"   load after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = in_process_options(__doc__, "claim", concurrency=8)
    parser.add_argument("--claims", type=int, default=300)
    args = parser.parse_args()
    if args.instructions:
        concurrency = ["--concurrency", str(args.concurrency), "--counted"]
        count = callgrind.count_per_unit("bench.claim_path", concurrency, INSTRUCTION_RUNS)
        print(json.dumps({"claim_instructions": count}) if args.json
              else f"   svc-claims reimbursement claim   {count / 1e6:.3f} million instructions per claim in process (five requests)")  # fmt: skip
        return
    if not args.json:
        print(
            f"in-process claim path · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f} · {time.strftime('%Y-%m-%d %H:%M')}"
        )
    if args.counted:
        on_claims_database(lambda servers: counted_claims(servers, args.counted, args.concurrency))
    else:
        on_claims_database(
            lambda servers: measure(
                servers, args.claims, args.rounds, args.profile, args.concurrency, args.json
            )
        )


if __name__ == "__main__":
    main()
