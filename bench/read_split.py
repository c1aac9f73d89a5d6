"""Where the authenticated read's CPU goes: microseconds of CPU per request in each process.

    uv run python -m bench.read_split [--seconds 5] [--rounds 2] [--approvals 0]

One platform (one process per service) on a database and broker namespace of its own; wrk sends
GET /api/v1/claims/eligibility/me at 16 connections through the gateway, then straight to svc-claims,
`--rounds` times. Each process's CPU time (user + system, from /proc) over the run, divided by the
requests answered, gives its cost per request: what a figure in requests per second is made of on
a machine whose cores every process shares. `--approvals N` first enrolls and approves N residents,
as `bench.platform_figures` does before its reads. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench import backbone
from bench.platform import NO_RATE_LIMIT, running_platform
from bench.platform_figures import READ, make_zhangsan_eligible
from bench.split import cpu_seconds_by_process
from yb_deploy.pytest_plugin import isolated_servers

# The processes that answer the read (wrk itself has ended by the time its CPU could be read, so the load
# generator is not counted).
SHOWN = ("gateway", "claims", "postgres", "rabbitmq")


def split(url: str, bearer: str) -> tuple[dict, dict[str, float]]:
    before = cpu_seconds_by_process()
    answered = backbone.load(url, bearer, 16)
    after = cpu_seconds_by_process()
    requests = answered["rps"] * backbone.HTTP_SECONDS
    return answered, {kind: (after[kind] - before.get(kind, 0.0)) / requests * 1e6 for kind in after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--approvals", type=int, default=0)
    args = parser.parse_args()
    backbone.HTTP_SECONDS = args.seconds
    with isolated_servers() as servers, running_platform(servers, **NO_RATE_LIMIT) as (config, _):
        with httpx.Client(base_url=config.gateway_url, timeout=30) as client:
            staff = backbone.token(client, "staff-heping")
            insured = backbone.token(client, "zhangsan")
            make_zhangsan_eligible(client, staff)
        if args.approvals:
            asyncio.run(backbone.approve_many(config, staff, args.approvals))
        time.sleep(2)
        print(
            f"{'':<9} {'req/s':>6} {'errors':>6}   µs CPU per request: "
            + "  ".join(f"{n:>10}" for n in SHOWN)
        )
        for _ in range(args.rounds):
            for label, url in (
                ("gateway", config.gateway_url + READ),
                ("direct", config.service_url("claims") + READ),
            ):
                answered, costs = split(url, insured)
                print(f"{label:<9} {answered['rps']:>6.0f} {answered['errors']:>6}   {'':<19}"
                      + "  ".join(f"{costs.get(n, 0.0):>10.0f}" for n in SHOWN), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
