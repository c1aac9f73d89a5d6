"""Clearing a month for 3,000 facilities with 100,000 → 1,000,000 bill details: figures printed, never asserted.

    uv run python -m bench.settlement [--facilities 3000] [--details 100000 1000000] [--workers 4]

For each size, on a fresh database of its own (like the tests): the facilities are known (projection),
each gets a budget, each declares the month through the declaration use case with its share of the
bill details (validated against the totals and stored), then city staff clear the month for all of
them in one run. Printed: wall time and rows per second of the declarations, wall time of the clearing
(and of a second, no-op run), and the process's peak memory (max RSS) after each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import platform as host
import resource
import time
from datetime import UTC, datetime
from decimal import Decimal

from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import bootstrap, service_database_url, upgrade
from shared.projections import record_facility_if_newer
from svc_settlement.domain.declaration import Bill, DeclaredLine
from svc_settlement.models import facilities as facility_rows
from svc_settlement.usecases import budgets, clearings, declarations
from yb_deploy.platform import REPO
from yb_deploy.pytest_plugin import isolated_servers

PERIOD = "2026-01"
CITY = Principal(subject="bench-city", role=Role.staff, office_code="120000", office_level="city")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def one_size(admin_url: str, facilities: int, details: int, workers: int) -> dict:
    url = service_database_url(admin_url, "settlement")
    engine = make_engine(url, pool_size=workers + 1, schema="settlement")
    sessions = make_session_factory(engine)
    clock = FixedClock(datetime(2026, 2, 10, 2, tzinfo=UTC))
    codes = [f"B{i:011d}" for i in range(facilities)]
    try:
        async with UnitOfWork(sessions, clock, "settlement") as uow:
            for code in codes:
                await record_facility_if_newer(
                    uow, facility_rows,
                    {"code": code, "name": f"基准医院{code[-4:]}", "kind": "medical_institution", "office_code": "120101",
                     "district_code": "120101", "status": "designated", "version": 1})  # fmt: skip
            await uow.commit()
        async with UnitOfWork(sessions, clock, "settlement") as uow:
            for code in codes:
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
            await uow.commit()

        per = [details // facilities + (i < details % facilities) for i in range(facilities)]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(facilities):
            queue.put_nowait(i)

        async def declare_worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                code, count = codes[i], per[i]
                bills = [Bill(f"B{i}-{n}", "inpatient", "local", {"pooled_fund": Decimal(100 + n % 900) + Decimal("0.25"),
                                                                   "personal_account": Decimal("10.00")}) for n in range(count)]  # fmt: skip
                pooled = sum((b.amounts["pooled_fund"] for b in bills), Decimal("0.00"))
                line = DeclaredLine(
                    "inpatient",
                    "local",
                    {"pooled_fund": pooled, "personal_account": Decimal("10.00") * count},
                )
                principal = Principal(subject=f"fac-{code}", role=Role.facility, facility_id=code)
                async with UnitOfWork(sessions, clock, "settlement") as uow:
                    await declarations.declare(
                        uow,
                        principal,
                        declarations.DeclarationIn(None, PERIOD, "employee", [line], bills, None, None),
                    )
                    await uow.commit()

        started = time.perf_counter()
        await asyncio.gather(*(declare_worker() for _ in range(workers)))
        declare_s = time.perf_counter() - started
        declare_rss = rss_mib()

        started = time.perf_counter()
        async with UnitOfWork(sessions, clock, "settlement") as uow:
            result = await clearings.run_clearing(uow, CITY, PERIOD)
            await uow.commit()
        clear_s = time.perf_counter() - started
        assert result.created == facilities, result
        started = time.perf_counter()
        async with UnitOfWork(sessions, clock, "settlement") as uow:
            again = await clearings.run_clearing(uow, CITY, PERIOD)
            await uow.commit()
        rerun_s = time.perf_counter() - started
        return {"details": details, "declare_s": declare_s, "rows_per_s": details / declare_s, "declare_rss": declare_rss,
                "clear_s": clear_s, "clear_rss": rss_mib(), "rerun_s": rerun_s, "rerun_unchanged": again.unchanged}  # fmt: skip
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=3000)
    parser.add_argument("--details", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print(
        f"settlement clearing benchmark: {args.facilities} facilities, {host.processor()} {host.machine()}, python {host.python_version()}"
    )
    print(
        f"{'bill details':>12} | {'declare s':>9} | {'rows/s':>8} | {'clear s':>7} | {'2nd run s':>9} | {'max RSS MiB':>11}"
    )
    for details in args.details:
        with isolated_servers() as servers:
            asyncio.run(bootstrap(servers.admin_url, ["settlement"]))
            upgrade(REPO / "svc-settlement", service_database_url(servers.admin_url, "settlement"))
            r = asyncio.run(one_size(servers.admin_url, args.facilities, details, args.workers))
        print(
            f"{r['details']:>12,} | {r['declare_s']:>9.1f} | {r['rows_per_s']:>8,.0f} | {r['clear_s']:>7.1f} | {r['rerun_s']:>9.1f} | "
            f"{max(r['declare_rss'], r['clear_rss']):>11.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
