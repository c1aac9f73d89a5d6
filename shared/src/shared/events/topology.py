"""Names and declarations of exchanges and queues.

Per service: one quorum queue bound to the event types it consumes, one quorum retry queue per
back-off delay (messages wait there for their TTL, then dead-letter back to the main queue), and
a quorum dead-letter queue for messages that failed every attempt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

# A poison message that kills its consumer before it can count attempts is still stopped here.
DELIVERY_LIMIT_BACKSTOP = 20

# Dead-lettering from quorum queues is at-most-once unless asked otherwise.
AT_LEAST_ONCE_DEAD_LETTERING = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


@dataclass(frozen=True)
class Names:
    namespace: str
    service: str

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def queue(self) -> str:
        return f"{self.namespace}.{self.service}"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.namespace}.{self.service}.dead"

    def retry_queue(self, delay_ms: int) -> str:
        return f"{self.namespace}.{self.service}.retry.{delay_ms}ms"


async def declare_exchange(channel: AbstractChannel, namespace: str) -> AbstractExchange:
    return await channel.declare_exchange(f"{namespace}.events", aio_pika.ExchangeType.TOPIC, durable=True)


# Every event also lands here, so an event no service consumes (yet) is still routable instead of
# being returned to its relay forever; the newest ones stay readable for operators.
EVENT_LOG_MAX_LENGTH = 100_000


def event_log_queue(namespace: str) -> str:
    return f"{namespace}.event-log"


async def declare_event_log(channel: AbstractChannel, exchange: AbstractExchange) -> None:
    namespace = exchange.name.removesuffix(".events")
    queue = await channel.declare_queue(
        event_log_queue(namespace),
        durable=True,
        arguments={"x-queue-type": "quorum", "x-max-length": EVENT_LOG_MAX_LENGTH, "x-overflow": "drop-head"},
    )
    await queue.bind(exchange, routing_key="#")


async def declare_service_queues(
    channel: AbstractChannel, names: Names, event_types: Iterable[str], retry_delays_ms: Iterable[int]
) -> AbstractQueue:
    """Declare (idempotently) the service's queues and bindings; returns the main queue."""
    exchange = await declare_exchange(channel, names.namespace)
    await declare_event_log(channel, exchange)
    await channel.declare_queue(names.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})
    for delay in retry_delays_ms:
        await channel.declare_queue(
            names.retry_queue(delay),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": names.queue,
                **AT_LEAST_ONCE_DEAD_LETTERING,
            },
        )
    queue = await channel.declare_queue(
        names.queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT_BACKSTOP,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": names.dead_letter_queue,
            **AT_LEAST_ONCE_DEAD_LETTERING,
        },
    )
    for event_type in event_types:
        await queue.bind(exchange, routing_key=event_type)
    return queue


async def delete_namespace(
    channel: AbstractChannel, namespace: str, services: Iterable[str], retry_delays_ms: Iterable[int]
) -> None:
    """Remove a namespace's exchange and queues (test runs clean up after themselves)."""
    delays = list(retry_delays_ms)
    for service in services:
        names = Names(namespace, service)
        for queue in [names.queue, names.dead_letter_queue, *(names.retry_queue(d) for d in delays)]:
            await channel.queue_delete(queue)
    await channel.queue_delete(event_log_queue(namespace))
    await channel.exchange_delete(f"{namespace}.events")
