"""A process that starts listening asks for the published holiday notices; processes starting together (a
deployment) get one announcement, not one each."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

import svc_claims.events.calendar as answers
from shared.events.catalog import CalendarNoticesRequestedV1


def test_a_burst_of_requests_is_answered_by_one_announcement_and_a_later_request_by_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    announced: list[object] = []

    async def announce(uow: object) -> int:
        announced.append(uow)
        return 1

    clock = [1000.0]
    monkeypatch.setattr(answers, "announce_published", announce)
    monkeypatch.setattr(answers.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(answers, "_answered_at", None)
    request = CalendarNoticesRequestedV1(service="facility")

    def ask() -> None:
        asyncio.run(answers.answer_request(cast(Any, "uow"), cast(Any, None), request))

    for _ in range(3):  # three processes starting together
        ask()
    assert announced == ["uow"]
    clock[0] += answers.ANSWER_AT_MOST_EVERY_S  # a process starting later
    ask()
    assert len(announced) == 2
