"""Monthly declarations uploaded through the gateway: figures printed, never asserted.

    uv run python -m bench.settlement_gateway [--facilities 300] [--bills 100] [--concurrency 1 16]

The whole platform runs on a database and broker namespace of its own (like the e2e tests). The
facilities are known to settlement and have budgets (written directly, as the clearing benchmark
does); each then declares one month with its bill details through the gateway with its own real
token. Printed per concurrency: declarations and bill rows per second, latency p50/p99, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import platform as host
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from bench.platform import running_platform
from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.projections import record_facility_if_newer
from shared.testing.service_app import in_schema
from svc_settlement.models import facilities as facility_rows
from svc_settlement.usecases import budgets
from yb_deploy.pytest_plugin import isolated_servers

CITY = Principal(subject="bench-city", role=Role.staff, office_code="120000", office_level="city")


async def known_facilities(admin_url: str, codes: list[str]) -> None:
    async def record(uow: UnitOfWork) -> None:
        for code in codes:
            await record_facility_if_newer(
                uow, facility_rows,
                {"code": code, "name": f"基准医院{code[-4:]}", "kind": "medical_institution", "office_code": "120101",
                 "district_code": "120101", "status": "designated", "version": 1})  # fmt: skip
            await budgets.set_budget(
                uow,
                CITY,
                code,
                2026,
                "employee",
                "inpatient",
                Decimal("1200000.00"),
                None,
                "基准测试指标",
                None,
            )

    await in_schema(admin_url, "settlement", record, datetime(2026, 2, 10, 2, tzinfo=UTC))


def declaration(period: str, bills: int, seed: int) -> dict:
    rows = [{"bill_no": f"B{seed}-{n}", "care_type": "inpatient", "origin": "local",
             "pooled_fund": f"{100 + n % 900}.25", "personal_account": "10.00"} for n in range(bills)]  # fmt: skip
    pooled = sum(Decimal(r["pooled_fund"]) for r in rows)
    line = {
        "care_type": "inpatient",
        "origin": "local",
        "pooled_fund": f"{pooled:.2f}",
        "personal_account": f"{10 * bills:.2f}",
    }
    return {"period": period, "insurance_type": "employee", "lines": [line], "bills": rows}


async def upload(gateway_url: str, tokens: dict[str, str], period: str, bills: int, concurrency: int) -> dict:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for code in tokens:
        queue.put_nowait(code)
    latencies: list[float] = []
    errors: list[int] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            code = queue.get_nowait()
            body = declaration(period, bills, hash(code) % 10_000)
            started = time.perf_counter()
            response = await client.post("/api/v1/settlement/declarations", json=body,
                                         headers={"Authorization": f"Bearer {tokens[code]}"})  # fmt: skip
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                errors.append(response.status_code)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {"declarations_per_s": len(latencies) / wall, "rows_per_s": len(latencies) * bills / wall,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "errors": len(errors), "sent": len(latencies)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=300)
    parser.add_argument("--bills", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    print(f"declarations through the gateway: {args.facilities} facilities × {args.bills} bills, "
          f"{host.processor() or host.machine()}, python {host.python_version()}")  # fmt: skip
    print(f"{'conc':>4} | {'decl/s':>7} | {'bills/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | errors")
    # Each facility is its own client: the per-client limit holds.
    with isolated_servers() as servers, running_platform(servers) as (config, issuer):
        # One month per concurrency level, so every run declares afresh (no corrections).
        for month, concurrency in enumerate(args.concurrency, start=1):
            codes = [f"G{month}{i:09d}" for i in range(args.facilities)]
            asyncio.run(known_facilities(servers.admin_url, codes))
            tokens = {
                c: issuer.issue(Principal(subject=f"fac-{c}", role=Role.facility, facility_id=c))
                for c in codes
            }
            r = asyncio.run(upload(config.gateway_url, tokens, f"2026-{month:02d}", args.bills, concurrency))
            print(f"{concurrency:>4} | {r['declarations_per_s']:>7.1f} | {r['rows_per_s']:>8,.0f} | {r['p50_ms']:>7.0f} | "
                  f"{r['p99_ms']:>7.0f} | {r['errors']}/{r['sent']}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
