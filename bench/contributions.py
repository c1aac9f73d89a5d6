"""A month's contribution notices (征缴单) for a city: figures printed, never asserted.

    uv run python -m bench.contributions [--sizes 1000:50000 10000:500000]

For each size (units:employees), on a fresh database of its own (like the tests): the units, persons
and employee enrollments are loaded by COPY (half the employees with a declared base, the rest at the
average wage; ages spread over every account band), then staff issue the month's notices for the
office in one run (`usecases.contributions.issue_month`: every unit's lines computed, the notices and
their events written, the lines by COPY, one transaction). Printed: wall time of the run, lines per
second, the CPU this process spent (the machine is shared: wall time follows its load, CPU time much
less), the process's peak memory (max RSS) before and after, and a second, no-op run.
"""

from __future__ import annotations

import argparse
import asyncio
import platform as host
import resource
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import bootstrap, service_database_url, upgrade
from svc_registration.usecases.contributions import issue_month
from yb_deploy.platform import REPO
from yb_deploy.pytest_plugin import isolated_servers

OFFICE = "120101"
MONTH = date(2026, 3, 1)
CLOCK = FixedClock(datetime(2026, 3, 10, 2, tzinfo=UTC))
STAFF = Principal(subject="bench-staff", role=Role.staff, office_code=OFFICE, office_level="district")
CHUNK = 50_000


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def load(url: str, units: int, employees: int) -> None:
    """Units, persons, enrollments and bases by COPY, in chunks (the loader's memory stays small)."""
    import asyncpg

    connection = await asyncpg.connect(
        url.replace("postgresql+asyncpg", "postgresql"), server_settings={"search_path": "registration"}
    )
    try:
        now = CLOCK.now()
        codes = [f"9112010{i:010d}X" for i in range(units)]
        await connection.copy_records_to_table(
            "units",
            records=[(uuid.uuid4(), c, f"基准单位{i}", "王某", OFFICE, "active", 1, "bench", now) for i, c in enumerate(codes)],
            columns=["id", "code", "name", "legal_representative", "office_code", "status", "version", "registered_by",
                     "registered_at"],
        )  # fmt: skip
        for first in range(0, employees, CHUNK):
            persons, enrollments, bases = [], [], []
            for n in range(first, min(first + CHUNK, employees)):
                person, enrollment = uuid.uuid4(), uuid.uuid4()
                born = date(1966, 1, 1) + timedelta(days=(n * 37) % 12_000)  # ages 26–60: every account band
                persons.append((person, "resident_id", f"B{n:017d}", "职工", "male", born, OFFICE))
                start = date(2020, 1, 1) if n % 20 else date(2026, 3, 15)  # one in twenty added mid-month
                enrollments.append((enrollment, person, OFFICE, "employee", start.year, "approved", 1, "bench", now,
                                    codes[n % units], "in_service", start, "employee", "职工参保"))  # fmt: skip
                if n % 2:
                    bases.append(
                        (enrollment, date(2026, 1, 1), Decimal(3000 + (n * 7919) % 25_000), "bench", now)
                    )
            await connection.copy_records_to_table(
                "persons", records=persons,
                columns=["id", "id_type", "id_number", "name", "sex", "birth_date", "office_code"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "enrollments", records=enrollments,
                columns=["id", "person_id", "office_code", "scheme", "coverage_year", "status", "version", "submitted_by",
                         "submitted_at", "unit_code", "category", "benefit_start", "period_rule", "period_explanation"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "contribution_bases", records=bases,
                columns=["enrollment_id", "effective_from", "declared_wage", "declared_by", "declared_at"],
            )  # fmt: skip
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def one_size(admin_url: str, units: int, employees: int) -> dict:
    url = service_database_url(admin_url, "registration")
    await load(url, units, employees)
    loaded_rss = rss_mib()
    engine = make_engine(url, pool_size=2, schema="registration")
    sessions = make_session_factory(engine)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        async with UnitOfWork(sessions, CLOCK, "registration") as uow:
            done = await issue_month(uow, STAFF, month=MONTH, office_code=OFFICE)
            await uow.commit()
        issue_s, issue_cpu = time.perf_counter() - started, time.process_time() - cpu
        issue_rss = rss_mib()
        started = time.perf_counter()
        async with UnitOfWork(sessions, CLOCK, "registration") as uow:
            again = await issue_month(uow, STAFF, month=MONTH, office_code=OFFICE)
            await uow.commit()
        rerun_s = time.perf_counter() - started
        return {"units": units, "employees": employees, "issued": done.issued, "lines": done.lines, "total": done.total,
                "issue_s": issue_s, "issue_cpu": issue_cpu, "lines_per_s": done.lines / issue_s, "loaded_rss": loaded_rss, "issue_rss": issue_rss,
                "rerun_s": rerun_s, "rerun_skipped": again.already_issued}  # fmt: skip
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1000:50000", "10000:500000"], help="units:employees")
    args = parser.parse_args()
    print(
        f"contribution notices benchmark: {host.processor()} {host.machine()}, python {host.python_version()}"
    )
    print(f"{'units':>7} | {'employees':>9} | {'notices':>7} | {'lines':>7} | {'issue s':>7} | {'CPU s':>6} | {'lines/s':>7} | "
          f"{'RSS loaded':>10} | {'RSS issued':>10} | {'2nd run s':>9} | total")  # fmt: skip
    for size in args.sizes:
        units, employees = (int(x) for x in size.split(":"))
        with isolated_servers() as servers:
            asyncio.run(bootstrap(servers.admin_url, ["registration"]))
            upgrade(REPO / "svc-registration", service_database_url(servers.admin_url, "registration"))
            r = asyncio.run(one_size(servers.admin_url, units, employees))
        print(
            f"{r['units']:>7,} | {r['employees']:>9,} | {r['issued']:>7,} | {r['lines']:>7,} | {r['issue_s']:>7.1f} | {r['issue_cpu']:>6.1f} | "
            f"{r['lines_per_s']:>7,.0f} | {r['loaded_rss']:>7.0f} MiB | {r['issue_rss']:>7.0f} MiB | {r['rerun_s']:>9.1f} | "
            f"{r['total']:,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
