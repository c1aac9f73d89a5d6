"""Where each kind of request's CPU goes: milliseconds of the machine's CPU per request, by process.

    uv run python -m bench.split [--kinds enroll eligibility registry declare claim] [--seconds 8]
                                 [--concurrency 16] [--rounds 1]

One platform (one process per service) on a database and broker namespace of its own. Each kind of
the district mix (bench.load) and a whole reimbursement claim (bench.claims_flow's five requests) is
sent alone through the gateway for the given time. Each process's CPU time (user + system, read from
/proc) over the run, divided by the requests answered, is its cost per request; the load generator
(this process) is counted too. On a machine whose cores every process shares, these are what a
figure in requests per second is made of. Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections import defaultdict

import aiohttp

from bench.claims_flow import carry, covered_persons
from bench.load import Load, known_facilities
from bench.platform import NO_RATE_LIMIT, running_platform
from shared.auth import Principal, Role
from yb_deploy.platform import APPS
from yb_deploy.pytest_plugin import isolated_servers

TICKS = os.sysconf("SC_CLK_TCK")
PROCESSES = {app.split(".")[0]: app.split(".")[0].removeprefix("svc_") for app in APPS.values()} | {
    "postgres": "postgres",
    "beam.smp": "rabbitmq",
}
KINDS = ("enroll", "eligibility", "registry", "declare", "claim")
CLAIM_REQUESTS = 5


def cpu_seconds_by_process() -> dict[str, float]:
    """CPU seconds so far of the platform's processes by kind, and of this one (the load generator)."""
    seconds: dict[str, float] = defaultdict(float)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        kind = (
            "loadgen"
            if int(pid) == os.getpid()
            else next((k for w, k in PROCESSES.items() if w in command), None)
        )
        if kind is not None:
            seconds[kind] += (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


async def send(
    kind: str, load: Load, claims: tuple[list[uuid.UUID], dict, dict], seconds: float, clients: int
) -> int:
    """Requests of one kind for the given time; the number answered."""
    until = time.monotonic() + seconds
    timings: dict[str, list[float]] = defaultdict(list)
    persons, district, city = claims

    async def client() -> None:
        while time.monotonic() < until and (
            kind != "declare" or load.facilities
        ):  # each facility declares once
            if kind == "claim":
                await carry(load.client, persons.pop(), district, city, timings)
            else:
                await getattr(load, kind)()

    await asyncio.gather(*(client() for _ in range(clients)))
    if kind == "claim":
        return len(timings["claim"]) * CLAIM_REQUESTS
    return len(load.latency[kind])


async def run(config, issuer, admin_url: str, args) -> None:  # type: ignore[no-untyped-def]
    def bearer(principal: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(principal, ttl_s=7200)}"}

    clerk = bearer(
        Principal(subject="split-clerk", role=Role.staff, office_code="120101", office_level="district")
    )
    city = bearer(Principal(subject="split-city", role=Role.staff, office_code="120000", office_level="city"))
    facilities = await known_facilities(admin_url, 3_000, 1)
    persons = await covered_persons(admin_url, 6_000) if "claim" in args.kinds else []
    async with aiohttp.ClientSession(config.gateway_url, connector=aiohttp.TCPConnector(limit=64)) as client:
        load = Load(client, issuer, clerk, facilities)
        load.list_callers(residents=3_000)
        await asyncio.gather(*(load.enroll() for _ in range(200)))  # people whose eligibility is read
        await asyncio.sleep(2)
        print(f"{'kind':<12} {'req/s':>6} {'errors':>6}  ms CPU per request: all = "
              + " + ".join(sorted(set(PROCESSES.values()) | {"loadgen"})), flush=True)  # fmt: skip
        for _ in range(args.rounds):
            for kind in args.kinds:
                load.latency.clear()
                load.errors.clear()
                before, started = cpu_seconds_by_process(), time.monotonic()
                answered = await send(kind, load, (persons, clerk, city), args.seconds, args.concurrency)
                wall, after = time.monotonic() - started, cpu_seconds_by_process()
                cost = {k: (after[k] - before.get(k, 0.0)) * 1000 / max(1, answered) for k in after}
                parts = " + ".join(f"{k} {cost[k]:.2f}" for k in sorted(cost))
                print(f"{kind:<12} {answered / wall:>6.0f} {sum(load.errors.values()):>6}  "
                      f"{sum(cost.values()):.2f} = {parts}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with isolated_servers() as servers, running_platform(servers, **NO_RATE_LIMIT) as (config, issuer):
        asyncio.run(run(config, issuer, servers.admin_url, args))


if __name__ == "__main__":
    main()
