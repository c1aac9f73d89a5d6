"""The connection to RabbitMQ: persistent messages, publisher confirms, unroutable ones raise."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from shared.events.topology import declare_exchange

PUBLISH_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    correlation_id: str | None = None
    headers: dict[str, Any] | None = None


def persistent_message(m: OutgoingMessage) -> aio_pika.Message:
    return aio_pika.Message(
        body=m.body,
        message_id=m.message_id,
        correlation_id=m.correlation_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers=m.headers or {},
    )


class Broker:
    """One robust connection per process; channels and consumers are restored after a restart."""

    def __init__(self, url: str, namespace: str):
        self.url = url
        self.namespace = namespace
        self.connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(self.url, client_properties={"connection_name": self.namespace})
        self._publish_channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await declare_exchange(self._publish_channel, self.namespace)

    @property
    def is_connected(self) -> bool:
        return self.connection is not None and not self.connection.is_closed and bool(self.connection.connected.is_set())

    async def channel(self, prefetch: int | None = None) -> AbstractChannel:
        assert self.connection is not None, "connect() first"
        channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        if prefetch:
            await channel.set_qos(prefetch_count=prefetch)
        return channel

    async def publish_events(self, messages: Sequence[OutgoingMessage]) -> list[BaseException | None]:
        """Publish to the events exchange, awaiting every confirm together; one result per message."""
        assert self._exchange is not None, "connect() first"
        return await self._publish_all(self._exchange, messages)

    async def publish_to_queue(self, channel: AbstractChannel, message: OutgoingMessage) -> None:
        """Publish straight to a named queue through the default exchange (retries, dead letters, replay)."""
        [error] = await self._publish_all(channel.default_exchange, [message])
        if error is not None:
            raise error

    @staticmethod
    async def _publish_all(exchange: AbstractExchange, messages: Sequence[OutgoingMessage]) -> list[BaseException | None]:
        confirms = [
            exchange.publish(persistent_message(m), m.routing_key, mandatory=True, timeout=PUBLISH_TIMEOUT_S)
            for m in messages
        ]
        results = await asyncio.gather(*confirms, return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None
