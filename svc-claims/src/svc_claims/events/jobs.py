"""Periodic work of svc-claims: claims past their 30th working day are announced (claims.overdue) once,
whichever replica takes them (rows claimed with SKIP LOCKED)."""

from __future__ import annotations

from shared.service import ServiceRuntime
from svc_claims.reimbursements import announce_overdue


async def announce_overdue_claims(runtime: ServiceRuntime) -> None:
    while True:
        async with runtime.uow() as uow:
            announced = await announce_overdue(uow)
            await uow.commit()
        if announced == 0:
            return


JOBS = [announce_overdue_claims]
