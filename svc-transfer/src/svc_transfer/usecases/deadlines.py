"""Time limits of the procedure: the overdue alert raised once per step, and the ops page's probes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.events import new_envelope
from shared.events.catalog import TransferOverdueV1
from shared.ops import DeadlineCounts, overdue_seconds
from svc_transfer.domain.access import EVERYTHING
from svc_transfer.domain.transfer import Side, Step, StepName, Transfer
from svc_transfer.repository import transfers

PAGE = 200
AT_RISK_WORKING_DAYS = 2  # a step due within this many working days shows as at risk on the ops page


async def announce_overdue_steps(uow: UnitOfWork, after: uuid.UUID | None) -> uuid.UUID | None:
    """Raise `transfer.overdue` once for each step past its due date (rows locked: one replica each).
    One page of the scan (shared.scans.scan_in_pages): returns where the next page starts, or None."""
    calendar, today = default_calendar(), uow.clock.today()
    cases = await transfers.claim_open_page(uow.session, after, PAGE)
    for case in cases:
        step = case.open_step()
        if step is None or step.overdue_announced or not step.overdue(calendar, today):
            continue
        due = step.due(calendar)
        uow.emit(
            new_envelope(
                TransferOverdueV1(
                    transfer_id=case.id,
                    transfer_ref=case.transfer_ref,
                    side=case.side.value,
                    office_code=case.office_code,
                    peer_office=case.peer_office,
                    step=_event_step(case, step.name),
                    due_date=due.date,
                    provisional=due.provisional,
                ),
                uow.clock,
            )
        )
        await transfers.save(uow, case.announce_overdue(step.name), loaded_at_version=case.version)
    return cases[-1].id if len(cases) == PAGE else None


def _event_step(case: Transfer, name: StepName) -> str:
    """The event names the three timed steps of the procedure: checking funds belongs to completion,
    a message to re-send to the step that sent it."""
    if name is StepName.check_funds:
        return StepName.complete.value
    if name is StepName.resend:
        return StepName.send_letter.value if case.side is Side.incoming else StepName.send_table.value
    return name.value


async def step_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's deadline probe: open steps near or past their limit (no personal data)."""
    return await _deadlines(uow, Transfer.open_step)


async def whole_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's probe of the whole transfer's 20-working-day limit, beside the steps'."""
    return await _deadlines(uow, Transfer.whole_limit)


async def _deadlines(uow: UnitOfWork, limit_of: Callable[[Transfer], Step | None]) -> DeadlineCounts:
    calendar, today = default_calendar(), uow.clock.today()
    soon = calendar.add_working_days(today, AT_RISK_WORKING_DAYS).date
    at_risk, overdue, oldest_due = 0, 0, None
    for case in await transfers.open_in(uow.session, EVERYTHING):
        step = limit_of(case)
        if step is None:
            continue
        due = step.due(calendar).date
        if due < today:
            overdue, oldest_due = overdue + 1, min(due, oldest_due or due)
        elif due <= soon:
            at_risk += 1
    return DeadlineCounts(at_risk, overdue, overdue_seconds(oldest_due, uow.clock) if oldest_due else None)
