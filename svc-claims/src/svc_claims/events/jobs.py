"""Periodic work of svc-claims: claims and payments past their limit are announced (claims.overdue) once,
whichever replica takes them (rows claimed with SKIP LOCKED)."""

from __future__ import annotations

from shared.service import ServiceRuntime
from svc_claims.usecases import payments, reimbursements
from svc_claims.usecases.deadlines import announce_overdue, recompute_provisional

TABLES = (reimbursements.APPLICATIONS, payments.APPLICATIONS)


async def announce_overdue_claims(runtime: ServiceRuntime) -> None:
    """Reimbursements past their 30 working days, maternity past 20, withdrawals past 15. Provisional due
    dates are computed again first, once their year's holidays are loaded."""
    async with runtime.uow() as uow:
        for apps in TABLES:
            await recompute_provisional(uow, apps)
        await uow.commit()
    while True:
        async with runtime.uow() as uow:
            announced = sum([await announce_overdue(uow, apps) for apps in TABLES])
            await uow.commit()
        if announced == 0:
            return


JOBS = [announce_overdue_claims]
