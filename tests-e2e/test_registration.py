"""Registration journeys through the gateway: a unit enrolls an employee who becomes eligible in
claims; residents pay late, with and without coverage the year before, and their benefits start on
the seeds' dates; a second active enrollment is refused with a conflict that names the first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest

from shared.testing.e2e import bearer, business_today, covered_resident, new_resident_id, poll

pytestmark = pytest.mark.e2e

API = "/api/v1/registration"
DEMO_UNIT = "91120101MA05K8Q4X9"  # the unit-demo account's credit code
OFFICE = "120101"
PAPERS = {"id_document": "original"}  # what the clerk received at the counter


def eligible(gateway: httpx.Client, staff: str, person_id: str, day: str) -> bool:
    answer = gateway.get(
        f"/api/v1/claims/persons/{person_id}/eligibility", params={"on": day}, headers=bearer(staff)
    )
    return answer.status_code == 200 and answer.json()["eligible"]


@contextmanager
def business_date(gateway: httpx.Client, admin: str, day: str) -> Iterator[None]:
    moved = gateway.put("/api/v1/admin/business-date", json={"date": day}, headers=bearer(admin))
    assert moved.status_code == 200, moved.text
    try:
        yield
    finally:
        gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=bearer(admin))


def test_a_unit_enrolls_an_employee_who_becomes_eligible_in_claims(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    unit = bearer(tokens["unit-demo"])
    registered = gateway.post(f"{API}/units", json={"code": DEMO_UNIT, "name": "天津示例科技有限公司", "legal_representative": "王示例",
                                                     "office_code": OFFICE}, headers=unit)  # fmt: skip
    assert registered.status_code in (201, 409), (
        registered.text
    )  # 409: an earlier test of the run registered it

    hired = gateway.post(
        f"{API}/units/{DEMO_UNIT}/employees",
        json={"person": {"id_number": new_resident_id(OFFICE), "name": "新职工"}},
        headers=unit,
    )
    assert hired.status_code == 201, hired.text
    employee = hired.json()
    assert (employee["scheme"], employee["status"], employee["benefit_start"]) == (
        "employee",
        "approved",
        business_today().isoformat(),
    )

    def employee_coverage() -> dict | None:
        answer = gateway.get(
            f"/api/v1/claims/persons/{employee['person_id']}/eligibility",
            headers=bearer(tokens["staff-heping"]),
        )
        return answer.json()["coverage"] if answer.status_code == 200 and answer.json()["eligible"] else None

    coverage = poll(employee_coverage, what="claims to record the employee's coverage")
    assert (coverage["enrollment_id"], coverage["scheme"], coverage["benefit_end"]) == (
        employee["id"],
        "employee",
        None,
    )
    # The unit reads its employee's eligibility in claims; another person's token does not.
    by_unit = gateway.get(f"/api/v1/claims/persons/{employee['person_id']}/eligibility", headers=unit)
    assert by_unit.status_code == 200 and by_unit.json()["coverage"]["unit_code"] == DEMO_UNIT
    assert (
        gateway.get(
            f"/api/v1/claims/persons/{employee['person_id']}/eligibility", headers=bearer(tokens["zhangsan"])
        ).status_code
        == 404
    )
    # The unit sees its employee; the enrollment is not another unit's or person's business.
    assert gateway.get(f"{API}/enrollments/{employee['id']}", headers=unit).status_code == 200
    assert (
        gateway.get(f"{API}/enrollments/{employee['id']}", headers=bearer(tokens["zhangsan"])).status_code
        == 404
    )

    # The unit stops paying: claims stops paying from the day after.
    today = business_today().isoformat()
    stopped = gateway.post(
        f"{API}/enrollments/{employee['id']}/interrupt",
        json={"version": 1, "reason": "单位停缴"},
        headers=unit,
    )
    assert stopped.status_code == 200, stopped.text
    poll(
        lambda: not eligible(gateway, tokens["staff-heping"], employee["person_id"], "2099-01-01"),
        what="claims to end the coverage",
    )
    assert eligible(gateway, tokens["staff-heping"], employee["person_id"], today)


def test_late_payment_starts_benefits_by_the_seeds_rules(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    staff, admin = bearer(tokens["staff-heping"]), tokens["admin"]
    year = business_today().year + 1
    continuing, newcomer = new_resident_id(OFFICE), new_resident_id(OFFICE)
    # Covered this year (paid in last autumn's enrollment period).
    last_year = gateway.post(f"{API}/enrollments/residents", json={
        "person": {"id_number": continuing, "name": "续保人"}, "office_code": OFFICE, "tier": "adult_middle",
        "coverage_year": year - 1, "paid_on": f"{year - 2}-10-15", "materials": PAPERS}, headers=staff).json()  # fmt: skip
    assert (
        gateway.post(
            f"{API}/enrollments/{last_year['id']}/approve", json={"version": 1}, headers=staff
        ).status_code
        == 200
    )

    with business_date(gateway, admin, f"{year}-03-15"):
        starts = {}
        for id_number, name in ((continuing, "续保人"), (newcomer, "新参保人")):
            late = gateway.post(f"{API}/enrollments/residents", json={
                "person": {"id_number": id_number, "name": name}, "office_code": OFFICE, "tier": "adult_low",
                "coverage_year": year, "materials": PAPERS}, headers=staff)  # fmt: skip
            assert late.status_code == 201, late.text
            starts[name] = late.json()
            assert (
                gateway.post(
                    f"{API}/enrollments/{late.json()['id']}/approve", json={"version": 1}, headers=staff
                ).status_code
                == 200
            )
        # 上年度已参保: the month after payment; 未参保: the 4th month, the payment month being the 1st.
        assert (starts["续保人"]["benefit_start"], starts["续保人"]["period_rule"]) == (
            f"{year}-04-01",
            "late_continuing",
        )
        assert (starts["新参保人"]["benefit_start"], starts["新参保人"]["period_rule"]) == (
            f"{year}-06-01",
            "late_new",
        )
        assert starts["新参保人"]["period_explanation"]

        person = starts["新参保人"]["person_id"]
        poll(
            lambda: eligible(gateway, tokens["staff-heping"], person, f"{year}-06-01"),
            what="the late new coverage",
        )
        assert not eligible(gateway, tokens["staff-heping"], person, f"{year}-05-31")
        continuing_person = starts["续保人"]["person_id"]
        poll(
            lambda: eligible(gateway, tokens["staff-heping"], continuing_person, f"{year}-04-01"),
            what="the late continuing coverage",
        )
        assert not eligible(gateway, tokens["staff-heping"], continuing_person, f"{year}-03-31")

        closed = gateway.post(f"{API}/enrollments/residents", json={
            "person": {"id_number": new_resident_id(OFFICE), "name": "迟到者"}, "office_code": OFFICE, "tier": "adult_low",
            "coverage_year": year - 1, "materials": PAPERS}, headers=staff)  # fmt: skip
        assert closed.status_code == 422 and closed.json()["code"] == "enrollment_period_closed"


def test_a_second_active_enrollment_is_refused_and_names_the_first(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    unit, hexi = bearer(tokens["unit-demo"]), bearer(tokens["staff-hexi"])
    gateway.post(
        f"{API}/units",
        json={
            "code": DEMO_UNIT,
            "name": "天津示例科技有限公司",
            "legal_representative": "王示例",
            "office_code": OFFICE,
        },
        headers=unit,
    )
    id_number = new_resident_id("120103")
    hired = gateway.post(
        f"{API}/units/{DEMO_UNIT}/employees",
        json={"person": {"id_number": id_number, "name": "双重参保"}},
        headers=unit,
    )
    assert hired.status_code == 201, hired.text
    year = business_today().year
    resident = gateway.post(f"{API}/enrollments/residents", json={
        "person": {"id_number": id_number, "name": "双重参保"}, "office_code": "120103", "tier": "adult_low",
        "coverage_year": year, "paid_on": f"{year - 1}-10-15", "materials": PAPERS}, headers=hexi)  # fmt: skip
    assert resident.status_code == 409, resident.text
    problem = resident.json()
    assert problem["code"] == "duplicate_enrollment" and problem["title"] == "不允许重复参保"
    assert "职工医保" in problem["detail"] and OFFICE in problem["detail"]
    assert problem["existing_enrollment"]["id"] == hired.json()["id"]
    # Nothing was written: the person still has exactly the one enrollment.
    found = gateway.post(
        f"{API}/enrollments/search", json={"id_number": id_number}, headers=bearer(tokens["staff-heping"])
    )
    assert [e["id"] for e in found.json()["enrollments"]] == [hired.json()["id"]]


def test_a_temporary_emergency_filing_expires_after_30_days(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    staff, admin = bearer(tokens["staff-heping"]), tokens["admin"]
    person = covered_resident(gateway, tokens["staff-heping"], OFFICE, "急诊外出")
    today = business_today()
    filed = gateway.post(f"{API}/benefit-registrations/remote-care", json={
        "kind": "temporary", "reason": "emergency", "destination": "310101", "commitment": True, "person_id": person}, headers=staff)  # fmt: skip
    assert filed.status_code == 201, filed.text
    filing = filed.json()
    assert filing["valid_to"] == (today + timedelta(days=30)).isoformat()

    def status() -> str:
        return gateway.get(f"{API}/benefit-registrations/{filing['id']}", headers=staff).json()["status"]

    def remote_care_in_claims(day: str) -> list[dict]:
        answer = gateway.get(
            f"/api/v1/claims/persons/{person}/eligibility", params={"on": day}, headers=staff
        ).json()
        return [e for e in answer.get("entitlements", []) if e["registration_id"] == filing["id"]]

    # Claims applies the filing (its class decides the ratio) while it is valid.
    applied = poll(
        lambda: remote_care_in_claims(today.isoformat()), what="claims to record the remote-care filing"
    )
    assert applied[0]["details"]["remote_class"] == "temporary_emergency"
    with business_date(gateway, admin, (today + timedelta(days=30)).isoformat()):
        time.sleep(2.5)  # the expiry job runs every second here: give it two runs on day 30
        assert status() == "active"
    with business_date(gateway, admin, (today + timedelta(days=31)).isoformat()):
        poll(lambda: status() == "expired", what="the filing to expire on day 31")
    if (
        today + timedelta(days=30)
    ).year == today.year:  # the person's coverage is this year's: claims answers within it
        assert remote_care_in_claims((today + timedelta(days=30)).isoformat())
    assert not remote_care_in_claims((today + timedelta(days=31)).isoformat())


def test_a_death_on_a_civil_affairs_list_ends_coverage_and_claims_stops(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    staff = tokens["staff-heping"]
    id_number = new_resident_id(OFFICE)
    created = gateway.post(f"{API}/enrollments/residents", json={
        "person": {"id_number": id_number, "name": "故人"}, "office_code": OFFICE, "tier": "adult_low",
        "coverage_year": business_today().year, "paid_on": f"{business_today().year - 1}-10-15", "materials": PAPERS}, headers=bearer(staff)).json()  # fmt: skip
    assert (
        gateway.post(
            f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=bearer(staff)
        ).status_code
        == 200
    )
    person = created["person_id"]
    # The day before today (or 1 January), so the day after the death still lies in this year's coverage.
    died = max(business_today() - timedelta(days=1), business_today().replace(month=1, day=1))
    next_day = (died + timedelta(days=1)).isoformat()
    poll(lambda: eligible(gateway, staff, person, next_day), what="claims to record the coverage")

    form = {
        "kind": "deaths",
        "source_department": "和平区民政局",
        "office_code": OFFICE,
        "as_of": business_today().isoformat(),
    }
    csv_text = f"id_number,name,death_date\n{id_number},故人,{died.isoformat()}\n"
    uploaded = gateway.post(
        f"{API}/drive/lists",
        data=form,
        files={"file": ("deaths.csv", csv_text.encode(), "text/csv")},
        headers=bearer(staff),
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["counts"] == {"dead": 1}

    poll(lambda: not eligible(gateway, staff, person, next_day), what="claims to stop after the death")
    assert eligible(gateway, staff, person, died.isoformat())  # covered up to the day of death
    ended = gateway.get(f"{API}/enrollments/{created['id']}", headers=bearer(staff)).json()
    assert (ended["status"], ended["benefit_end"]) == ("terminated", died.isoformat())
