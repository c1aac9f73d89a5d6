"""Payment limits of applications, the same for every table of them: reimbursements (30 working days
from acceptance), maternity (20) and account withdrawals (15).

- a due date touching a year whose holidays are not published is provisional (weekends only) and is
  computed again once that year's table is loaded;
- an application still open past its due date is announced once (``claims.overdue``).
The periodic job runs each scan with ``shared.scans.scan_in_pages``: one page a transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.events import new_envelope
from shared.events.catalog import ClaimsOverdueV1
from shared.scans import Page
from svc_claims.repository import applications as repository
from svc_claims.usecases.applications import Applications

BATCH = 200


async def _recompute_page(
    uow: UnitOfWork, apps: Applications[Any], after: uuid.UUID | None
) -> tuple[int, uuid.UUID | None]:
    calendar, today = default_calendar(), uow.clock.today()
    known = [year for year in range(today.year - 1, today.year + 3) if calendar.has_year(year)]
    found = await repository.claim_provisional(
        uow.session, apps.store, apps.open, years=known, after=after, batch=BATCH
    )
    changed = 0
    for application in found:
        fresh = application.with_due_recomputed(calendar)
        if (fresh.due_on, fresh.due_provisional) != (application.due_on, application.due_provisional):
            await apps.store.save(uow, fresh, loaded_at_version=application.version)
            changed += 1
    return changed, (found[-1].id if len(found) == BATCH else None)


async def _overdue_page(
    uow: UnitOfWork, apps: Applications[Any], after: uuid.UUID | None
) -> tuple[int, uuid.UUID | None]:
    today = uow.clock.today()
    due = await repository.claim_overdue(
        uow.session, apps.store, apps.open, today=today, after=after, batch=BATCH
    )
    for application in due:
        announced = replace(application, overdue_announced=True)
        await apps.store.save(uow, announced, loaded_at_version=application.version)
        uow.emit(new_envelope(ClaimsOverdueV1(**apps.fact(application), due_on=application.due_on,
                                              status=application.status.value), uow.clock))  # fmt: skip
    return len(due), (due[-1].id if len(due) == BATCH else None)


async def recompute_provisional(uow: UnitOfWork, apps: Applications[Any]) -> int:
    """Provisional due dates whose years' holidays are now known, computed again; how many moved."""
    return await _all_pages(uow, apps, _recompute_page)


async def announce_overdue(uow: UnitOfWork, apps: Applications[Any]) -> int:
    """claims.overdue once per application still open past its due date; how many were announced."""
    return await _all_pages(uow, apps, _overdue_page)


async def _all_pages(uow: UnitOfWork, apps: Applications[Any], page: Any) -> int:
    total, after = 0, None
    while True:
        count, after = await page(uow, apps, after)
        total += count
        if after is None:
            return total


def recompute_pages(apps: Applications[Any]) -> Page:
    """The provisional-date scan of one table, a page a transaction (for ``shared.scans.scan_in_pages``)."""

    async def page(uow: UnitOfWork, after: uuid.UUID | None) -> uuid.UUID | None:
        return (await _recompute_page(uow, apps, after))[1]

    return page


def overdue_pages(apps: Applications[Any]) -> Page:
    """The overdue scan of one table, a page a transaction (for ``shared.scans.scan_in_pages``)."""

    async def page(uow: UnitOfWork, after: uuid.UUID | None) -> uuid.UUID | None:
        return (await _overdue_page(uow, apps, after))[1]

    return page


async def open_due_dates(uow: UnitOfWork, apps: Applications[Any]) -> list[date]:
    return await repository.open_due_dates(uow.session, apps.store, apps.open)
