"""Benefit quotes: in-process on one core, and through the gateway. Figures printed, never asserted.

    uv run python -m bench.quote [--seconds 5] [--gateway-seconds 10] [--concurrency 1 16] [--no-gateway]
    uv run python -m bench.quote --instructions    # machine instructions per quote, under valgrind

The bill is the year's first stay of a subsistence-allowance resident at a level-3 hospital, large
enough to reach every stage of the one-stop settlement: out-of-scope costs, the deductible, the fund to
its ratio and its cap, three major-illness bands, both assistance bands and catastrophic assistance,
eleven explained lines (the most the 2021 rules give one bill); in-process, an ordinary first stay with
basic insurance only (four lines) is timed beside it. In-process, one process computes quotes back to
back (one core). Through the gateway, the whole platform runs on a database and broker namespace of its
own and `POST /api/v1/claims/quote` is sent by N clients with the richest bill.

Time on a shared VM moves with its neighbours; ``--instructions`` counts what a quote executes instead
(valgrind's callgrind, instrumenting only the loop: the count at 2,000 quotes less the count at none),
the same from run to run, to compare two versions of the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import platform as host
import statistics
import time

import aiohttp

from bench import callgrind
from svc_claims.api.quote import QuoteRequest, context_of
from svc_claims.domain.benefits import QuoteContext, quote
from svc_claims.repository.policies import load_policy

BODY = {
    "scheme": "resident", "tier": "adult_low", "special_groups": ["subsistence"], "service_date": "2021-06-10",
    "admission_date": "2021-05-20", "facility_level": 3, "care_type": "inpatient", "in_scope": "560000.00",
    "out_of_scope": "12000.00",
}  # fmt: skip
# The common case beside it: a resident's first stay of the year at a level-2 hospital, basic insurance only.
ORDINARY = {
    "scheme": "resident", "tier": "adult_middle", "service_date": "2021-06-10", "admission_date": "2021-06-01",
    "facility_level": 2, "care_type": "inpatient", "in_scope": "30000.00", "out_of_scope": "2000.00",
}  # fmt: skip


BILLS = {"richest bill": BODY, "ordinary stay": ORDINARY}


def _context(name: str) -> QuoteContext:
    return context_of(QuoteRequest.model_validate(BILLS[name]))  # as the endpoint builds it


def in_process(seconds: float) -> None:
    """Back to back for ``seconds``, in chunks of 1,000: the mean over the run, and the median and best chunk
    (a shared VM's neighbours steal time from some chunks; the median is what a quote costs most of the time)."""
    policy = load_policy("120000", "resident", 2021)
    for name in BILLS:
        ctx = _context(name)
        bill = quote(ctx, policy)
        chunks: list[float] = []
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            chunk = time.perf_counter()
            for _ in range(1000):
                quote(ctx, policy)
            chunks.append(time.perf_counter() - chunk)
        mean, median, best = (
            sum(chunks) / len(chunks) / 1000,
            statistics.median(chunks) / 1000,
            min(chunks) / 1000,
        )
        print(f"in-process, one core, {name} ({len(bill.lines)} lines, fund {bill.fund} of {bill.total}): "
              f"mean {1 / mean:,.0f} quotes/s ({mean * 1e6:.1f} µs), median {1 / median:,.0f}/s ({median * 1e6:.1f} µs), "
              f"best {1 / best:,.0f}/s ({best * 1e6:.1f} µs)")  # fmt: skip


def instructions(quotes: int = 2000) -> None:
    if not callgrind.available():
        print(callgrind.MISSING)
        return
    for name in BILLS:
        count = callgrind.per_unit("bench.quote", ["--count-under-valgrind", name], (0, quotes))
        print(f"instructions per quote, {name}: {count:,.0f}")


def _count_under_valgrind(name: str, quotes: int) -> None:
    policy = load_policy("120000", "resident", 2021)
    ctx = _context(name)
    quote(ctx, policy)  # what is worked out once per policy is not counted
    callgrind.collecting(True)
    for _ in range(quotes):
        quote(ctx, policy)
    callgrind.collecting(False)


def through_gateway(seconds: float, concurrencies: list[int]) -> None:
    from bench.platform import NO_RATE_LIMIT, running_platform
    from shared.auth import Principal, Role
    from yb_deploy.pytest_plugin import isolated_servers

    with isolated_servers() as servers, running_platform(servers, **NO_RATE_LIMIT) as (config, issuer):
        tokens = [issuer.issue(Principal(subject=f"bench-staff-{n}", role=Role.staff, office_code="120101", office_level="district"))
                  for n in range(max(concurrencies))]  # fmt: skip
        print(" clients |  quotes/s |      p50 |      p99 | errors")
        for clients in concurrencies:
            latencies, errors = asyncio.run(_load(config.gateway_url, tokens[:clients], seconds))
            cuts = statistics.quantiles(latencies, n=100)
            print(
                f" {clients:7d} | {len(latencies) / seconds:9,.0f} | {cuts[49] * 1000:6.1f} ms | {cuts[98] * 1000:6.1f} ms | {errors}",
                flush=True,
            )


async def _load(gateway_url: str, tokens: list[str], seconds: float) -> tuple[list[float], int]:
    """N clients sending quotes back to back (aiohttp: httpx's client degrades with concurrency, docs/adr/0001-foundation.md)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(
        base_url=gateway_url, connector=aiohttp.TCPConnector(limit=len(tokens))
    ) as session:

        async def one_client(token: str) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(
                    "/api/v1/claims/quote", json=BODY, headers={"Authorization": f"Bearer {token}"}
                ) as answer:
                    await answer.read()
                    errors += answer.status != 200
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one_client(t) for t in tokens))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--gateway-seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions per quote under valgrind (callgrind)"
    )
    parser.add_argument("--count-under-valgrind", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_under_valgrind:
        _count_under_valgrind(args.count_under_valgrind[0], int(args.count_under_valgrind[1]))
        return
    if args.instructions:
        instructions()
        return
    print(f"benefit quote benchmark on {host.node()} ({host.machine()}, Python {host.python_version()})")
    in_process(args.seconds)
    if not args.no_gateway:
        through_gateway(args.gateway_seconds, args.concurrency)


if __name__ == "__main__":
    main()
