"""Maternity and account withdrawals through the claims API: amounts by rule and explained, the filing
window, the pregnancy registration, the withdrawal's conditions, the 20/15-working-day limits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.auth import Role
from shared.calendar import NamedDay, YearTable, default_calendar, reset_default_calendar
from shared.db import UnitOfWork
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage, Entitlement
from svc_claims.repository.coverage import Repository
from svc_claims.usecases.deadlines import recompute_provisional
from svc_claims.usecases.payments import APPLICATIONS

pytestmark = pytest.mark.integration

OFFICE = "120101"
UNIT = "91120101MA05K8Q4X9"


async def setup(
    database_url: str, coverage: Coverage, pregnancy: bool | date = False, balance: str | None = None
) -> None:
    """The coverage as registration's events leave it; `pregnancy` True: a pregnancy registered from 5 Jan 2026,
    a date: one started that day (lasting 42 weeks, as registration records it)."""

    async def record(uow: UnitOfWork) -> None:
        repo = Repository(uow)
        await repo.record_coverage(coverage, uuid.uuid4())
        if coverage.ended_reason:
            await repo.end_coverage(coverage.enrollment_id, coverage.benefit_end, coverage.ended_reason)  # type: ignore[arg-type]
        if pregnancy:
            start = pregnancy if isinstance(pregnancy, date) else date(2026, 1, 5)
            await repo.record_entitlement(Entitlement(uuid.uuid4(), coverage.person_id, "pregnancy", (), start, start + timedelta(weeks=42),
                                                      "active", {"late": False}), None)  # fmt: skip
        if balance:
            await repo.book_account_entry(
                coverage.person_id,
                "transfer_in",
                Decimal(balance),
                date(2020, 3, 1),
                f"transfer:{uuid.uuid4()}",
            )

    await in_schema(database_url, "claims", record, datetime(2021, 1, 1, tzinfo=UTC))


def resident(person: uuid.UUID, sex: str = "female") -> Coverage:
    return Coverage(
        uuid.uuid4(),
        person,
        OFFICE,
        "resident",
        "adult_middle",
        date(2021, 1, 1),
        date(2021, 12, 31),
        sex=sex,
    )


def employee(person: uuid.UUID, sex: str = "female") -> Coverage:
    return Coverage(
        uuid.uuid4(), person, OFFICE, "employee", None, date(2020, 1, 1), None, UNIT, "in_service", sex=sex
    )


def test_a_residents_delivery_is_paid_by_the_table_and_within_20_working_days(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person = uuid.uuid4()
    asyncio.run(setup(migrated_database, resident(person), pregnancy=date(2020, 10, 1)))
    me = claims.token(Role.insured, person_id=person)
    body = {"event_date": "2021-07-01", "facility_level": 2, "bank_account": "6222021234567890123", "items": [
        {"item": "prenatal", "cost": "900.00", "delivered": True}, {"item": "natural_delivery", "cost": "3100.00"},
        {"item": "delivery_complication", "cost": "1000.00"}]}  # fmt: skip
    filed = claims.client.post("/api/v1/claims/maternity/resident", json=body, headers=me)
    assert filed.status_code == 201, filed.text
    p = filed.json()
    assert [(line["code"], line["amount"]) for line in p["lines"]] == [("prenatal", "660.00"), ("natural_delivery", "2280.00"),
                                                                       ("delivery_complication", "600.00")]  # fmt: skip
    assert p["amount"] == "3540.00"
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    accepted = claims.client.post(
        f"/api/v1/claims/payments/{p['id']}/accept", json={"version": 1}, headers=district
    ).json()
    assert accepted["expected_payment_by"] > accepted["accepted_on"]
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    assert (
        claims.client.post(
            f"/api/v1/claims/payments/{p['id']}/approve", json={"version": 2}, headers=district
        ).status_code
        == 403
    )
    assert (
        claims.client.post(
            f"/api/v1/claims/payments/{p['id']}/approve", json={"version": 2}, headers=city
        ).json()["status"]
        == "approved"
    )
    lost = claims.client.post(
        "/api/v1/claims/maternity/resident",
        json={**body, "items": [{"item": "caesarean", "cost": "8000.00"}]},
        headers=me,
    )
    assert lost.status_code == 422 and "未载明" in lost.json()["detail"]
    other = claims.client.get(f"/api/v1/claims/payments/{p['id']}", headers=claims.token(Role.insured))
    assert other.status_code == 404


def test_the_allowance_needs_the_unit_a_pregnancy_registration_and_the_12_month_window(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    registered, unregistered = uuid.uuid4(), uuid.uuid4()
    for person, pregnancy in ((registered, True), (unregistered, False)):
        asyncio.run(setup(migrated_database, employee(person), pregnancy=pregnancy))
    unit = claims.token(Role.unit, unit_id=UNIT)
    body = {
        "event_date": "2026-09-20",
        "case": "delivery",
        "average_monthly_wage": "9000.00",
        "bank_account": "6222021234567890123",
    }
    claims.business_date("2026-11-22")
    try:
        filed = claims.client.post(
            "/api/v1/claims/maternity/allowance", json={**body, "person_id": str(registered)}, headers=unit
        )
        assert filed.status_code == 201, filed.text
        assert (
            filed.json()["amount"] == "29400.00"
            and filed.json()["basis"]["leave_days"] == 98
            and filed.json()["basis"]["sample"] is True
        )
        refused = claims.client.post(
            "/api/v1/claims/maternity/allowance", json={**body, "person_id": str(unregistered)}, headers=unit
        )
        assert refused.status_code == 409 and refused.json()["code"] == "pregnancy_registration_required"
        # Born 20 Sep 2025: the window ran from 1 Oct 2025 to 30 Sep 2026.
        late = claims.client.post(
            "/api/v1/claims/maternity/allowance",
            json={**body, "person_id": str(registered), "event_date": "2025-09-20"},
            headers=unit,
        )
        assert late.status_code == 422 and "超过申报期限" in late.json()["detail"]
    finally:
        claims.business_date(None)
    assert claims.client.post("/api/v1/claims/maternity/allowance", json={**body, "person_id": str(registered)},
                              headers=claims.token(Role.insured, person_id=registered)).status_code == 403  # fmt: skip


def test_a_withdrawal_pays_the_accounts_history_once_the_coverage_ended_for_a_reason(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    dead, working = uuid.uuid4(), uuid.uuid4()
    asyncio.run(setup(migrated_database, Coverage(uuid.uuid4(), dead, OFFICE, "employee", None, date(2020, 1, 1), date(2021, 3, 1),
                                                  UNIT, "in_service", (), "death"), balance="5321.40"))  # fmt: skip
    asyncio.run(
        setup(
            migrated_database,
            Coverage(uuid.uuid4(), working, OFFICE, "employee", None, date(2020, 1, 1), None, UNIT),
            balance="100.00",
        )
    )
    staff = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    body = {"reason": "death", "bank_account": "6222021234567890123"}
    no_commitment = claims.client.post(
        "/api/v1/claims/account-withdrawals", json={**body, "person_id": str(dead)}, headers=staff
    )
    assert no_commitment.status_code == 422 and "承诺书" in no_commitment.json()["detail"]
    filed = claims.client.post(
        "/api/v1/claims/account-withdrawals",
        json={**body, "person_id": str(dead), "heirs_commitment": True},
        headers=staff,
    )
    assert filed.status_code == 201 and filed.json()["amount"] == "5321.40"
    p = filed.json()
    claims.client.post(f"/api/v1/claims/payments/{p['id']}/accept", json={"version": 1}, headers=staff)
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    claims.client.post(f"/api/v1/claims/payments/{p['id']}/approve", json={"version": 2}, headers=city)
    paid = claims.client.post(
        f"/api/v1/claims/payments/{p['id']}/pay", json={"version": 3, "reference": "W-1"}, headers=staff
    )
    assert paid.json()["status"] == "paid"
    again = claims.client.post(
        "/api/v1/claims/account-withdrawals",
        json={**body, "person_id": str(dead), "heirs_commitment": True},
        headers=staff,
    )
    assert again.status_code == 422 and "无余额" in again.json()["detail"]  # the account was emptied
    still_working = claims.client.post(
        "/api/v1/claims/account-withdrawals",
        json={**body, "reason": "emigration", "person_id": str(working)},
        headers=staff,
    )
    assert still_working.status_code == 422 and "尚未终止" in still_working.json()["detail"]


def test_a_due_date_in_a_year_without_holidays_is_provisional_until_the_year_is_loaded(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person = uuid.uuid4()
    asyncio.run(setup(migrated_database, Coverage(uuid.uuid4(), person, OFFICE, "employee", None, date(2020, 1, 1), date(2021, 3, 1),
                                                  UNIT, "in_service", (), "emigration"), balance="800.00"))  # fmt: skip
    staff = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    filed = claims.client.post("/api/v1/claims/account-withdrawals", headers=staff,
                               json={"person_id": str(person), "reason": "emigration", "bank_account": "6222021234567890123"}).json()  # fmt: skip
    claims.business_date("2026-12-15")
    try:
        accepted = claims.client.post(
            f"/api/v1/claims/payments/{filed['id']}/accept", json={"version": 1}, headers=staff
        ).json()
    finally:
        claims.business_date(None)
    # 15 working days from Tue 15 Dec 2026: 12 in December and, with 2027's notice unknown (1 Jan off by statute), Mon 4 to Wed 6 Jan.
    assert (accepted["expected_payment_by"], accepted["expected_payment_provisional"]) == ("2027-01-06", True)

    default_calendar().load_year(
        YearTable(
            year=2027, holidays=[NamedDay(date=date(2027, 1, 1), name="元旦")], workdays=[], source="test"
        )
    )
    try:
        moved = asyncio.run(in_schema(migrated_database, "claims", lambda uow: recompute_provisional(uow, APPLICATIONS),
                                      datetime(2026, 12, 16, tzinfo=UTC)))  # fmt: skip
    finally:
        reset_default_calendar()
    assert moved >= 1
    seen = claims.client.get(f"/api/v1/claims/payments/{filed['id']}", headers=staff).json()
    assert (seen["expected_payment_by"], seen["expected_payment_provisional"]) == ("2027-01-06", False)


def test_the_unit_files_an_employees_advanced_bills_with_the_allowance(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person, remote_unregistered = uuid.uuid4(), uuid.uuid4()
    for who in (person, remote_unregistered):
        asyncio.run(setup(migrated_database, employee(who), pregnancy=date(2020, 12, 14)))
    unit = claims.token(Role.unit, unit_id=UNIT)
    body = {"person_id": str(person), "event_date": "2021-09-20", "facility_level": 3, "bank_account": "6222021234567890123",
            "items": [{"item": "prenatal", "cost": "900.00", "delivered": True}, {"item": "natural_delivery", "cost": "1800.00"},
                      {"item": "referral_sending_hospital", "cost": "1234.57"}],
            "allowance": {"case": "delivery", "average_monthly_wage": "9000.00", "extra_babies": 1}}  # fmt: skip
    claims.business_date("2021-11-22")  # the tables on file are 2021's
    try:
        filed = claims.client.post("/api/v1/claims/maternity/employee", json=body, headers=unit)
        assert filed.status_code == 201, filed.text
        p = filed.json()
        # prenatal limit 660; delivery fixed 2280 but never more than paid (1800); 1234.57 × 60% = 740.742 → 740.74;
        # allowance 9000 ÷ 30 × (98 + 15) = 33900.00. Sample tables, said so on every line computed from them.
        assert [(line["code"], line["amount"]) for line in p["lines"]] == [
            ("prenatal", "660.00"),
            ("natural_delivery", "1800.00"),
            ("referral_sending_hospital", "740.74"),
            ("maternity_allowance", "33900.00"),
        ]
        assert p["amount"] == "37100.74" and p["kind"] == "maternity_employee" and p["unit_code"] == UNIT
        assert all("示例" in line["rule"] for line in p["lines"]) and p["basis"]["account_owner"] == "unit"

        remote = claims.client.post("/api/v1/claims/maternity/employee", headers=unit,
                                    json={**body, "person_id": str(remote_unregistered), "remote": True})  # fmt: skip
        assert remote.status_code == 409 and remote.json()["code"] == "maternity_remote_registration_required"
        bills_only = claims.client.post("/api/v1/claims/maternity/employee", headers=unit,
                                        json={**body, "person_id": str(remote_unregistered), "remote": True, "allowance": None})  # fmt: skip
        assert (
            bills_only.status_code == 201 and bills_only.json()["amount"] == "3200.74"
        )  # no allowance, no registration needed
        nothing = claims.client.post(
            "/api/v1/claims/maternity/employee", json={**body, "items": [], "allowance": None}, headers=unit
        )
        assert nothing.status_code == 422 and "须申报" in nothing.text
        no_level = claims.client.post(
            "/api/v1/claims/maternity/employee", json={**body, "facility_level": None}, headers=unit
        )
        assert no_level.status_code == 422 and "医疗机构级别" in no_level.text
        late = claims.client.post(
            "/api/v1/claims/maternity/employee", json={**body, "event_date": "2020-09-20"}, headers=unit
        )
        assert late.status_code == 422 and "超过申报期限" in late.json()["detail"]
        unknown = claims.client.post(
            "/api/v1/claims/maternity/employee",
            json={**body, "items": [{"item": "caesarean", "cost": "9000.00"}]},
            headers=unit,
        )
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "items"
        other_unit = claims.client.post(
            "/api/v1/claims/maternity/employee",
            json=body,
            headers=claims.token(Role.unit, unit_id="91120101MA05K8Q4Y0"),
        )
        assert other_unit.status_code == 404
    finally:
        claims.business_date(None)
    listed = claims.client.get(
        f"/api/v1/claims/payments/{p['id']}", headers=claims.token(Role.insured, person_id=person)
    )
    assert listed.status_code == 200 and listed.json()["amount"] == "37100.74"


def test_an_accounts_balance_is_filed_for_withdrawal_once(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = uuid.uuid4()
    coverage = Coverage(
        uuid.uuid4(),
        person,
        OFFICE,
        "employee",
        None,
        date(2020, 1, 1),
        date(2021, 3, 1),
        UNIT,
        "in_service",
        (),
        "emigration",
    )
    asyncio.run(setup(migrated_database, coverage, balance="1200.00"))
    staff = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    body = {"person_id": str(person), "reason": "emigration", "bank_account": "6222021234567890123"}
    first = claims.client.post("/api/v1/claims/account-withdrawals", json=body, headers=staff)
    assert first.status_code == 201, first.text
    second = claims.client.post(
        "/api/v1/claims/account-withdrawals", json=body, headers=staff
    )  # a retry without a key
    assert second.status_code == 409 and second.json()["code"] == "withdrawal_already_filed"
    assert second.json()["existing_payment"] == first.json()["id"]
    rejected = claims.client.post(f"/api/v1/claims/payments/{first.json()['id']}/reject", json={"version": 1, "reason": "materials_doubtful"},
                                  headers=staff)  # fmt: skip
    assert rejected.status_code == 200
    assert (
        claims.client.post("/api/v1/claims/account-withdrawals", json=body, headers=staff).status_code == 201
    )  # refiled after the rejection
