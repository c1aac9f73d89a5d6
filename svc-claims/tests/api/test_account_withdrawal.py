"""The one-time account withdrawal pays the balance registration holds: claims mirrors registration's account
entries (registration.account_credited / account_debited) once per person and reference, books no transfer-in of
its own, and one withdrawal is open at a time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.auth import Role
from shared.db import UnitOfWork
from shared.events import new_envelope
from shared.events.catalog import AccountCreditedV1, AccountDebitedV1, TransferCompletedV1
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage
from svc_claims.events.handlers import SUBSCRIPTIONS
from svc_claims.repository.coverage import Repository
from svc_claims.usecases.accounts import record_account_entry

pytestmark = pytest.mark.integration

OFFICE = "120101"
UNIT = "91120101MA05K8Q4X9"
WITHDRAWALS = "/api/v1/claims/account-withdrawals"
AT = datetime(2026, 3, 2, tzinfo=UTC)


def deliver(database_url: str, event: AccountCreditedV1 | AccountDebitedV1) -> None:
    """The event as the consumer hands it to claims' subscription."""

    async def work(uow: UnitOfWork) -> None:
        await record_account_entry(uow, new_envelope(event, uow.clock), event)

    asyncio.run(in_schema(database_url, "claims", work, AT))


def credited(
    person: uuid.UUID, amount: str, reference: str, balance: str, kind: str = "contribution"
) -> AccountCreditedV1:
    return AccountCreditedV1(
        person_id=person, office_code=OFFICE, kind=kind, amount=Decimal(amount), booked_on=date(2026, 2, 10),  # type: ignore[arg-type]
        month=date(2026, 1, 1) if kind == "contribution" else None, reference=reference, balance=Decimal(balance),
        contribution_months=1,
    )  # fmt: skip


def left_the_country(database_url: str, person: uuid.UUID) -> None:
    coverage = Coverage(uuid.uuid4(), person, OFFICE, "employee", None, date(2020, 1, 1), date(2026, 2, 28), UNIT,
                        "in_service", (), "emigration")  # fmt: skip

    async def record(uow: UnitOfWork) -> None:
        repo = Repository(uow)
        await repo.record_coverage(coverage, uuid.uuid4())
        await repo.end_coverage(coverage.enrollment_id, date(2026, 2, 28), "emigration")

    asyncio.run(in_schema(database_url, "claims", record, AT))


def test_claims_books_no_transfer_in_of_its_own_registrations_credit_is_the_one_source() -> None:
    handled = {s.model: s.handler for s in SUBSCRIPTIONS}
    assert TransferCompletedV1 not in handled
    assert handled[AccountCreditedV1] is handled[AccountDebitedV1] is record_account_entry


def test_the_withdrawal_pays_the_balance_registration_booked_once_and_the_account_ends_at_zero(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person, colleague = uuid.uuid4(), uuid.uuid4()
    left_the_country(migrated_database, person)
    staff = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    body = {"person_id": str(person), "reason": "emigration", "bank_account": "6222021234567890123"}

    # Registration's account: January's credit from the unit's notice (shared by the colleague on the same
    # notice), a transferred-in balance, and January's credit delivered again (the consumer retried it).
    deliver(migrated_database, credited(person, "183.60", "notice:120101-202601-0001", "183.60"))
    deliver(migrated_database, credited(colleague, "95.20", "notice:120101-202601-0001", "95.20"))
    deliver(migrated_database, credited(person, "4200.00", "transfer:7d1c", "4383.60", kind="transfer_in"))
    deliver(migrated_database, credited(person, "183.60", "notice:120101-202601-0001", "183.60"))

    filed = claims.client.post(WITHDRAWALS, json=body, headers=staff)
    assert filed.status_code == 201, filed.text
    assert filed.json()["amount"] == "4383.60"  # registration's balance, each entry once

    # February's credit arrives while the withdrawal is open: a second filing is still refused.
    deliver(migrated_database, credited(person, "183.60", "notice:120101-202602-0001", "4567.20"))
    second = claims.client.post(WITHDRAWALS, json=body, headers=staff)
    assert second.status_code == 409 and second.json()["code"] == "withdrawal_already_filed"

    p = filed.json()
    assert (
        claims.client.post(
            f"/api/v1/claims/payments/{p['id']}/accept", json={"version": 1}, headers=staff
        ).status_code
        == 200
    )
    assert (
        claims.client.post(
            f"/api/v1/claims/payments/{p['id']}/approve", json={"version": 2}, headers=city
        ).status_code
        == 200
    )
    paid = claims.client.post(
        f"/api/v1/claims/payments/{p['id']}/pay", json={"version": 3, "reference": "W-1"}, headers=staff
    )
    assert paid.status_code == 200 and paid.json()["amount"] == "4383.60"  # fmt: skip

    # Registration debits what claims paid, under the payment's reference: claims already booked it, so it
    # is not taken twice; what is left is February's credit, which a new withdrawal pays exactly.
    deliver(migrated_database, AccountDebitedV1(person_id=person, office_code=OFFICE, kind="withdrawal", amount=Decimal("4383.60"),
                                                booked_on=date(2026, 3, 2), reference=f"withdrawal:{p['id']}", balance=Decimal("183.60")))  # fmt: skip
    rest = claims.client.post(WITHDRAWALS, json=body, headers=staff)
    assert rest.status_code == 201 and rest.json()["amount"] == "183.60"
    claims.client.post(
        f"/api/v1/claims/payments/{rest.json()['id']}/accept", json={"version": 1}, headers=staff
    )
    claims.client.post(
        f"/api/v1/claims/payments/{rest.json()['id']}/approve", json={"version": 2}, headers=city
    )
    claims.client.post(
        f"/api/v1/claims/payments/{rest.json()['id']}/pay",
        json={"version": 3, "reference": "W-2"},
        headers=staff,
    )
    empty = claims.client.post(WITHDRAWALS, json=body, headers=staff)
    assert empty.status_code == 422 and "无余额" in empty.json()["detail"]

    history = asyncio.run(
        in_schema(migrated_database, "claims", lambda uow: Repository(uow).account_history(person), AT)
    )
    assert sum(e.amount if e.kind.value in ("allocation", "transfer_in") else -e.amount for e in history) == 0  # fmt: skip
    theirs = asyncio.run(
        in_schema(migrated_database, "claims", lambda uow: Repository(uow).account_history(colleague), AT)
    )
    assert [(e.reference, e.amount) for e in theirs] == [("notice:120101-202601-0001", Decimal("95.20"))]
