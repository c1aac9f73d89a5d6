"""Periodic work of svc-claims: claims and payments past their limit are announced (claims.overdue) once,
whichever replica takes them (rows claimed with SKIP LOCKED)."""

from __future__ import annotations

from shared.service import ServiceRuntime
from svc_claims import payments, reimbursements


async def announce_overdue_claims(runtime: ServiceRuntime) -> None:
    """Reimbursements past their 30 working days, maternity past 20, withdrawals past 15. Provisional due
    dates of reimbursements are computed again first, once their year's holidays are loaded."""
    async with runtime.uow() as uow:
        await reimbursements.recompute_provisional_due_dates(uow)
        await uow.commit()
    while True:
        async with runtime.uow() as uow:
            announced = await reimbursements.announce_overdue(uow) + await payments.announce_overdue(uow)
            await uow.commit()
        if announced == 0:
            return


JOBS = [announce_overdue_claims]
