"""Registration's events as this service records them: whose coverage here is active or stopped, and
the balance of each person's account."""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalog import (
    AccountCreditedV1,
    AccountDebitedV1,
    RegistrationApprovedV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
)
from shared.events.consumer import OutOfOrder
from svc_transfer.repository import accounts, coverages


async def record_approved(uow: UnitOfWork, envelope: Envelope, event: RegistrationApprovedV1) -> None:
    await coverages.record_approved(uow, event.enrollment_id, {
        "person_id": event.person_id, "office_code": event.office_code, "scheme": event.scheme,
        "status": "active", "benefit_start": event.benefit_start, "benefit_end": event.benefit_end,
        "unit_code": event.unit_code, "sex": event.sex,
    })  # fmt: skip


async def record_stopped(uow: UnitOfWork, envelope: Envelope, event: RegistrationStoppedV1) -> None:
    await coverages.record_stopped(uow.session, event.enrollment_id, {
        "person_id": event.person_id, "office_code": event.office_code, "scheme": event.scheme,
        "status": "stopped", "stopped_on": event.stopped_on, "benefit_start": event.stopped_on,
        "benefit_end": event.stopped_on,
    })  # fmt: skip


async def record_ended(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationSuspendedV1 | RegistrationTerminatedV1
) -> None:
    """中断 / 终止: the coverage here ends on its last covered day (an approval arriving later keeps it)."""
    if not await coverages.end_on(uow.session, event.enrollment_id, event.last_covered_day):
        raise OutOfOrder(f"enrollment {event.enrollment_id} not recorded yet")


async def record_account(
    uow: UnitOfWork, envelope: Envelope, event: AccountCreditedV1 | AccountDebitedV1
) -> None:
    """个人账户: the balance after the entry, as registration booked it (a certificate states it)."""
    await accounts.record(uow.session, {
        "person_id": event.person_id, "office_code": event.office_code, "balance": event.balance,
        "booked_on": event.booked_on, "occurred_at": envelope.occurred_at,
    })  # fmt: skip
