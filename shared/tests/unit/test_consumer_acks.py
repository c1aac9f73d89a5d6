"""How a committed batch is acked: one ack with `multiple` per channel for its last delivery, and
nothing sent for deliveries whose channel has closed meanwhile (the broker gives those again)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aio_pika.exceptions import ChannelInvalidStateError

from shared.events.consumer import Consumer, Delivery


class FakeChannel:
    def __init__(self, closed: bool = False):
        self.closed = closed


class FakeMessage:
    def __init__(self, channel: FakeChannel, tag: int, acks: list[tuple[int, bool]]):
        self._channel, self.tag, self._acks = channel, tag, acks

    @property
    def channel(self) -> FakeChannel:
        if self._channel.closed:
            raise ChannelInvalidStateError
        return self._channel

    async def ack(self, multiple: bool = False) -> None:
        _ = self.channel
        self._acks.append((self.tag, multiple))


def delivery(message: FakeMessage) -> Delivery:
    envelope: Any = SimpleNamespace(event_type="backbone.pinged")
    return Delivery(message, 1, envelope, None, None)  # type: ignore[arg-type]


def consumer(workers: int = 1) -> Consumer:
    return Consumer("acks", [], SimpleNamespace(namespace="unit"), lambda: None, workers=workers)  # type: ignore[arg-type, return-value]


async def test_a_committed_batch_is_acked_once_per_channel_up_to_its_last_delivery() -> None:
    acks: list[tuple[int, bool]] = []
    stale, live = FakeChannel(closed=True), FakeChannel()
    batch = [delivery(FakeMessage(stale, 7, acks))] + [
        delivery(FakeMessage(live, tag, acks)) for tag in (1, 2, 3)
    ]

    await consumer()._committed(batch, fresh=batch)

    assert acks == [(3, True)], "one ack covering the live channel's three; none sent on the closed one"


async def test_with_several_workers_each_delivery_is_acked_alone() -> None:
    acks: list[tuple[int, bool]] = []
    live = FakeChannel()
    batch = [delivery(FakeMessage(live, tag, acks)) for tag in (4, 5)]

    await consumer(workers=2)._committed(batch, fresh=batch)

    assert acks == [(4, False), (5, False)]
