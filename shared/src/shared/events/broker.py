"""The connection to RabbitMQ: persistent messages, publisher confirms, unroutable ones raise."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection

from shared.events.topology import declare_exchange

PUBLISH_TIMEOUT_S = 30.0
RECONNECT_JITTER = 0.2

log = logging.getLogger(__name__)


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
    """One robust connection per process; channels and consumers are restored after a restart.

    While the broker is away the client retries every `reconnect_interval_s` (±20 % per process).
    The loss is logged once (WARNING) and the recovery once (INFO); the client library's own lines
    about each failed attempt are kept out of the logs (see `quiet_reconnect_noise`).
    """

    def __init__(self, url: str, namespace: str, reconnect_interval_s: float = 1.0):
        self.url = url
        self.namespace = namespace
        self.reconnect_interval_s = reconnect_interval_s * random.uniform(
            1 - RECONNECT_JITTER, 1 + RECONNECT_JITTER
        )
        self.connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self.lost_at: float | None = None  # monotonic time the connection was lost; None while it holds
        quiet_reconnect_noise()

    async def connect(self) -> None:
        self.connection = await aio_pika.connect_robust(
            self.url,
            client_properties={"connection_name": self.namespace},
            reconnect_interval=self.reconnect_interval_s,
        )
        self.connection.close_callbacks.add(self._on_lost)
        self.connection.reconnect_callbacks.add(self._on_restored)
        self._publish_channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await declare_exchange(self._publish_channel, self.namespace)

    def _on_lost(self, _connection: object, exc: BaseException | None = None) -> None:
        if self.lost_at is not None or self.connection is None or self.connection.close_called:
            return  # already reported, or our own close at shutdown
        self.lost_at = time.monotonic()
        _note_recovery(float("inf"))
        reason = f"{type(exc).__name__}: {exc}"[:200] if exc is not None else "closed"
        log.warning(
            "broker connection lost (%s); events wait in the outbox, reconnecting every %.1f s",
            reason, self.reconnect_interval_s,
        )  # fmt: skip

    def _on_restored(self, _connection: object) -> None:
        if self.lost_at is None:
            return
        away_s = time.monotonic() - self.lost_at
        self.lost_at = None
        _recovering_until_after(RECOVERY_QUIET_S)
        log.info("broker connection restored after %.1f s", away_s)

    @property
    def disconnected_s(self) -> float | None:
        """How long the connection has been lost, or None while it holds."""
        return None if self.lost_at is None else time.monotonic() - self.lost_at

    @property
    def is_connected(self) -> bool:
        return (
            self.connection is not None
            and not self.connection.is_closed
            and bool(self.connection.connected.is_set())
        )

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
    async def _publish_all(
        exchange: AbstractExchange, messages: Sequence[OutgoingMessage]
    ) -> list[BaseException | None]:
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


# What the client library logs when the broker goes away or an attempt to reach it fails: about
# two lines per attempt (an ERROR and a WARNING), plus a traceback and a line per channel when the
# connection drops. The Broker reports the loss and the recovery itself, once each.
_CONNECTION_NOISE = {
    "aiormq.connection": (
        "error when creating transport",
        "Cancelling cause reader exited abnormally",
        "Unexpected connection close from remote",
        "Server connection %r was stuck",
    ),
    "aio_pika.robust_connection": ("",),  # every line of it is about reconnecting
}
# Lines about channels that are noise only while a connection is lost or being restored (a consume
# that times out on a quorum queue still electing its leader, a channel whose connection is gone).
_RECOVERY_NOISE = {
    "aiormq.channel": ("Closing channel %r because RPC call", "Closing channel %r locally because RPC call"),
    "aio_pika.tools": ("Callback %r error",),
}
RECOVERY_QUIET_S = 30.0
_recovering_until = 0.0  # monotonic; while a Broker of this process is away, and a while after


def _note_recovery(until: float) -> None:
    global _recovering_until
    _recovering_until = until


def _recovering_until_after(seconds: float) -> None:
    _note_recovery(time.monotonic() + seconds)


class _Noise(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...], only_while_recovering: bool):
        super().__init__()
        self.prefixes, self.only_while_recovering = prefixes, only_while_recovering

    def filter(self, record: logging.LogRecord) -> bool:
        if self.only_while_recovering and time.monotonic() > _recovering_until:
            return True
        return not (isinstance(record.msg, str) and record.msg.startswith(self.prefixes))


def quiet_reconnect_noise() -> None:
    """Keep the library's per-attempt reconnect lines out of the logs (idempotent)."""
    for noise, only_while_recovering in ((_CONNECTION_NOISE, False), (_RECOVERY_NOISE, True)):
        for name, prefixes in noise.items():
            logger = logging.getLogger(name)
            if not any(isinstance(f, _Noise) and f.prefixes == prefixes for f in logger.filters):
                logger.addFilter(_Noise(prefixes, only_while_recovering))
