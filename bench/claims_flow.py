"""Manual reimbursement claims filed and carried to payment through the gateway. Figures printed, never asserted.

    uv run python -m bench.claims_flow [--claims 200] [--concurrency 1 8]

The whole platform runs on a database and broker namespace of its own. Covered persons are put in the
claims projection directly (as registration's events would); then each client carries one claim after
another through the five requests of its life: file (person's office at the counter), accept, review,
approve (city level, computing the bill against the person's year), pay. Printed per concurrency: whole
claims per second, and p50/p99 of a whole claim and of each step.
"""

from __future__ import annotations

import argparse
import asyncio
import platform as host
import statistics
import time
import uuid
from datetime import UTC, date, datetime

import aiohttp

from bench.platform import NO_RATE_LIMIT, running_platform
from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.testing.service_app import in_schema
from svc_claims.models import coverages
from yb_deploy.pytest_plugin import isolated_servers

STEPS = ("file", "accept", "review", "approve", "pay")


async def covered_persons(admin_url: str, count: int) -> list[uuid.UUID]:
    persons = [uuid.uuid4() for _ in range(count)]

    async def record(uow: UnitOfWork) -> None:
        # The table written directly (as registration's events would make claims write it), so the same
        # script drives this tree and the previous implementation (bench.compare).
        await uow.session.execute(coverages.insert(), [
            {"enrollment_id": uuid.uuid4(), "person_id": person, "office_code": "120101", "scheme": "resident",
             "tier": "adult_middle", "benefit_start": date(2021, 1, 1), "benefit_end": date(2021, 12, 31),
             "source_event_id": uuid.uuid4()}
            for person in persons
        ])  # fmt: skip

    await in_schema(admin_url, "claims", record, datetime(2021, 1, 1, tzinfo=UTC))
    return persons


def claim_body(person: uuid.UUID) -> dict:
    receipt = {
        "number": f"B{uuid.uuid4().hex[:12]}",
        "issued_on": "2021-05-20",
        "amount": "42000.00",
        "in_scope": "38000.00",
        "out_of_scope": "4000.00",
    }
    return {"person_id": str(person), "care_type": "inpatient", "facility_code": "H12010100002", "facility_level": 3,
            "service_from": "2021-05-10", "service_to": "2021-05-20", "receipts": [receipt],
            "materials": ["receipts", "itemised_bill", "diagnosis", "discharge_summary"], "bank_account": "6222021234567890123"}  # fmt: skip


async def carry(
    session: aiohttp.ClientSession,
    person: uuid.UUID,
    district: dict,
    city: dict,
    timings: dict[str, list[float]],
) -> bool:
    async def step(name: str, path: str, body: dict, headers: dict, expected: int) -> dict | None:
        started = time.perf_counter()
        async with session.post(path, json=body, headers=headers) as answer:
            result = await answer.json()
            ok = answer.status == expected
        timings[name].append(time.perf_counter() - started)
        return result if ok else None

    started = time.perf_counter()
    filed = await step("file", "/api/v1/claims/reimbursements", claim_body(person), district, 201)
    if filed is None:
        return False
    path = f"/api/v1/claims/reimbursements/{filed['id']}"
    receipt = filed["receipts"][0]["number"]
    lines = [{"receipt": receipt, "outcome": "accepted", "accepted_in_scope": "38000.00"}]
    for name, body, headers, version in (("accept", {}, district, 1), ("review", {"lines": lines}, district, 2),
                                         ("approve", {}, city, 3), ("pay", {"reference": "BENCH"}, district, 4)):  # fmt: skip
        if await step(name, f"{path}/{name}", {**body, "version": version}, headers, 200) is None:
            return False
    timings["claim"].append(time.perf_counter() - started)
    return True


async def run(
    gateway_url: str, persons: list[uuid.UUID], tokens: list[tuple[dict, dict]]
) -> tuple[float, dict[str, list[float]], int]:
    queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
    for person in persons:
        queue.put_nowait(person)
    timings: dict[str, list[float]] = {name: [] for name in (*STEPS, "claim")}
    failed = 0

    async def client(session: aiohttp.ClientSession, district: dict, city: dict) -> None:
        nonlocal failed
        while not queue.empty():
            failed += not await carry(session, queue.get_nowait(), district, city, timings)

    async with aiohttp.ClientSession(
        base_url=gateway_url, connector=aiohttp.TCPConnector(limit=len(tokens) * 2)
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, district, city) for district, city in tokens))
        wall = time.perf_counter() - started
    return wall, timings, failed


def cut(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100)[q - 1] * 1000
        if len(values) > 1
        else (values[0] * 1000 if values else 0.0)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    print(
        f"reimbursement claims through the gateway, {args.claims} per run, {host.machine()}, Python {host.python_version()}"
    )
    with isolated_servers() as servers, running_platform(servers, **NO_RATE_LIMIT) as (config, issuer):

        def bearer(principal: Principal) -> dict:
            return {"Authorization": f"Bearer {issuer.issue(principal)}"}

        print(
            " clients | claims/s | claim p50 | claim p99 | "
            + " | ".join(f"{s} p99" for s in STEPS)
            + " | failed"
        )
        for clients in args.concurrency:
            persons = asyncio.run(covered_persons(servers.admin_url, args.claims))
            tokens = [(bearer(Principal(subject=f"bench-clerk-{n}", role=Role.staff, office_code="120101", office_level="district")),
                       bearer(Principal(subject=f"bench-city-{n}", role=Role.staff, office_code="120000", office_level="city")))
                      for n in range(clients)]  # fmt: skip
            wall, timings, failed = asyncio.run(run(config.gateway_url, persons, tokens))
            steps = " | ".join(f"{cut(timings[s], 99):>6.0f} ms" for s in STEPS)
            print(f" {clients:7d} | {len(timings['claim']) / wall:8.1f} | {cut(timings['claim'], 50):6.0f} ms | "
                  f"{cut(timings['claim'], 99):6.0f} ms | {steps} | {failed}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
