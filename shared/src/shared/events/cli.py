"""`yb-events`: list and replay a service's dead letters.

    yb-events dead-letters claims
    yb-events replay claims [--message-id ID ...]

Broker URL and namespace come from YB_BROKER_URL and YB_BROKER_NAMESPACE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict

from shared.events.broker import Broker
from shared.settings import CommonSettings


async def _run(args: argparse.Namespace) -> int:
    settings = CommonSettings()
    broker = Broker(settings.broker_url, settings.broker_namespace)
    await broker.connect()
    try:
        if args.command == "dead-letters":
            from shared.events.deadletters import list_dead_letters

            for letter in await list_dead_letters(broker, args.service):
                print(json.dumps(asdict(letter), ensure_ascii=False))
        else:
            from shared.events.deadletters import replay_dead_letters

            count = await replay_dead_letters(
                broker, args.service, set(args.message_id) if args.message_id else None
            )
            print(f"replayed {count} message(s) to {broker.namespace}.{args.service}")
    finally:
        await broker.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="yb-events", description="Dead letters of a service's queue")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("dead-letters", help="list the dead letters (they stay in the queue)")
    listing.add_argument("service")
    replay = sub.add_parser("replay", help="send dead letters back to the service's queue")
    replay.add_argument("service")
    replay.add_argument("--message-id", action="append", help="only these (default: all)")
    return asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
