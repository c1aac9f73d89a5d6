"""Idempotent consumers, handling deliveries in batches.

Deliveries wait in a local queue; a worker takes what has arrived (up to `batch_size`) and handles
it in one transaction that also inserts each (consumer, event_id) into the inbox: a duplicate finds
its row there and is acked without effect. The batch's messages are acked only after that commit.
When anything in a batch fails, the transaction is rolled back and each of its messages is handled
again alone, in a transaction of its own, so one failing message cannot hold back the others: it is
retried through the retry queues with growing delays, and after the last attempt it goes to the
dead-letter queue. A message is acked only once its effect committed or it was safely re-published
(to a retry queue or the dead-letter queue) with a broker confirm.

At a low rate a batch is one message (nothing waits for a batch to fill); under load batches grow
up to the prefetch, and one commit serves many messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from pydantic import BaseModel, ValidationError
from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared import context, metrics
from shared.db import Prepared, UnitOfWork
from shared.events.broker import Broker, OutgoingMessage
from shared.events.envelope import Envelope
from shared.events.registry import event_spec, payload_of
from shared.events.topology import Names, declare_service_queues

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-yb-attempt"
ERROR_HEADER = "x-yb-error"

P = TypeVar("P", bound=BaseModel)
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]  # any subscription's handler


@dataclass(frozen=True)
class Subscription(Generic[P]):
    """One row of a service's subscription table: this payload model is handled by this use case.

    `concerns`, when given, picks the events of this type the use case acts on; the others are acked
    without a transaction or an inbox row (they change nothing, so a redelivery is passed over again).
    Generic in the payload model, so a type checker sees that the handler takes what the model parses.
    """

    model: type[P]
    handler: Callable[[UnitOfWork, Envelope, P], Awaitable[None]]
    concerns: Callable[[P], bool] | None = None

    def wants(self, payload: P) -> bool:
        return self.concerns is None or self.concerns(payload)

    @property
    def event_type(self) -> str:
        return event_spec(self.model).event_type


class PoisonMessage(Exception):
    """A message that can never succeed (not an envelope, unknown type): dead-lettered at once."""


class OutOfOrder(Exception):
    """An event overtook the one it follows (an end of coverage before its approval): raised so the
    message is retried with back-off until the earlier event is in."""


class Consumer:
    def __init__(
        self,
        service: str,
        subscriptions: Sequence[Subscription[Any]],
        broker: Broker,
        new_uow: Callable[[], UnitOfWork],
        max_attempts: int = 5,
        retry_delays_ms: Sequence[int] = (1_000, 5_000, 30_000),
        prefetch: int = 8,
        batch_size: int | None = None,
        workers: int = 1,
        linger_s: float = 0.0,
    ):
        self.service = service
        self.names = Names(broker.namespace, service)
        self._handlers = {s.event_type: s for s in subscriptions}
        self._broker = broker
        self._new_uow = new_uow
        self._max_attempts = max_attempts
        self._retry_delays_ms = list(retry_delays_ms)
        self._prefetch = prefetch
        # Messages per transaction; transactions at once (each holds one pooled connection).
        self._batch_size = max(1, batch_size or prefetch)
        self._workers = max(1, workers)
        self._linger_s = linger_s
        self._deliveries: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._worker_tasks: list[asyncio.Task[None]] = []
        self._channel: AbstractChannel | None = None
        self._consumer_tag: str | None = None
        # Test hook: runs after the effect committed and before the ack (used to kill the process there).
        self.after_commit_hook: Callable[[Envelope], Awaitable[None]] | None = None

    @property
    def event_types(self) -> list[str]:
        return list(self._handlers)

    @property
    def retry_queues(self) -> list[str]:
        return [self.names.retry_queue(delay) for delay in self._retry_delays_ms]

    async def start(self) -> None:
        self._channel = await self._broker.channel(prefetch=self._prefetch)
        queue = await declare_service_queues(self._channel, self.names, self._handlers, self._retry_delays_ms)
        # Consumed even with no subscriptions: whatever lands there anyway (sent to the queue by name,
        # left over from a removed subscription) is dead-lettered where operators see it, not kept unseen.
        if not self._worker_tasks:
            self._worker_tasks = [
                asyncio.create_task(self._work(), name=f"consumer-{self.service}-{n}")
                for n in range(self._workers)
            ]
        self._consumer_tag = await queue.consume(self._on_message, no_ack=False)

    async def stop(self) -> None:
        """Stop handling; deliveries not yet acked are given again by the broker (the inbox skips
        any whose effect committed)."""
        for task in self._worker_tasks:
            task.cancel()
        for task in self._worker_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._worker_tasks = []

    @property
    def is_attached(self) -> bool:
        """The broker is delivering to this consumer now, not only connected: the channel is open,
        restored and consuming with our tag. After a broker restart aio-pika opens a new channel and
        consumes again with the same tag; the broker answers that only once the queue is back, and
        until then this is False (aio-pika's private state is read here: it has no public one)."""
        channel, tag = self._channel, self._consumer_tag
        if channel is None or tag is None or not self._broker.is_connected or channel.is_closed:
            return False
        restored = getattr(channel, "_RobustChannel__restored", None)  # set once the consume is answered
        underlay = getattr(
            channel, "_channel", None
        )  # the current AMQP channel (a new one after each restore)
        return bool(
            restored is not None
            and restored.is_set()
            and underlay is not None
            and tag in underlay.channel.consumers
        )

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._deliveries.put_nowait(message)  # acked by a worker once handled

    async def _work(self) -> None:
        """Take whatever has arrived, up to a batch, and handle it; never stops on an error."""
        while True:
            batch = [await self._deliveries.get()]
            if self._linger_s and self._deliveries.empty():
                await asyncio.sleep(self._linger_s)  # let the deliveries just behind it join its transaction
            while len(batch) < self._batch_size and not self._deliveries.empty():
                batch.append(self._deliveries.get_nowait())
            try:
                await self._handle_batch(batch)
            except Exception:  # unacked deliveries come again from the broker
                log.exception("consumer: a batch of %d deliveries was not settled", len(batch))

    async def _handle_batch(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        deliveries: list[Delivery] = []
        for message in batch:
            attempt = attempt_of(message)
            try:
                envelope = self._parse(message)
                subscription, payload = self._route(envelope)
            except PoisonMessage as exc:
                await self._dead_letter(message, attempt, exc)
                continue
            deliveries.append(Delivery(message, attempt, envelope, subscription, payload))
        wanted = [d for d in deliveries if d.wanted]
        if len(wanted) > 1:
            try:
                fresh = await self._apply_together(wanted)
            except Exception as exc:
                log.info(
                    "consumer: a batch of %d failed (%s); handling each message alone",
                    len(wanted), repr(exc)[:200],
                )  # fmt: skip
            else:
                await self._committed(deliveries, fresh)
                return
        elif not wanted:
            await self._committed(deliveries, [])
            return
        for delivery in deliveries:
            await self._handle_alone(delivery)

    async def _apply_together(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Inbox rows and effects of the whole batch in one transaction; returns those applied now."""
        async with self._new_uow() as uow:
            new_ids = await record_all_in_inbox(uow, self.service, [d.envelope for d in deliveries])
            fresh: list[Delivery] = []
            for delivery in deliveries:
                if delivery.envelope.event_id not in new_ids:
                    continue  # handled before (a redelivery), or twice in this batch
                new_ids.discard(delivery.envelope.event_id)
                await self._apply(uow, delivery)
                fresh.append(delivery)
            await uow.commit()
        return fresh

    async def _committed(self, deliveries: Sequence[Delivery], fresh: Sequence[Delivery]) -> None:
        if self.after_commit_hook is not None:
            for delivery in fresh:
                await self.after_commit_hook(delivery.envelope)
        fresh_ids = {id(d) for d in fresh}
        for delivery in deliveries:
            applied = id(delivery) in fresh_ids or not delivery.wanted  # one passed over is consumed too
            counter = metrics.EVENTS_CONSUMED if applied else metrics.EVENTS_DUPLICATE
            counter.labels(self.service, delivery.envelope.event_type).inc()
        metrics.THROUGHPUT.add(self.service, "consumed", len(deliveries))
        if self._workers > 1:
            for delivery in deliveries:
                await self._settle(delivery.message.ack())
            return
        # One worker settles deliveries strictly in their order, so on each channel every delivery
        # before the batch's last one is settled already or in this batch: one ack covers them all.
        last_on_channel: dict[int, AbstractIncomingMessage] = {}
        for delivery in deliveries:
            try:
                last_on_channel[id(delivery.message.channel)] = delivery.message
            except CONNECTION_EXCEPTIONS:
                continue  # its channel is closed: the broker gives it again and the inbox skips it
        for message in last_on_channel.values():
            await self._settle(message.ack(multiple=True))

    async def _handle_alone(self, delivery: Delivery) -> None:
        try:
            await self.handle(delivery.envelope)
        except PoisonMessage as exc:
            await self._dead_letter(delivery.message, delivery.attempt, exc)
            return
        except Exception as exc:
            await self._retry_or_dead_letter(delivery.message, delivery.attempt, exc)
            return
        await self._settle(delivery.message.ack())

    @staticmethod
    async def _apply(uow: UnitOfWork, delivery: Delivery) -> None:
        token = context.event_id.set(str(delivery.envelope.event_id))
        corr = context.correlation_id.set(delivery.envelope.correlation_id)
        try:
            await delivery.subscription.handler(uow, delivery.envelope, delivery.payload)
        finally:
            context.event_id.reset(token)
            context.correlation_id.reset(corr)

    async def _settle(self, settlement: Awaitable[None]) -> None:
        """Ack or nack; when the connection is gone the broker redelivers the message by itself
        (the inbox then skips it), so that is no error worth a line per message."""
        try:
            await settlement
        except CONNECTION_EXCEPTIONS as exc:
            level = logging.WARNING if self._broker.is_connected else logging.DEBUG
            log.log(level, "delivery not settled (%r); the broker delivers it again", exc)

    def _route(self, envelope: Envelope) -> tuple[Subscription[Any], Any]:
        subscription = self._handlers.get(envelope.event_type)
        if subscription is None:
            raise PoisonMessage(f"no handler for {envelope.event_type}")
        try:
            payload = payload_of(envelope, subscription.model)
        except (ValidationError, ValueError, LookupError) as exc:
            raise PoisonMessage(f"payload does not match {envelope.event_type}: {exc}") from exc
        return subscription, payload

    async def handle(self, envelope: Envelope) -> bool:
        """Apply the event once, in a transaction of its own; returns False when it had already been handled
        (an event its subscription does not concern is passed over, with no transaction)."""
        subscription, payload = self._route(envelope)
        delivery = Delivery(None, 1, envelope, subscription, payload)
        fresh = await self._apply_alone(delivery) if delivery.wanted else True  # passed over: consumed too
        (metrics.EVENTS_CONSUMED if fresh else metrics.EVENTS_DUPLICATE).labels(
            self.service, envelope.event_type
        ).inc()
        metrics.THROUGHPUT.add(self.service, "consumed")
        return fresh

    async def _apply_alone(self, delivery: Delivery) -> bool:
        async with self._new_uow() as uow:
            fresh = await record_in_inbox(uow, self.service, delivery.envelope)
            if fresh:
                await self._apply(uow, delivery)
            await uow.commit()
        if fresh and self.after_commit_hook is not None:
            await self.after_commit_hook(delivery.envelope)
        return fresh

    @staticmethod
    def _parse(message: AbstractIncomingMessage) -> Envelope:
        try:
            return Envelope.model_validate_json(message.body)
        except ValidationError as exc:
            raise PoisonMessage(f"not an event envelope: {exc.error_count()} errors") from exc

    async def _retry_or_dead_letter(
        self, message: AbstractIncomingMessage, attempt: int, exc: Exception
    ) -> None:
        if attempt >= self._max_attempts:
            await self._dead_letter(message, attempt, exc)
            return
        delay = self._retry_delays_ms[min(attempt - 1, len(self._retry_delays_ms) - 1)]
        log.warning(
            "handler failed, retrying",
            extra={"attempt": attempt, "delay_ms": delay, "error": repr(exc)[:300]},
        )
        metrics.EVENTS_RETRIED.labels(self.service).inc()
        await self._forward(message, self.names.retry_queue(delay), {ATTEMPT_HEADER: attempt + 1})

    async def _dead_letter(self, message: AbstractIncomingMessage, attempt: int, exc: Exception) -> None:
        log.error("message dead-lettered", extra={"attempt": attempt, "error": repr(exc)[:300]})
        metrics.EVENTS_DEAD_LETTERED.labels(self.service).inc()
        metrics.THROUGHPUT.add(self.service, "dead_lettered")
        error = "".join(traceback.format_exception_only(exc)).strip()[:1000]
        await self._forward(
            message,
            self.names.dead_letter_queue,
            {ATTEMPT_HEADER: attempt, ERROR_HEADER: error, "x-yb-dead-at": datetime.now(UTC).isoformat()},
        )

    async def _forward(self, message: AbstractIncomingMessage, queue: str, headers: dict[str, Any]) -> None:
        """Re-publish to `queue` and ack the original only after the broker confirmed the copy."""
        assert self._channel is not None
        copy = OutgoingMessage(
            routing_key=queue,
            body=message.body,
            message_id=message.message_id or "",
            correlation_id=message.correlation_id,
            headers={**(message.headers or {}), **headers},
        )
        try:
            await self._broker.publish_to_queue(self._channel, copy)
        except Exception:
            if self._broker.is_connected:
                log.exception("could not forward message; it stays in the queue for redelivery")
            await self._settle(message.nack(requeue=True))
            return
        await self._settle(message.ack())


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery parsed and routed: what a worker applies and then acks."""

    message: Any  # AbstractIncomingMessage; None when an envelope is handled without a delivery
    attempt: int
    envelope: Envelope
    subscription: Subscription[Any]
    payload: Any

    @property
    def wanted(self) -> bool:
        return self.subscription.wants(self.payload)


def attempt_of(message: AbstractIncomingMessage) -> int:
    return int(str((message.headers or {}).get(ATTEMPT_HEADER, 1)))


# The batch's rows as two arrays: one statement whatever the batch's size, prepared once (a multi-row
# VALUES is compiled again for every size and was the consumer's largest cost after the handlers), sent
# straight to asyncpg.
INBOX = Prepared(text(
    "INSERT INTO inbox (consumer, event_id, event_type) "
    "SELECT :consumer, event_id, event_type FROM unnest(:event_ids, :event_types) AS batch(event_id, event_type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(
    bindparam("consumer", type_=String), bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("event_types", type_=ARRAY(String)),
))  # fmt: skip


async def record_all_in_inbox(uow: UnitOfWork, consumer: str, envelopes: Sequence[Envelope]) -> set[Any]:
    """Insert the batch's inbox rows in one statement; returns the event ids that were new."""
    rows = await uow.execute(INBOX, {
        "consumer": consumer, "event_ids": [e.event_id for e in envelopes], "event_types": [e.event_type for e in envelopes],
    })  # fmt: skip
    return {row["event_id"] for row in rows}


async def record_in_inbox(uow: UnitOfWork, consumer: str, envelope: Envelope) -> bool:
    return bool(await record_all_in_inbox(uow, consumer, [envelope]))
