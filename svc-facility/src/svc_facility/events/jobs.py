"""Periodic work of svc-facility (run by every replica; rows are claimed with SKIP LOCKED)."""

from shared.service import ServiceRuntime
from svc_facility.applications import announce_overdue_replies


async def scan_overdue_replies(runtime: ServiceRuntime) -> None:
    after = None
    while True:
        async with runtime.uow() as uow:
            _, after = await announce_overdue_replies(uow, after)
            await uow.commit()
        if after is None:
            return


JOBS = [scan_overdue_replies]
