"""Employee-scheme money through the gateway (issue 21): a unit enrolls an employee, the month's notice
is issued, the bank's payment file is imported, the personal account is credited; a bad file is
refused with a per-row report and applies nothing; the same file twice applies once; a month left
unpaid interrupts the employee's coverage, and claims hears of it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from stdnum.cn import uscc

from shared.testing.e2e import assert_problem, bearer, business_today, new_resident_id, poll

pytestmark = pytest.mark.e2e

API = "/api/v1/registration"
OFFICE = "120101"
UNIT_PAPERS = {
    "credit_code_certificate": "copy",
    "unit_registration_form": "original",
    "legal_representative_id_copy": "copy",
}
EMPLOYEE_PAPERS = {"employee_registration_form": "original", "id_document_copy": "copy", "wage_proof": "copy"}
HEADER = "notice_number,amount,paid_on,bank_reference\n"


def unit_with_an_employee(gateway: httpx.Client, staff: dict, wage: str, **hire: object) -> tuple[str, dict]:
    body = "91" + OFFICE + uuid.uuid4().hex[:9].upper()
    code = body + uscc.calc_check_digit(body)
    unit = {
        "code": code,
        "name": "天津缴费测试有限公司",
        "legal_representative": "赵某",
        "office_code": OFFICE,
        "materials": UNIT_PAPERS,
    }
    assert gateway.post(f"{API}/units", json=unit, headers=staff).status_code == 201
    person = {"id_number": new_resident_id(OFFICE), "name": "职工"}
    hired = gateway.post(
        f"{API}/units/{code}/employees",
        json={"person": person, "materials": EMPLOYEE_PAPERS, **hire},
        headers=staff,
    )
    assert hired.status_code == 201, hired.text
    employee = hired.json()
    month = employee["benefit_start"][:7]
    declared = gateway.put(
        f"{API}/contributions/units/{code}/bases",
        json={"month": month, "bases": [{"enrollment_id": employee["id"], "declared_wage": wage}]},
        headers=staff,
    )
    assert declared.status_code == 200, declared.text
    return code, employee


def issue(gateway: httpx.Client, staff: dict, code: str, month: str | None = None) -> dict:
    answer = gateway.post(
        f"{API}/contributions/notices",
        json={"month": month or f"{business_today():%Y-%m}", "unit_code": code},
        headers=staff,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def upload(gateway: httpx.Client, staff: dict, text: str) -> httpx.Response:
    return gateway.post(
        f"{API}/contributions/payments",
        files={"file": ("bank.csv", text.encode(), "text/csv")},
        headers=staff,
    )


def account(gateway: httpx.Client, staff: dict, person_id: str) -> dict:
    answer = gateway.get(f"{API}/contributions/accounts", params={"person_id": person_id}, headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_paid_notice_credits_the_employees_account_once(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    staff = bearer(tokens["staff-heping"])
    code, employee = unit_with_an_employee(gateway, staff, "7000.00")
    notice = issue(gateway, staff, code)
    # 7,000 between floor and ceiling: unit 10% 700.00, personal 2% 140.00
    (line,) = notice["lines"]
    assert (line["base"], line["unit_part"], line["personal_part"], notice["total"]) == (
        "7000.00",
        "700.00",
        "140.00",
        "840.00",
    )
    assert_problem(
        gateway.get(f"{API}/contributions/notices/{notice['number']}", headers=bearer(tokens["staff-hexi"])),
        404,
    )

    today = business_today().isoformat()
    number, person = notice["number"], employee["person_id"]
    bad = HEADER + f"{number},84.00,{today},E-{number}\n" + f"000000-UNKNOWN,1.00,{today},E-x\n"
    problem = assert_problem(upload(gateway, staff, bad), 422, "payment_rows_invalid")
    assert [(e["line"], e["column"]) for e in problem["errors"]] == [(2, "amount"), (3, "notice_number")]
    assert account(gateway, staff, person)["balance"] == "0.00"

    good = HEADER + f"{number},840.00,{today},E-{number}\n"
    assert upload(gateway, staff, good).json()["applied"] == 1
    credited = account(gateway, staff, person)
    assert credited["balance"] == line["account_credit"] and [e["kind"] for e in credited["entries"]] == [
        "contribution"
    ]
    assert upload(gateway, staff, good).json()["already_applied"] == 1
    assert account(gateway, staff, person) == credited
    shown = gateway.get(f"{API}/contributions/notices/{number}", headers=staff).json()
    assert (shown["status"], shown["bank_reference"]) == ("paid", f"E-{number}")


def test_a_month_left_unpaid_interrupts_the_employees_coverage_in_claims(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    """An employee enrolled three months back (the clerk's late record), whose first month's notice is
    issued and never paid: 30 days after its due date the periodic job interrupts the coverage."""
    staff = bearer(tokens["staff-heping"])
    today = business_today()
    first = today.replace(day=1)
    for _ in range(3):
        first = (first - timedelta(days=1)).replace(day=1)
    code, employee = unit_with_an_employee(
        gateway,
        staff,
        "6000.00",
        start=first.isoformat(),
        late_record={"reason": "补登参保", "receipts": ["税缴-0001"]},
    )
    assert employee["benefit_start"] == first.isoformat()
    notice = issue(gateway, staff, code, f"{first:%Y-%m}")
    assert notice["total"] == "720.00"  # 6,000 × 12%

    def interrupted() -> dict | None:
        shown = gateway.get(f"{API}/contributions/notices/{notice['number']}", headers=staff).json()
        return shown if shown["interrupted_on"] else None

    assert (
        poll(interrupted, what="the unpaid notice to interrupt coverage")["interrupted_on"]
        == today.isoformat()
    )
    enrollment = gateway.get(f"{API}/enrollments/{employee['id']}", headers=staff).json()
    assert enrollment["status"] == "interrupted"
    assert (
        enrollment["benefit_end"] == (first - timedelta(days=1)).isoformat()
    )  # the unpaid month is not covered

    def eligible_in_the_unpaid_month() -> bool:
        answer = gateway.get(
            f"/api/v1/claims/persons/{employee['person_id']}/eligibility",
            params={"on": first.isoformat()},
            headers=staff,
        )
        return answer.status_code == 200 and answer.json()["eligible"]

    poll(lambda: not eligible_in_the_unpaid_month(), what="claims to hear of the interruption")


def test_a_withdrawal_on_leaving_pays_exactly_the_balance_and_the_account_ends_at_zero(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    """A month paid through the unit's notice credits the account; the employee leaves the country; claims'
    one-time withdrawal pays the balance registration holds, registration debits it to 0.00 and a second
    withdrawal is refused."""
    staff, city = bearer(tokens["staff-heping"]), bearer(tokens["staff-city"])
    today = business_today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    code, employee = unit_with_an_employee(
        gateway,
        staff,
        "8000.00",
        start=last_month.isoformat(),
        late_record={"reason": "补登参保", "receipts": ["税缴-0002"]},
    )
    notice = issue(gateway, staff, code)
    (line,) = notice["lines"]
    paid = HEADER + f"{notice['number']},{notice['total']},{today.isoformat()},W-{notice['number']}\n"
    assert upload(gateway, staff, paid).json()["applied"] == 1
    person = employee["person_id"]
    balance = account(gateway, staff, person)["balance"]
    assert balance == line["account_credit"] != "0.00"

    left = gateway.post(
        f"{API}/enrollments/{employee['id']}/terminate",
        json={
            "version": employee["version"],
            "reason": "emigration",
            "last_day": (today - timedelta(days=1)).isoformat(),
        },
        headers=staff,
    )
    assert left.status_code == 200, left.text

    body = {"person_id": person, "reason": "emigration", "bank_account": "6222021234567890123"}

    def filed() -> dict | None:
        answer = gateway.post("/api/v1/claims/account-withdrawals", json=body, headers=staff)
        return answer.json() if answer.status_code == 201 else None

    withdrawal = poll(filed, what="claims to hear of the leaving and the credit")
    assert withdrawal["amount"] == balance
    payment = f"/api/v1/claims/payments/{withdrawal['id']}"
    assert gateway.post(f"{payment}/accept", json={"version": 1}, headers=staff).status_code == 200
    assert gateway.post(f"{payment}/approve", json={"version": 2}, headers=city).status_code == 200
    assert (
        gateway.post(f"{payment}/pay", json={"version": 3, "reference": "BANK-W-1"}, headers=staff).json()[
            "status"
        ]
        == "paid"
    )

    emptied = poll(
        lambda: (a := account(gateway, staff, person))["balance"] == "0.00" and a,
        what="the debit in registration",
    )
    assert [(e["kind"], e["amount"]) for e in emptied["entries"]] == [
        ("contribution", balance),
        ("withdrawal", balance),
    ]
    again = gateway.post("/api/v1/claims/account-withdrawals", json=body, headers=staff)
    assert_problem(again, 422)
    assert "无余额" in again.json()["detail"]
