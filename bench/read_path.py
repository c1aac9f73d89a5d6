"""The service's own request path, in process: an authenticated read of svc-claims against a bare endpoint.

    uv run python -m bench.read_path [--requests 3000] [--profile] [--instructions]

No server and no network: httpx's ASGI transport calls the app directly, so what is timed is the
service's request path (middleware, token check, dependencies, the two queries, the answer) and
nothing of uvicorn or a load generator. The read and a bare endpoint run in the same process, several
rounds interleaved, so the machine's drift hits both alike; the CPU this process spent per request
is printed too (a busy machine disturbs it far less than requests per second).

`--instructions` counts instead the CPU instructions this process spends per read (callgrind, from
Debian's valgrind): the same count run after run whatever else the machine does, so two versions of
the code compare to a fraction of a percent where timings on this machine move by tens of percent.
The process runs twice under callgrind, collecting only while it sends 300 and then 600 reads; the
difference divided by 300 is one read's count (the request path and the in-process client's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import date
from typing import Any

import httpx
import uvloop
from fastapi import FastAPI

from bench import callgrind
from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.migrations import bootstrap, service_database_url, upgrade
from shared.testing.runs import RunServers
from yb_deploy.platform import REPO
from yb_deploy.pytest_plugin import isolated_servers

PATH = "/api/v1/claims/eligibility/me?on=2027-06-01"
ISSUER, AUDIENCE = "https://auth.yibao.local", "yibao-platform"


def claims_app(servers: RunServers) -> tuple[FastAPI, dict[str, str], uuid.UUID]:
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
    person = uuid.uuid4()
    token = issuer.issue(Principal(subject="bench-insured", role=Role.insured, person_id=person))
    return create_app(settings), {"Authorization": f"Bearer {token}"}, person


async def seed_coverage(app: FastAPI, person: uuid.UUID) -> None:
    from svc_claims.models import coverages

    async with app.state.runtime.sessions() as session:
        await session.execute(coverages.insert().values(
            enrollment_id=uuid.uuid4(), person_id=person, office_code="120101", scheme="resident", tier="adult_middle",
            benefit_start=date(2027, 1, 1), benefit_end=date(2027, 12, 31), source_event_id=uuid.uuid4(),
        ))  # fmt: skip
        await session.commit()


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"person_id": str(uuid.uuid4()), "eligible": True}

    return app


@contextlib.asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def rate(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], requests: int, concurrency: int = 16
) -> float:
    """Requests per second of `requests` reads, `concurrency` at a time; every answer must be 200."""
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            answer = await client.get(url, headers=headers)
            assert answer.status_code == 200, answer.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


INSTRUCTION_RUNS = (300, 600)


@contextlib.asynccontextmanager
async def warm_read(servers: RunServers) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client of svc-claims in this process whose read answers: token cached, pool filled, statements prepared."""
    app, headers, person = claims_app(servers)
    async with client_of(app) as client:
        await seed_coverage(app, person)
        assert (await client.get(PATH, headers=headers)).json()["eligible"] is True
        await rate(client, PATH, headers, 200)
        yield client, headers


async def counted_reads(servers: RunServers, requests: int) -> None:
    async with warm_read(servers) as (client, headers):
        callgrind.collecting(True)
        await rate(client, PATH, headers, requests)
        callgrind.collecting(False)


async def measure(
    servers: RunServers,
    requests: int,
    rounds: int,
    profile: bool,
    concurrency: int = 16,
    as_json: bool = False,
) -> None:
    async with warm_read(servers) as (client, headers), client_of(bare_app()) as bare:
        if profile:
            from pyinstrument import Profiler

            with Profiler(async_mode="enabled") as profiler:
                await rate(client, PATH, headers, requests)
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return
        variants = {
            "bare FastAPI endpoint": (bare, "/bare", {}),
            "svc-claims eligibility/me": (client, PATH, headers),
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, (target, url, with_headers) in variants.items():
                cpu = time.process_time()
                per_s = await rate(target, url, with_headers, requests, concurrency)
                figures[name].append((per_s, (time.process_time() - cpu) / requests * 1e6))
        if as_json:  # for bench.compare: the read's best rate and least CPU per request
            read = figures["svc-claims eligibility/me"]
            print(json.dumps({"read_in_process_per_s": max(v[0] for v in read),
                              "read_cpu_us_per_request": min(v[1] for v in read)}))  # fmt: skip
            return
        for name, values in figures.items():
            best = max(values)
            print(f"   {name:<28} {best[0]:7.0f} req/s · {min(v[1] for v in values):5.0f} µs CPU/request in this process "
                  f"(best of {rounds}; all {', '.join(f'{v[0]:.0f}' for v in values)})")  # fmt: skip
        print(f"   load after: {os.getloadavg()[0]:.1f}")


def in_process_options(doc: str | None, unit: str, concurrency: int) -> argparse.ArgumentParser:
    """The options of an in-process benchmark (`bench.read_path`, `bench.claim_path`); `unit` is what
    one measured piece of work is called (a read, a claim)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=concurrency)
    parser.add_argument(
        "--profile", action="store_true", help=f"a pyinstrument profile of the {unit}s instead of rates"
    )
    parser.add_argument(
        "--instructions", action="store_true", help=f"CPU instructions per {unit} (callgrind)"
    )
    parser.add_argument("--counted", type=int, help=argparse.SUPPRESS)  # the run under callgrind
    parser.add_argument("--json", action="store_true", help="one JSON line of figures (bench.compare)")
    return parser


def main() -> None:
    parser = in_process_options(__doc__, "read", concurrency=16)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    if args.instructions:
        count = callgrind.count_per_unit("bench.read_path", ["--counted"], INSTRUCTION_RUNS)
        print(json.dumps({"read_instructions_per_request": count}) if args.json
              else f"   svc-claims eligibility/me   {count / 1e6:.3f} million instructions per read in process")  # fmt: skip
        return
    if not args.json:
        print(
            f"in-process read path · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f} · {time.strftime('%Y-%m-%d %H:%M')}"
        )
    if args.counted:
        on_claims_database(lambda servers: counted_reads(servers, args.counted))
    else:
        on_claims_database(
            lambda servers: measure(
                servers, args.requests, args.rounds, args.profile, args.concurrency, args.json
            )
        )


def on_claims_database(run: Callable[[RunServers], Coroutine[Any, Any, None]]) -> None:
    """`run` on a private database migrated as svc-claims', on uvloop as uvicorn runs the services."""
    with isolated_servers() as servers:
        asyncio.run(bootstrap(servers.admin_url, ["claims"]))
        upgrade(REPO / "svc-claims", service_database_url(servers.admin_url, "claims"))
        uvloop.run(run(servers))


if __name__ == "__main__":
    main()
