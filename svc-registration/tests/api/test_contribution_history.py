"""The contribution history (缴费历史, used for the 参保凭证 and transfers) from the records: the periods
transferred in and each month paid here through a contribution notice; an unpaid month is not shown."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.auth import Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.events.catalog import TransferCompletedV1
from shared.events.envelope import new_envelope
from shared.migrations import service_database_url
from svc_registration.events.handlers import transfer_completed

from .test_contributions import API, HEADER, OFFICE, in_february, issue, staff, unit_with_employees, upload

pytestmark = pytest.mark.integration
__all__ = ["in_february", "staff"]  # fixtures


def history(registration, headers, person_id: str | None = None):  # type: ignore[no-untyped-def]
    params = {"person_id": person_id} if person_id else {}
    return registration.client.get(f"{API}/enrollments/contribution-history", params=params, headers=headers)


async def deliver(database: str, event: TransferCompletedV1) -> None:
    engine = make_engine(service_database_url(database, "registration"), schema="registration")
    try:
        clock = FixedClock(datetime(2026, 2, 10, 2, tzinfo=UTC))
        async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
            await transfer_completed(uow, new_envelope(event, clock), event)
            await uow.commit()
    finally:
        await engine.dispose()


def test_the_history_shows_the_months_paid_through_notices_beside_the_periods_transferred_in(
    registration, staff, in_february, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    code, (employee,) = unit_with_employees(registration, staff, ["6000.00"])
    person = employee["person_id"]
    notice = issue(registration, staff, code).json()
    (line,) = notice["lines"]
    assert history(registration, staff, person).json()["items"] == []  # issued, not paid: no month yet

    transfer = uuid.uuid4()
    asyncio.run(deliver(migrated_database, TransferCompletedV1(
        transfer_id=transfer, person_id=uuid.UUID(person), office_code=OFFICE, from_office="130200",
        contribution_months=26, account_balance=Decimal("1500.00"), completed_on=date(2026, 1, 20))))  # fmt: skip
    number = notice["number"]
    assert upload(registration, staff, HEADER + f"{number},720.00,2026-02-09,H-{number}\n").status_code == 200

    shown = history(registration, staff, person)
    assert shown.status_code == 200, shown.text
    assert shown.json()["items"] == [
        {"source": "transfer", "transfer_id": str(transfer), "from_office": "130200", "office_code": OFFICE,
         "contribution_months": 26, "account_balance": "1500.00", "completed_on": "2026-01-20", "month": None,
         "notice_number": None, "base": None},
        {"source": "notice", "transfer_id": None, "from_office": None, "office_code": OFFICE, "contribution_months": 1,
         "account_balance": line["account_credit"], "completed_on": "2026-02-09", "month": "2026-02-01",
         "notice_number": number, "base": "6000.00"},
    ]  # fmt: skip
    own = registration.token(Role.insured, person_id=uuid.UUID(person))
    assert history(registration, own).json() == shown.json()
    assert upload(registration, staff, HEADER + f"{number},720.00,2026-02-09,H-{number}\n").status_code == 200
    assert history(registration, staff, person).json() == shown.json()  # the file again: the month once
