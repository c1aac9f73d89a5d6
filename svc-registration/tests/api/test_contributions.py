"""Employee-scheme money through the service's API: notices, the bank's payment file, the account, and
coverage interrupted when a month stays unpaid.

Policy (sample data file): floor 4,800.00, ceiling 24,000.00, unit 10%, personal 2%, late fee 0.05% a
day, interruption 30 days after the due date (the month's last day).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from stdnum.cn import uscc

from shared import spreadsheets
from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.events.catalog import ClaimsPaidV1
from shared.events.envelope import new_envelope
from shared.migrations import service_database_url
from shared.testing.e2e import assert_problem, new_resident_id
from svc_registration.usecases.contributions import import_payments, interrupt_unpaid, record_withdrawal_paid

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
OFFICE = "120101"
UNIT_PAPERS = {"credit_code_certificate": "copy", "unit_registration_form": "original",
               "legal_representative_id_copy": "copy"}  # fmt: skip
EMPLOYEE_PAPERS = {"employee_registration_form": "original", "id_document_copy": "copy", "wage_proof": "copy"}
HEADER = "notice_number,amount,paid_on,bank_reference\n"


def new_credit_code() -> str:
    body = "91" + OFFICE + uuid.uuid4().hex[:9].upper()
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=OFFICE, office_level="district")


@pytest.fixture
def in_february(registration) -> Iterator[None]:  # type: ignore[no-untyped-def]
    registration.business_date("2026-02-10")
    try:
        yield
    finally:
        registration.business_date(None)


def unit_with_employees(registration, staff, wages: list[str]) -> tuple[str, list[dict]]:  # type: ignore[no-untyped-def]
    code = new_credit_code()
    body = {"code": code, "name": "天津征缴测试有限公司", "legal_representative": "王某", "office_code": OFFICE,
            "materials": UNIT_PAPERS}  # fmt: skip
    assert registration.client.post(f"{API}/units", json=body, headers=staff).status_code == 201
    employees = []
    for _ in wages:
        person = {"id_number": new_resident_id(OFFICE), "name": "职工"}
        answer = registration.client.post(
            f"{API}/units/{code}/employees",
            json={"person": person, "materials": EMPLOYEE_PAPERS},
            headers=staff,
        )
        assert answer.status_code == 201, answer.text
        employees.append(answer.json())
    bases = [{"enrollment_id": e["id"], "declared_wage": w} for e, w in zip(employees, wages, strict=True)]
    declared = registration.client.put(
        f"{API}/contributions/units/{code}/bases", json={"month": "2026-02", "bases": bases}, headers=staff
    )
    assert declared.status_code == 200, declared.text
    return code, employees


def issue(registration, headers, code: str, month: str = "2026-02"):  # type: ignore[no-untyped-def]
    return registration.client.post(
        f"{API}/contributions/notices", json={"month": month, "unit_code": code}, headers=headers
    )


def upload(registration, headers, text: str, name: str = "pay.csv"):  # type: ignore[no-untyped-def]
    return registration.client.post(
        f"{API}/contributions/payments", files={"file": (name, text.encode(), "text/csv")}, headers=headers
    )


def account(registration, headers, person_id: str) -> dict:  # type: ignore[no-untyped-def]
    answer = registration.client.get(
        f"{API}/contributions/accounts", params={"person_id": person_id}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_units_notice_is_the_sum_of_its_employees_lines_once_a_month(
    registration, staff, in_february
) -> None:  # type: ignore[no-untyped-def]
    code, employees = unit_with_employees(registration, staff, ["3000.00", "10000.00"])
    own = registration.token(Role.unit, unit_id=code, office_code=OFFICE, office_level="district")
    answer = issue(registration, own, code)  # 单位也可自行打印征缴单
    assert answer.status_code == 201, answer.text
    notice = answer.json()
    # 3,000 → floor 4,800: 480.00 + 96.00; 10,000: 1,000.00 + 200.00
    assert [(line["base"], line["unit_part"], line["personal_part"]) for line in
            sorted(notice["lines"], key=lambda line: line["base"])] == [
        ("10000.00", "1000.00", "200.00"), ("4800.00", "480.00", "96.00")]  # fmt: skip
    assert notice["total"] == "1776.00" and notice["due_on"] == "2026-02-28" and notice["sample"] is True
    assert {line["person_id"] for line in notice["lines"]} == {e["person_id"] for e in employees}

    assert_problem(issue(registration, staff, code), 409, "notice_exists")
    assert_problem(issue(registration, staff, code, "2026-03"), 422, "month_in_future")
    other_unit = registration.token(
        Role.unit, unit_id=new_credit_code(), office_code=OFFICE, office_level="district"
    )
    other_office = registration.token(Role.staff, office_code="120103", office_level="district")
    for stranger in (other_unit, other_office):
        assert_problem(
            registration.client.get(f"{API}/contributions/notices/{notice['number']}", headers=stranger), 404
        )
    policy = registration.client.get(
        f"{API}/contributions/policy", params={"month": "2026-02"}, headers=own
    ).json()
    assert (policy["sample"], policy["base_floor"], policy["base_ceiling"]) == (True, "4800.00", "24000.00")
    assert (
        "SAMPLE" in policy["sources"]["unit_rate"]
        and "第25条" in policy["sources"]["personal_part_to_account"]
    )
    listed = registration.client.get(f"{API}/contributions/notices", headers=own).json()
    assert [n["number"] for n in listed["items"]] == [notice["number"]]
    assert registration.client.get(f"{API}/contributions/notices", headers=other_unit).json()["total"] == 0


def test_a_payment_file_is_checked_whole_and_applied_once(registration, staff, in_february) -> None:  # type: ignore[no-untyped-def]
    code, employees = unit_with_employees(registration, staff, ["6000.00"])
    notice = issue(registration, staff, code).json()
    number, person = notice["number"], employees[0]["person_id"]
    bad = (HEADER + f"{number},720.01,2026-02-09,B-{number}\n" + "209901-NOPE,10.00,2026-02-09,B-x\n"
           + f"{number},720.00,2099-01-01,\n" + f"{number},720.00,2026-01-31,B3-{number}\n")  # fmt: skip
    problem = assert_problem(upload(registration, staff, bad), 422, "payment_rows_invalid")
    assert {(e["line"], e["column"]) for e in problem["errors"]} == {
        (2, "amount"), (3, "notice_number"), (4, "paid_on"), (4, "bank_reference"),
        (5, "notice_number"), (5, "paid_on")}  # fmt: skip
    assert account(registration, staff, person)["entries"] == []  # nothing half-applied

    good = HEADER + f"{number},720.00,2026-02-09,B-{number}\n"
    applied = upload(registration, staff, good)
    assert applied.status_code == 200, applied.text
    assert applied.json() | {} == {
        "rows": 1,
        "applied": 1,
        "already_applied": 0,
        "amount": "720.00",
        "late_fees": "0.00",
    }
    credited = account(registration, staff, person)
    (line,) = notice["lines"]
    assert credited["balance"] == line["account_credit"] == credited["entries"][0]["amount"]
    again = upload(registration, staff, good).json()
    assert (again["applied"], again["already_applied"]) == (0, 1)
    assert account(registration, staff, person) == credited
    paid = registration.client.get(f"{API}/contributions/notices/{number}", headers=staff).json()
    assert (paid["status"], paid["paid_on"], paid["bank_reference"]) == ("paid", "2026-02-09", f"B-{number}")
    for status, listed in (("paid", [number]), ("issued", [])):
        found = registration.client.get(
            f"{API}/contributions/notices", params={"unit_code": code, "status": status}, headers=staff
        )
        assert [n["number"] for n in found.json()["items"]] == listed

    someone_else = HEADER + f"{number},720.00,2026-02-09,B2-{number}\n"
    assert_problem(upload(registration, staff, someone_else), 422, "payment_rows_invalid")
    own_person = registration.token(Role.insured, person_id=uuid.UUID(person))
    assert registration.client.get(f"{API}/contributions/accounts", headers=own_person).json() == credited
    unit = registration.token(Role.unit, unit_id=code, office_code=OFFICE, office_level="district")
    assert_problem(
        registration.client.get(f"{API}/contributions/accounts", params={"person_id": person}, headers=unit),
        403,
    )


def test_an_xlsx_payment_file_with_chinese_headers_is_read_like_the_csv(
    registration, staff, in_february
) -> None:  # type: ignore[no-untyped-def]
    code, employees = unit_with_employees(registration, staff, ["5000.00"])
    number = issue(registration, staff, code).json()["number"]
    content = spreadsheets.workbook(spreadsheets.Sheet("缴费", ["征缴单号", "缴费金额", "缴费日期", "银行流水号"],
                                                       [[number, spreadsheets.money("600.00"), "2026-02-10", f"X-{number}"]]))  # fmt: skip
    answer = registration.client.post(f"{API}/contributions/payments", files={"file": ("pay.xlsx", content, spreadsheets.XLSX)},
                                      headers=staff)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] == 1
    assert Decimal(account(registration, staff, employees[0]["person_id"])["balance"]) > 0


def test_a_late_payment_carries_the_late_fee_and_an_unpaid_month_interrupts_coverage(
    registration, staff, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    registration.business_date("2026-02-10")
    try:
        code, employees = unit_with_employees(registration, staff, ["8000.00", "8000.00"])
        notice = issue(registration, staff, code).json()  # 2 × (800 + 160) = 1,920.00, due 28 Feb
        registration.business_date("2026-03-20")
        number = notice["number"]
        # paid on 10 March: 10 days late, 1,920.00 × 0.0005 × 10 = 9.60
        on_time_amount = HEADER + f"{number},1920.00,2026-03-10,L-{number}\n"
        problem = assert_problem(upload(registration, staff, on_time_amount), 422, "payment_rows_invalid")
        assert "1929.60" in problem["errors"][0]["message"]
        paid = upload(registration, staff, HEADER + f"{number},1929.60,2026-03-10,L-{number}\n")
        assert paid.status_code == 200, paid.text
        assert paid.json()["late_fees"] == "9.60"

        registration.business_date("2026-03-25")
        unpaid_code, unpaid_employees = unit_with_employees(registration, staff, ["8000.00"])
        unpaid = issue(registration, staff, unpaid_code, "2026-03").json()
    finally:
        registration.business_date(None)
    # 30 days after 31 March the March notice is still unpaid: coverage ends on the day before it began
    handled = asyncio.run(run_interruption(migrated_database, date(2026, 5, 1)))
    assert handled >= 1
    enrollment = registration.client.get(
        f"{API}/enrollments/{unpaid_employees[0]['id']}", headers=staff
    ).json()
    assert (enrollment["status"], enrollment["benefit_end"]) == ("interrupted", "2026-03-24")
    again = registration.client.get(f"{API}/contributions/notices/{unpaid['number']}", headers=staff).json()
    assert again["interrupted_on"] == "2026-05-01"
    still = registration.client.get(f"{API}/enrollments/{employees[0]['id']}", headers=staff).json()
    assert still["status"] == "approved"  # the paid unit's employees keep their coverage


async def run_interruption(database: str, today: date) -> int:
    engine = make_engine(service_database_url(database, "registration"), schema="registration")
    try:
        clock = FixedClock(datetime(today.year, today.month, today.day, 2, tzinfo=UTC))
        total = 0
        while True:
            async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
                handled = await interrupt_unpaid(uow)
                await uow.commit()
            if handled is None:
                return total
            total += handled
    finally:
        await engine.dispose()


def test_a_flexible_worker_has_a_notice_of_their_own(registration, staff, in_february) -> None:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": new_resident_id(OFFICE), "name": "灵活就业"}, "office_code": OFFICE,
            "materials": {"id_document": "original", "household_register": "copy", "medical_card": "original"}}  # fmt: skip
    filed = registration.client.post(f"{API}/enrollments/flexible", json=body, headers=staff)
    assert filed.status_code == 201, filed.text
    enrollment = filed.json()
    approved = registration.client.post(
        f"{API}/enrollments/{enrollment['id']}/approve", json={"version": 1}, headers=staff
    )
    assert approved.status_code == 200, approved.text
    person = registration.token(Role.insured, person_id=uuid.UUID(enrollment["person_id"]))
    stranger = registration.token(Role.insured)
    month = {"month": "2026-02"}
    assert_problem(
        registration.client.post(f"{API}/contributions/notices/flexible", json=month, headers=stranger), 404
    )
    answer = registration.client.post(f"{API}/contributions/notices/flexible", json=month, headers=person)
    assert answer.status_code == 201, answer.text
    notice = answer.json()
    # no base declared: the average wage 8,000.00 × 9% = 720.00, of which 2% of the base (160.00) to the account
    assert (notice["payer_kind"], notice["total"], notice["lines"][0]["account_credit"]) == (
        "person",
        "720.00",
        "160.00",
    )
    assert registration.client.get(f"{API}/contributions/notices", headers=person).json()["total"] == 1
    assert registration.client.get(f"{API}/contributions/notices", headers=stranger).json()["total"] == 0
    again = registration.client.post(f"{API}/contributions/notices/flexible", json=month, headers=staff | {})
    assert_problem(again, 422, "validation_failed")  # staff name the person


def test_staff_issue_an_offices_month_at_once_and_a_second_run_issues_nothing(
    registration, staff, in_february
) -> None:  # type: ignore[no-untyped-def]
    code, _ = unit_with_employees(registration, staff, ["5000.00", "5000.00", "5000.00"])
    batch = {"month": "2026-02", "office_code": OFFICE}
    first = registration.client.post(f"{API}/contributions/notices/batch", json=batch, headers=staff)
    assert first.status_code == 200, first.text
    assert first.json()["issued"] >= 1
    (notice,) = registration.client.get(
        f"{API}/contributions/notices", params={"unit_code": code}, headers=staff
    ).json()["items"]
    assert (notice["line_count"], notice["total"]) == (3, "1800.00")
    second = registration.client.post(f"{API}/contributions/notices/batch", json=batch, headers=staff).json()
    assert second["issued"] == 0 and second["already_issued"] >= first.json()["issued"]
    other = registration.token(Role.staff, office_code="120103", office_level="district")
    assert_problem(
        registration.client.post(f"{API}/contributions/notices/batch", json=batch, headers=other),
        403,
        "other_office",
    )


def test_a_withdrawal_paid_by_claims_empties_the_account_once(
    registration, staff, in_february, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    code, employees = unit_with_employees(registration, staff, ["6000.00"])
    number = issue(registration, staff, code).json()["number"]
    assert upload(registration, staff, HEADER + f"{number},720.00,2026-02-09,W-{number}\n").status_code == 200
    person = employees[0]["person_id"]
    balance = account(registration, staff, person)["balance"]
    paid = ClaimsPaidV1(claim_id=uuid.uuid4(), person_id=uuid.UUID(person), office_code=OFFICE, care_type="account_withdrawal",
                        amount=Decimal(balance), paid_on=date(2026, 2, 10), within_limit=True)  # fmt: skip
    maternity = ClaimsPaidV1(claim_id=uuid.uuid4(), person_id=uuid.UUID(person), office_code=OFFICE, care_type="maternity_employee",
                             amount=Decimal("100.00"), paid_on=date(2026, 2, 10), within_limit=True)  # fmt: skip
    for event in (paid, paid, maternity):  # delivered twice; another kind of payment is not the account's
        asyncio.run(deliver(migrated_database, event))
    after = account(registration, staff, person)
    assert after["balance"] == "0.00"
    assert [(e["kind"], e["amount"]) for e in after["entries"]] == [
        ("contribution", balance),
        ("withdrawal", balance),
    ]


async def deliver(database: str, event: ClaimsPaidV1) -> None:
    engine = make_engine(service_database_url(database, "registration"), schema="registration")
    try:
        clock = FixedClock(datetime(2026, 2, 10, 2, tzinfo=UTC))
        async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
            await record_withdrawal_paid(uow, new_envelope(event, clock), event)
            await uow.commit()
    finally:
        await engine.dispose()


def test_an_employee_added_after_the_months_notice_is_charged_on_a_supplementary_one_once(
    registration, staff, in_february
) -> None:  # type: ignore[no-untyped-def]
    code, _ = unit_with_employees(registration, staff, ["5000.00"])
    first = issue(registration, staff, code).json()
    person = {"id_number": new_resident_id(OFFICE), "name": "新职工"}
    added = registration.client.post(f"{API}/units/{code}/employees", json={"person": person, "materials": EMPLOYEE_PAPERS},
                                     headers=staff)  # fmt: skip
    assert added.status_code == 201, added.text
    second = issue(registration, staff, code)
    assert second.status_code == 201, second.text
    supplementary = second.json()
    assert (supplementary["number"], supplementary["sequence"]) == (f"{first['number']}-2", 2)
    # only the new employee, at the average wage 8,000.00 (no base declared): 800.00 + 160.00
    assert [line["enrollment_id"] for line in supplementary["lines"]] == [added.json()["id"]]
    assert supplementary["total"] == "960.00"
    assert_problem(issue(registration, staff, code), 409, "notice_exists")
    batch = registration.client.post(f"{API}/contributions/notices/batch", json={"month": "2026-02", "office_code": OFFICE},
                                     headers=staff).json()  # fmt: skip
    assert batch["issued"] == 0  # every employee of the month is charged already


def test_the_same_file_imported_twice_at_once_applies_once(
    registration, staff, in_february, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    code, employees = unit_with_employees(registration, staff, ["6000.00"])
    number = issue(registration, staff, code).json()["number"]
    text = HEADER + f"{number},720.00,2026-02-09,C-{number}\n"
    reports = asyncio.run(import_twice_at_once(migrated_database, text))
    assert sorted((r.applied, r.already_applied) for r in reports) == [(0, 1), (1, 0)]
    entries = account(registration, staff, employees[0]["person_id"])["entries"]
    assert len(entries) == 1


async def import_twice_at_once(database: str, text: str) -> list:  # type: ignore[type-arg]
    engine = make_engine(service_database_url(database, "registration"), schema="registration")
    clock = FixedClock(datetime(2026, 2, 10, 2, tzinfo=UTC))
    clerk = Principal(subject="clerk", role=Role.staff, office_code=OFFICE, office_level="district")

    async def once():  # type: ignore[no-untyped-def]
        async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
            report = await import_payments(uow, clerk, text=text, digest="same")
            await uow.commit()
            return report

    try:
        return list(await asyncio.gather(once(), once()))
    finally:
        await engine.dispose()
