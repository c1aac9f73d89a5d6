"""The event pipeline in one process: outbox → relay → broker → consumer, one relay and one consumer.

`uv run python -m bench.pipeline [--events 5000] [--prefetch 256] [--rounds 2] [--json]` writes the
events to the outbox first, then starts the relay and waits until the consumer has applied them all.
Besides events per second it prints the CPU this process spent per event (relay and consumer both
run here), which a busy machine disturbs far less than the wall clock. `make bench` runs it against
the current tree and the previous implementation side by side (bench/compare.py).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import time

from sqlalchemy import func, select

from shared.testing.backbone import Backbone, create_schema, effects
from shared.testing.runs import RunServers, delete_broker_namespace
from yb_deploy.pytest_plugin import isolated_servers


async def effect_total(backbone: Backbone) -> int:
    async with backbone.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(effects))).scalar_one())


async def one_run(servers: RunServers, count: int, prefetch: int, run: int) -> dict[str, float]:
    await create_schema(servers.admin_url)
    backbone = Backbone(servers.admin_url, servers.broker_url, f"{servers.namespace}p{run}")
    await backbone.broker.connect()
    consumer = backbone.consumer("bench", prefetch=prefetch)
    await consumer.start()
    baseline = await effect_total(backbone)
    for start in range(0, count, 500):
        await backbone.emit(range(start, min(count, start + 500)))
    stop = asyncio.Event()
    wall, cpu = time.perf_counter(), time.process_time()
    relay = asyncio.create_task(backbone.relay(batch_size=500).run(stop))
    while await effect_total(backbone) < baseline + count:
        await asyncio.sleep(0.05)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    await relay
    if inspect.iscoroutinefunction(getattr(consumer, "stop", None)):
        await consumer.stop()
    await backbone.close()
    await delete_broker_namespace(servers.broker_url, backbone.broker.namespace, ["bench"])
    return {"events_per_s": count / wall, "cpu_us_per_event": cpu / count * 1e6, "seconds": wall}


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
            runs.append(asyncio.run(one_run(servers, args.events, args.prefetch, run)))
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
