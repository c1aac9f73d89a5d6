"""What one round trip to PostgreSQL costs the client here: microseconds of CPU and of wall time.

    uv run python -m bench.round_trip [--count 5000] [--rounds 2]

asyncpg on uvloop, as the services run it, against a private database of its own: a prepared one-row
`SELECT $1` in a loop, and an empty transaction (`BEGIN` then `COMMIT`, two round trips). Every request
pays this per statement it sends, whatever the statement does: the floor under the figures of
bench/README.md ("where the time goes"). Printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable

import asyncpg
import uvloop

from shared.events.relay import asyncpg_dsn
from yb_deploy.pytest_plugin import isolated_servers


async def per_iteration(step: Callable[[], Awaitable[object]], count: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        await step()
    return (time.process_time() - cpu) / count * 1e6, (time.perf_counter() - wall) / count * 1e6


async def measure(database_url: str, count: int, rounds: int) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))

    async def empty_transaction() -> None:
        await connection.execute("BEGIN")
        await connection.execute("COMMIT")

    try:
        for _ in range(rounds):
            for label, step in (("SELECT $1 (one round trip)", lambda: connection.fetch("SELECT $1::int", 1)),
                                ("BEGIN + COMMIT (two)", empty_transaction)):  # fmt: skip
                cpu, wall = await per_iteration(step, count)
                print(f"{label:<28} {cpu:7.1f} µs CPU  {wall:7.1f} µs wall", flush=True)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with isolated_servers() as servers:
        uvloop.run(measure(servers.admin_url, args.count, args.rounds))


if __name__ == "__main__":
    main()
