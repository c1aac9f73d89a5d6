"""Periodic work of svc-claims: claims and payments past their limit are announced (claims.overdue) once,
whichever replica takes them (rows claimed with SKIP LOCKED, a page a transaction)."""

from __future__ import annotations

from shared.scans import scan_in_pages
from shared.service import ServiceRuntime
from svc_claims.usecases import payments, reimbursements
from svc_claims.usecases.deadlines import overdue_pages, recompute_pages

TABLES = (reimbursements.APPLICATIONS, payments.APPLICATIONS)


async def announce_overdue_claims(runtime: ServiceRuntime) -> None:
    """Reimbursements past their 30 working days, maternity past 20, withdrawals past 15. Provisional due
    dates are computed again first, once their year's holidays are loaded."""
    for apps in TABLES:
        await scan_in_pages(runtime, recompute_pages(apps))
    for apps in TABLES:
        await scan_in_pages(runtime, overdue_pages(apps))


JOBS = [announce_overdue_claims]
