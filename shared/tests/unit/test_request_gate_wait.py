"""A request that cannot get one of the requests' connections in time is told to come back (503),
instead of queueing without end behind a burst."""

from __future__ import annotations

import asyncio

import pytest

from shared.clock import SystemClock
from shared.db import UnitOfWork
from shared.errors import Problem


def _never_opened() -> None:
    raise AssertionError("no session may be opened while the gate is closed")


async def test_a_request_waiting_past_its_limit_for_a_connection_answers_503_busy_with_retry_after() -> None:
    gate = asyncio.Semaphore(0)  # every request connection is taken
    uow = UnitOfWork(_never_opened, SystemClock(), "test", gate=gate, gate_wait_s=0.05)  # type: ignore[arg-type]
    with pytest.raises(Problem) as refused:
        async with uow:
            pass
    assert (refused.value.status, refused.value.code) == (503, "busy")
    assert refused.value.headers == {"Retry-After": "1"}


async def test_a_request_gets_the_connection_freed_while_it_waits() -> None:
    gate = asyncio.Semaphore(0)
    opened: list[bool] = []

    class _Session:
        async def rollback(self) -> None: ...
        async def close(self) -> None: ...

    def sessions() -> _Session:
        opened.append(True)
        return _Session()

    uow = UnitOfWork(sessions, SystemClock(), "test", gate=gate, gate_wait_s=5)  # type: ignore[arg-type]
    asyncio.get_running_loop().call_later(0.05, gate.release)
    async with uow:
        assert uow.session is not None
    assert opened == [True]
    assert gate._value == 1  # released again on the way out
