"""The holiday notices this service owns, announced again: at start (this process's calendar loads them too)
and every hour, so a process of any service started since a publication learns it."""

from __future__ import annotations

from shared.service import ServiceRuntime, every
from svc_claims.usecases.holiday_notices import ANNOUNCE_EVERY_S, announce_published


async def announce_holiday_notices(runtime: ServiceRuntime) -> None:
    await runtime.uow().run(announce_published)


JOBS = [every(ANNOUNCE_EVERY_S, announce_holiday_notices)]
