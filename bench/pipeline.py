"""The event pipeline: outbox → relay → broker → consumer, one relay and one consumer process.

`uv run python -m bench.pipeline [--events 5000] [--prefetch 256] [--rounds 2] [--json]` writes the
events to the outbox first, starts the consumer in a process of its own, then the relay in this one,
and waits until the consumer has applied them all: as deployed, where the relay runs in the producing
service's process and the consumer in the consuming service's. Besides events per second it prints
the CPU both processes spent per event, which a busy machine disturbs far less than the wall clock.
`make bench` runs it against the current tree and the previous implementation side by side
(bench/compare.py).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import multiprocessing
import time
from multiprocessing.connection import Connection

import uvloop
from sqlalchemy import func, select

from shared.testing.backbone import Backbone, create_schema, effects
from shared.testing.runs import RunServers, delete_broker_namespace
from yb_deploy.pytest_plugin import isolated_servers


async def effect_total(backbone: Backbone) -> int:
    async with backbone.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(effects))).scalar_one())


def consume(servers: RunServers, namespace: str, prefetch: int, ready: Connection, done: Connection) -> None:
    """The consumer process: consumes until told to stop, then sends the CPU it spent meanwhile."""

    async def run() -> None:
        backbone = Backbone(servers.admin_url, servers.broker_url, namespace)
        await backbone.broker.connect()
        consumer = backbone.consumer("bench", prefetch=prefetch)
        await consumer.start()
        cpu = time.process_time()
        ready.send(True)
        await asyncio.get_running_loop().run_in_executor(None, done.recv)
        ready.send(time.process_time() - cpu)
        if inspect.iscoroutinefunction(getattr(consumer, "stop", None)):
            await consumer.stop()
        await backbone.close()

    uvloop.run(run())  # the services' loop (uvicorn runs them on uvloop)


async def one_run(servers: RunServers, count: int, prefetch: int, run: int) -> dict[str, float]:
    await create_schema(servers.admin_url)
    namespace = f"{servers.namespace}p{run}"
    backbone = Backbone(servers.admin_url, servers.broker_url, namespace)
    await backbone.broker.connect()
    baseline = await effect_total(backbone)
    for start in range(0, count, 500):
        await backbone.emit(range(start, min(count, start + 500)))
    spawn = multiprocessing.get_context("spawn")
    (ready_here, ready_there), (done_here, done_there) = spawn.Pipe(), spawn.Pipe()
    child = spawn.Process(target=consume, args=(servers, namespace, prefetch, ready_there, done_there))
    child.start()
    assert ready_here.recv() is True
    stop = asyncio.Event()
    wall, cpu = time.perf_counter(), time.process_time()
    relay = asyncio.create_task(backbone.relay(batch_size=500).run(stop))
    while await effect_total(backbone) < baseline + count:
        await asyncio.sleep(0.05)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done_here.send(True)
    consumer_cpu = ready_here.recv()
    child.join()
    stop.set()
    await relay
    await backbone.close()
    await delete_broker_namespace(servers.broker_url, namespace, ["bench"])
    return {
        "events_per_s": count / wall,
        "cpu_us_per_event": (cpu + consumer_cpu) / count * 1e6,
        "seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--prefetch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="one JSON line with the best round")
    args = parser.parse_args()
    runs = []
    with isolated_servers() as servers:
        for run in range(args.rounds):
            runs.append(uvloop.run(one_run(servers, args.events, args.prefetch, run)))
            if not args.json:
                r = runs[-1]
                print(f"{args.events} events, prefetch {args.prefetch}: {r['events_per_s']:.0f} events/s "
                      f"({r['seconds']:.2f} s), {r['cpu_us_per_event']:.0f} µs CPU/event")  # fmt: skip
    best = max(runs, key=lambda r: r["events_per_s"])
    if args.json:
        print(json.dumps({"pipeline_events_per_s": best["events_per_s"],
                          "pipeline_cpu_us_per_event": min(r["cpu_us_per_event"] for r in runs)}))  # fmt: skip


if __name__ == "__main__":
    main()
