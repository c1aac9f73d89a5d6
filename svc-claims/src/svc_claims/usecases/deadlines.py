"""Payment limits of applications, the same for every table of them: reimbursements (30 working days
from acceptance), maternity (20) and account withdrawals (15).

- a due date touching a year whose holidays are not published is provisional (weekends only) and is
  computed again once that year's table is loaded;
- an application still open past its due date is announced once (``claims.overdue``).
Rows are claimed with SKIP LOCKED, so replicas running the same scan never take the same row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Table, func, select

from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.events import new_envelope
from shared.events.catalog import ClaimsOverdueV1
from svc_claims.domain.reimbursement import Status


@dataclass(frozen=True)
class Applications:
    """One table of applications: its rows' documents, which statuses are open, how to save one and
    the facts its events carry. The documents have ``due_on``, ``due_provisional``, ``status``,
    ``overdue_announced`` and ``with_due_recomputed(calendar)``."""

    table: Table
    adapter: TypeAdapter
    open_statuses: frozenset[Status]
    save: Callable[[UnitOfWork, Any], Awaitable[None]]
    fact: Callable[[Any], dict]

    def is_open(self) -> Any:
        return self.table.c.status.in_([s.value for s in self.open_statuses])


async def recompute_provisional(uow: UnitOfWork, apps: Applications, batch: int = 200) -> int:
    """Provisional due dates whose years' holidays are now known, computed again; how many moved."""
    calendar, today = default_calendar(), uow.clock.today()
    known = [year for year in range(today.year - 1, today.year + 3) if calendar.has_year(year)]
    query = (
        select(apps.table.c.document)
        .where(apps.is_open(), apps.table.c.due_provisional.is_(True), func.extract("year", apps.table.c.due_on).in_(known))
        .limit(batch).with_for_update(skip_locked=True)
    )  # fmt: skip
    changed = 0
    for (document,) in await uow.session.execute(query):
        application = apps.adapter.validate_python(document)
        fresh = application.with_due_recomputed(calendar)
        if (fresh.due_on, fresh.due_provisional) != (application.due_on, application.due_provisional):
            await apps.save(uow, fresh)
            changed += 1
    return changed


async def announce_overdue(uow: UnitOfWork, apps: Applications, batch: int = 200) -> int:
    """claims.overdue once per application still open past its due date; how many were announced."""
    query = (
        select(apps.table.c.document)
        .where(apps.is_open(), apps.table.c.due_on < uow.clock.today(), apps.table.c.overdue_announced.is_(False))
        .limit(batch).with_for_update(skip_locked=True)
    )  # fmt: skip
    due = [apps.adapter.validate_python(row[0]) for row in await uow.session.execute(query)]
    for application in due:
        await apps.save(uow, replace(application, overdue_announced=True))
        uow.emit(new_envelope(ClaimsOverdueV1(**apps.fact(application), due_on=application.due_on,
                                              status=application.status.value), uow.clock))  # fmt: skip
    return len(due)


async def open_due_dates(uow: UnitOfWork, apps: Applications) -> list[date]:
    rows = await uow.session.execute(select(apps.table.c.due_on).where(apps.is_open()))
    return [d for (d,) in rows if d is not None]
