"""The holiday notices this service owns, announced again: at start (this process's calendar loads them too),
every hour, and when a process of any service starts listening and asks (``calendar.notices_requested``), so a
process started since a publication learns it."""

from __future__ import annotations

import time

from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalog import CalendarNoticesRequestedV1
from shared.service import ServiceRuntime, every
from svc_claims.usecases.holiday_notices import ANNOUNCE_EVERY_S, announce_published

# Processes starting together (a deployment) ask together: one announcement answers them all.
ANSWER_AT_MOST_EVERY_S = 10.0
_answered_at: float | None = None


async def announce_holiday_notices(runtime: ServiceRuntime) -> None:
    await runtime.uow().run(announce_published)


async def answer_request(uow: UnitOfWork, envelope: Envelope, request: CalendarNoticesRequestedV1) -> None:
    global _answered_at
    if _answered_at is not None and time.monotonic() - _answered_at < ANSWER_AT_MOST_EVERY_S:
        return
    await announce_published(uow)
    _answered_at = time.monotonic()


JOBS = [every(ANNOUNCE_EVERY_S, announce_holiday_notices)]
