"""What the audit's hash chain costs: rows written into a service's sealed access audit, chained and not.

    uv run python -m bench.audit_chain [--rows 5000] [--batch 50]

A private database is bootstrapped and migrated as svc-facility's; rows are inserted as the service's
own role in batches (the size the audit flush writes), first with the chain trigger, then with it
dropped (by the administrator), several rounds interleaved. Printed: rows per second and the
database time per row, for both. Nothing is asserted: speed is read, not tested.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg

from shared.events.relay import asyncpg_dsn
from shared.migrations import bootstrap, service_database_url, upgrade
from yb_deploy.platform import REPO
from yb_deploy.pytest_plugin import isolated_servers

ROW = (
    "bench-subject",
    "staff",
    "120101",
    "GET",
    "/api/v1/facility/applications",
    200,
    None,
    "GET /applications",
)


async def insert_rows(dsn: str, rows: int, batch: int) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        for _ in range(rows // batch):
            async with conn.transaction():
                await conn.executemany(
                    "INSERT INTO access_audit (subject, role, office_code, method, path, status, request_id, operation,"
                    " person_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    [(*ROW[:6], uuid.uuid4().hex, ROW[7], [uuid.uuid4()]) for _ in range(batch)],
                )
        return time.perf_counter() - started
    finally:
        await conn.close()


async def set_chain(admin_dsn: str, on: bool) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if on:
            await conn.execute("SELECT yb_audit.chain('facility.access_audit')")
        else:
            await conn.execute("DROP TRIGGER access_audit_chain ON facility.access_audit")
    finally:
        await conn.close()


async def measure(admin_url: str, rows: int, batch: int, rounds: int) -> dict[str, list[float]]:
    dsn = asyncpg_dsn(service_database_url(admin_url, "facility"))
    admin = asyncpg_dsn(admin_url)
    seconds: dict[str, list[float]] = {"chained": [], "not chained": []}
    for _ in range(rounds):
        for chained in (True, False):
            await set_chain(admin, chained)
            seconds["chained" if chained else "not chained"].append(await insert_rows(dsn, rows, batch))
    await set_chain(admin, True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with isolated_servers() as servers:
        asyncio.run(bootstrap(servers.admin_url, ["facility"]))
        upgrade(REPO / "svc-facility", service_database_url(servers.admin_url, "facility"))
        seconds = asyncio.run(measure(servers.admin_url, args.rows, args.batch, args.rounds))
    print(f"access audit inserts · {args.rows} rows in batches of {args.batch} · best of {args.rounds}")
    for name, runs in seconds.items():
        best = min(runs)
        print(f"   {name:<12} {args.rows / best:8.0f} rows/s · {best / args.rows * 1e6:6.0f} µs per row "
              f"(all: {', '.join(f'{args.rows / s:.0f}' for s in runs)} rows/s)")  # fmt: skip


if __name__ == "__main__":
    main()
