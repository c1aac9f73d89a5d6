"""Inspecting and replaying a service's dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from shared.events.broker import Broker, OutgoingMessage
from shared.events.consumer import ATTEMPT_HEADER, ERROR_HEADER
from shared.events.topology import Names

LIST_LIMIT = 1_000


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str | None
    attempts: int
    error: str
    dead_at: str | None
    envelope: dict[str, Any] | None


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    try:
        envelope = json.loads(message.body)
    except ValueError:
        envelope = None
    return DeadLetter(
        message_id=message.message_id or "",
        event_type=envelope.get("event_type") if isinstance(envelope, dict) else None,
        attempts=int(str(headers.get(ATTEMPT_HEADER, 0))),
        error=str(headers.get(ERROR_HEADER, "delivery limit reached")),
        dead_at=str(headers["x-yb-dead-at"]) if "x-yb-dead-at" in headers else None,
        envelope=envelope if isinstance(envelope, dict) else None,
    )


async def list_dead_letters(broker: Broker, service: str, limit: int = LIST_LIMIT) -> list[DeadLetter]:
    """Read without removing: messages are fetched unacked and returned when the channel closes."""
    channel = await broker.channel()
    try:
        queue = await channel.get_queue(Names(broker.namespace, service).dead_letter_queue)
        found: list[DeadLetter] = []
        while len(found) < limit and (message := await queue.get(no_ack=False, fail=False)) is not None:
            found.append(describe(message))
        return found
    finally:
        await channel.close()


async def replay_dead_letters(
    broker: Broker, service: str, message_ids: Collection[str] | None = None
) -> int:
    """Send dead letters back to the service's queue with a fresh attempt count; returns how many."""
    return len(await replay(broker, service, message_ids))


async def replay(
    broker: Broker, service: str, message_ids: Collection[str] | None = None
) -> list[DeadLetter]:
    """Like `replay_dead_letters`, returning what was replayed (what an audit record names)."""
    names = Names(broker.namespace, service)
    channel = await broker.channel()
    replayed: list[DeadLetter] = []
    try:
        queue = await channel.get_queue(names.dead_letter_queue)
        # Take every letter first, then send: a replayed message that fails again comes back to this
        # queue within milliseconds, and reading while sending would replay it again, round after round.
        taken: list[AbstractIncomingMessage] = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            taken.append(message)
        kept: list[AbstractIncomingMessage] = []
        for message in taken:
            if message_ids is not None and message.message_id not in message_ids:
                kept.append(message)
                continue
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            await broker.publish_to_queue(
                channel,
                OutgoingMessage(
                    routing_key=names.queue,
                    body=message.body,
                    message_id=message.message_id or "",
                    correlation_id=message.correlation_id,
                    headers={**headers, ATTEMPT_HEADER: 1},
                ),
            )
            await message.ack()
            replayed.append(describe(message))
        for message in kept:
            await message.nack(requeue=True)
        return replayed
    finally:
        await channel.close()
