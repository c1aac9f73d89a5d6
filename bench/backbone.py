"""`make bench`: figures of the foundation, printed (never asserted).

1. events per second through outbox → relay → broker → consumer, for 1,000 and 10,000 events;
2. p50/p99 latency from `registration.approved` written to `claims.eligible` recorded (the whole
   platform running, approvals sent through the gateway);
3. requests per second and p50/p99 of an authenticated read through the gateway and, in the same
   run, of the same read sent straight to the service (wrk when installed).

Runs against its own database and broker namespace, like the tests, and removes them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform as host
import random
import shutil
import statistics
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import httpx
from sqlalchemy import func, select
from stdnum.cn import ric

from bench.platform import NO_RATE_LIMIT, running_platform
from shared.events.relay import asyncpg_dsn
from shared.testing.backbone import Backbone, create_schema, effects
from shared.testing.runs import RunServers, delete_broker_namespace
from yb_deploy.platform import PlatformConfig
from yb_deploy.pytest_plugin import isolated_servers

HERE = Path(__file__).parent
CONNECTIONS = (1, 16, 64)
HTTP_SECONDS = int(os.environ.get("YB_BENCH_HTTP_SECONDS", "8"))
APPROVALS = int(os.environ.get("YB_BENCH_APPROVALS", "300"))


# 1. The event pipeline --------------------------------------------------------------------------


async def pipeline(servers: RunServers, count: int, run: int) -> dict:
    await create_schema(servers.admin_url)
    backbone = Backbone(servers.admin_url, servers.broker_url, f"{servers.namespace}p{run}")
    await backbone.broker.connect()
    consumer = backbone.consumer("bench", prefetch=256)
    await consumer.start()
    baseline = await effect_total(backbone)
    started = time.perf_counter()
    envelopes = []
    for start in range(0, count, 500):
        envelopes += await backbone.emit(range(start, min(count, start + 500)))
    written = time.perf_counter() - started
    stop = asyncio.Event()
    relay_started = time.perf_counter()
    relay = asyncio.create_task(backbone.relay(batch_size=500).run(stop))
    while await effect_total(backbone) < baseline + count:
        await asyncio.sleep(0.1)
    delivered = time.perf_counter() - relay_started
    stop.set()
    await relay
    await backbone.close()
    await delete_broker_namespace(servers.broker_url, backbone.broker.namespace, ["bench"])
    return {
        "events": count,
        "outbox_write_per_s": count / written,
        "delivered_per_s": count / delivered,
        "seconds": delivered,
    }


async def effect_total(backbone: Backbone) -> int:
    async with backbone.sessions() as session:
        return (await session.execute(select(func.count()).select_from(effects))).scalar_one()


# 2 and 3. The platform ---------------------------------------------------------------------------


def token(client: httpx.Client, username: str) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": "Demo@2026"})
    response.raise_for_status()
    return response.json()["access_token"]


def resident_id(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
    body = f"120101{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


async def approve_many(
    config: PlatformConfig, staff_token: str, count: int, per_s: float | None = None
) -> float:
    """Enroll `count` residents through the gateway, then approve them: `per_s` approvals sent each
    second whatever the answers (an office's steady rate, the figure's condition), or else four at a
    time. Returns the approvals answered per second, from the first sent to the last answered.
    aiohttp, which costs the machine a fraction of httpx's CPU per request."""
    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {staff_token}"}
    enrollments: list[str] = []

    async def enroll(client: aiohttp.ClientSession, id_number: str, gate: asyncio.Semaphore) -> None:
        body = {"person": {"id_number": id_number, "name": "测试"}, "office_code": "120101", "tier": "adult_low",
                "coverage_year": 2026, "paid_on": "2025-10-15", "materials": {"id_document": "original"}}  # fmt: skip
        async with (
            gate,
            client.post("/api/v1/registration/enrollments/residents", json=body, headers=headers) as made,
        ):
            if made.status == 201:  # else the random ID repeated: skip it
                enrollments.append((await made.json())["id"])

    async def approve(client: aiohttp.ClientSession, enrollment: str, gate: asyncio.Semaphore | None) -> None:
        async with gate or contextlib.nullcontext():
            url = f"/api/v1/registration/enrollments/{enrollment}/approve"
            async with client.post(url, json={"version": 1}, headers=headers) as answer:
                answer.raise_for_status()

    async with aiohttp.ClientSession(config.gateway_url, timeout=aiohttp.ClientTimeout(total=30),
                                     connector=aiohttp.TCPConnector(limit=0)) as client:  # fmt: skip
        gate = asyncio.Semaphore(8)
        await asyncio.gather(*(enroll(client, resident_id(rng), gate) for _ in range(count)))
        started = time.perf_counter()
        if per_s is None:
            gate = asyncio.Semaphore(4)
            await asyncio.gather(*(approve(client, enrollment, gate) for enrollment in enrollments))
        else:
            sent = []
            for n, enrollment in enumerate(enrollments):
                await asyncio.sleep(max(0.0, started + n / per_s - time.perf_counter()))
                sent.append(asyncio.create_task(approve(client, enrollment, None)))
            await asyncio.gather(*sent)
    return len(enrollments) / (time.perf_counter() - started)


async def approval_latencies(admin_url: str) -> list[float]:
    """Seconds from each registration.approved outbox row to the claims.eligible it caused."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        rows = await conn.fetch(
            """
            SELECT extract(epoch FROM c.created_at - r.created_at) AS seconds
            FROM registration.outbox r
            JOIN claims.outbox c ON c.envelope->>'causation_id' = r.event_id::text
            WHERE r.event_type = 'registration.approved' AND c.event_type = 'claims.eligible'
            """
        )
    finally:
        await conn.close()
    return sorted(float(r["seconds"]) for r in rows)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def load(url: str, bearer: str, connections: int) -> dict:
    if shutil.which("wrk"):
        command = ["wrk", "-t1", f"-c{connections}", f"-d{HTTP_SECONDS}s", "--latency", "-s", str(HERE / "wrk_report.lua"),
                   "-H", f"Authorization: Bearer {bearer}", url]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        report = json.loads(output.strip().splitlines()[-1])
        return {
            "rps": report["requests"] / (report["duration_us"] / 1e6),
            "p50_ms": report["p50_us"] / 1000,
            "p99_ms": report["p99_us"] / 1000,
            "errors": report["errors"] + report["non2xx"],
            "tool": "wrk",
        }
    return asyncio.run(python_load(url, bearer, connections))


async def python_load(url: str, bearer: str, connections: int) -> dict:
    """Fallback when wrk is missing: less accurate, it shares the CPU with the platform."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + HTTP_SECONDS

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(url, headers={"Authorization": f"Bearer {bearer}"})
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=connections)) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    latencies.sort()
    return {"rps": len(latencies) / HTTP_SECONDS, "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000, "errors": errors, "tool": "python"}  # fmt: skip


def main() -> None:
    print(
        f"machine: {host.node()} · {os.cpu_count()} cores · Python {host.python_version()} · {time.strftime('%Y-%m-%d %H:%M')}"
    )
    with isolated_servers() as servers:
        print("\n1. outbox → relay → broker → consumer (one relay, one consumer, prefetch 256)")
        for run, count in enumerate((1_000, 10_000)):
            r = asyncio.run(pipeline(servers, count, run))
            print(f"   {count:>6} events: {r['delivered_per_s']:8.0f} events/s delivered ({r['seconds']:.2f} s); "
                  f"outbox writes {r['outbox_write_per_s']:.0f} events/s")  # fmt: skip

        with running_platform(servers, **NO_RATE_LIMIT) as (config, _):
            with httpx.Client(base_url=config.gateway_url, timeout=30) as client:
                staff = token(client, "staff-heping")
                insured = token(client, "zhangsan")
                asyncio.run(approve_many(config, staff, APPROVALS))
                time.sleep(2)
                latencies = asyncio.run(approval_latencies(servers.admin_url))
                print(
                    f"\n2. registration.approved written → claims.eligible recorded ({len(latencies)} approvals through the gateway)"
                )
                print(f"   p50 {percentile(latencies, 50) * 1000:.1f} ms · p99 {percentile(latencies, 99) * 1000:.1f} ms · "
                      f"mean {statistics.mean(latencies) * 1000:.1f} ms")  # fmt: skip

                # The read: zhangsan's own eligibility (make him eligible first).
                body = {
                    "person": {"id_number": "120101199003071235", "name": "张三"},
                    "office_code": "120101",
                    "tier": "adult_middle",
                    "coverage_year": 2027,
                    "paid_on": "2026-10-15",
                    "materials": {"id_document": "original"},
                }
                created = client.post(
                    "/api/v1/registration/enrollments/residents",
                    json=body,
                    headers={"Authorization": f"Bearer {staff}"},
                )
                client.post(
                    f"/api/v1/registration/enrollments/{created.json()['id']}/approve",
                    json={"version": 1},
                    headers={"Authorization": f"Bearer {staff}"},
                )
                time.sleep(1)
            path = "/api/v1/claims/eligibility/me?on=2027-06-01"
            print(f"\n3. authenticated read GET {path} ({HTTP_SECONDS} s per run)")
            print(
                "   connections |   through the gateway (req/s, p50, p99) |   direct to svc-claims (req/s, p50, p99) | kept"
            )
            for connections in CONNECTIONS:
                via = load(config.gateway_url + path, insured, connections)
                direct = load(config.service_url("claims") + path, insured, connections)
                print(f"   {connections:>11} | {via['rps']:8.0f} {via['p50_ms']:7.2f} ms {via['p99_ms']:7.2f} ms (err {via['errors']}) "
                      f"| {direct['rps']:8.0f} {direct['p50_ms']:7.2f} ms {direct['p99_ms']:7.2f} ms (err {direct['errors']}) "
                      f"| {via['rps'] / direct['rps'] * 100:4.0f}%")  # fmt: skip
            print(f"   load generator: {via['tool']}")


if __name__ == "__main__":
    main()
