"""Registration's entitlement records and office checks through the gateway (issues 18 and 19): a
transition applies once; special groups, the assistance and veterans' groups included, are recorded
with their evidence and reach claims; coverage is not backdated without a clerk's late record and
papers; cases are filed only at offices that exist in the clerk's city; another district's person
is unknown to a district clerk. Every refusal is problem+json with a Chinese title and a stable code,
and writes nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest
from stdnum.cn import uscc

from shared.testing.e2e import bearer, business_today, new_resident_id, poll

pytestmark = pytest.mark.e2e

API = "/api/v1/registration"
OFFICE = "120101"
PAPERS = {"id_document": "original"}
LATE = {"reason": "补登2021年度参保（已缴费）", "receipts": ["税缴 2020-120101-000321"]}


def resident(id_number: str | None = None, **extra: object) -> dict:
    year = business_today().year
    return {"person": {"id_number": id_number or new_resident_id(OFFICE), "name": "居民"}, "office_code": OFFICE, "tier": "adult_low",
            "coverage_year": year, "paid_on": f"{year - 1}-10-15", "materials": PAPERS, **extra}  # fmt: skip


def refused(answer: httpx.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"]), problem
    return problem


def not_on_file(gateway: httpx.Client, staff: str, id_number: str) -> bool:
    return (
        gateway.post(
            f"{API}/enrollments/search", json={"id_number": id_number}, headers=bearer(staff)
        ).status_code
        == 404
    )


def test_approving_three_times_approves_once(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    staff = bearer(tokens["staff-heping"])
    created = gateway.post(f"{API}/enrollments/residents", json=resident(), headers=staff).json()
    assert (
        gateway.post(
            f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff
        ).status_code
        == 200
    )
    again = gateway.post(f"{API}/enrollments/{created['id']}/approve", json={"version": 2}, headers=staff)
    assert refused(again, 409, "transition_already_applied")["current_status"] == "approved"
    refused(
        gateway.post(f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff),
        409,
        "version_conflict",
    )
    shown = gateway.get(f"{API}/enrollments/{created['id']}", headers=staff).json()
    assert shown["version"] == 2 and [d["outcome"] for d in shown["decisions"]] == ["approved"]


def test_the_assistance_and_veterans_groups_are_recorded_with_evidence_and_reach_claims(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    city = bearer(tokens["staff-city"])
    groups = [
        {"group": "old_soldier", "department": "veterans_affairs", "document_number": "津退役优抚 2019-88", "valid_from": "2019-01-01"},
        {"group": "children_in_difficulty", "department": "civil_affairs", "document_number": "津民困童 2020-12",
         "valid_from": "2020-06-01", "valid_to": "2021-12-31"},
    ]  # fmt: skip
    body = {
        **resident(),
        "coverage_year": 2021,
        "paid_on": "2020-10-15",
        "special_groups": groups,
        "late_record": LATE,
    }
    created = gateway.post(f"{API}/enrollments/residents", json=body, headers=city)
    assert created.status_code == 201, created.text
    records = created.json()["special_group_records"]
    assert [(r["group"], r["department"], r["document_number"]) for r in records] == [
        (g["group"], g["department"], g["document_number"]) for g in groups
    ]
    assert (
        gateway.post(
            f"{API}/enrollments/{created.json()['id']}/approve", json={"version": 1}, headers=city
        ).status_code
        == 200
    )
    person = created.json()["person_id"]

    def groups_in_claims() -> list[str]:
        answer = gateway.get(
            f"/api/v1/claims/persons/{person}/eligibility", params={"on": "2021-05-15"}, headers=city
        ).json()
        return answer["coverage"]["special_groups"] if answer.get("eligible") else []

    assert sorted(poll(groups_in_claims, what="claims to record the special groups")) == [
        "children_in_difficulty",
        "old_soldier",
    ]


def test_a_special_group_without_its_evidence_is_refused(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    city = bearer(tokens["staff-city"])
    bare = resident(special_groups=["subsistence"])
    refused(gateway.post(f"{API}/enrollments/residents", json=bare, headers=city), 422, "validation_failed")
    wrong = resident(
        special_groups=[
            {
                "group": "martyrs_family",
                "department": "civil_affairs",
                "document_number": "X-1",
                "valid_from": "2020-01-01",
            }
        ]
    )
    problem = refused(
        gateway.post(f"{API}/enrollments/residents", json=wrong, headers=city),
        422,
        "special_group_evidence_invalid",
    )
    assert problem["errors"][0]["field"] == "special_groups[0].department"
    assert not_on_file(gateway, tokens["staff-city"], bare["person"]["id_number"])
    assert not_on_file(gateway, tokens["staff-city"], wrong["person"]["id_number"])


def test_employee_coverage_from_2021_is_refused_without_a_late_record(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    staff = bearer(tokens["staff-heping"])
    digits = "91" + OFFICE + uuid.uuid4().hex[:9].upper()
    code = digits + uscc.calc_check_digit(digits)
    papers = {
        "credit_code_certificate": "copy",
        "unit_registration_form": "original",
        "legal_representative_id_copy": "copy",
    }
    unit = gateway.post(f"{API}/units", json={"code": code, "name": "天津补缴测试有限公司", "legal_representative": "王某", "office_code": OFFICE,
                                               "materials": papers}, headers=staff)  # fmt: skip
    assert unit.status_code == 201, unit.text
    id_number = new_resident_id(OFFICE)
    body = {"person": {"id_number": id_number, "name": "追溯职工"}, "start": "2021-01-04",
            "materials": {"employee_registration_form": "original", "id_document_copy": "copy", "wage_proof": "copy"}}  # fmt: skip
    problem = refused(
        gateway.post(f"{API}/units/{code}/employees", json=body, headers=staff), 422, "backdated_coverage"
    )
    assert problem["earliest_without_papers"] == business_today().replace(day=1).isoformat()
    assert not_on_file(gateway, tokens["staff-heping"], id_number)
    late = gateway.post(f"{API}/units/{code}/employees", json={**body, "late_record": LATE}, headers=staff)
    assert late.status_code == 201 and late.json()["late_record"]["receipts"] == LATE["receipts"]


def test_a_past_resident_year_needs_a_late_record(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    staff = bearer(tokens["staff-heping"])
    body = {**resident(), "coverage_year": 2021, "paid_on": "2020-10-15"}
    refused(gateway.post(f"{API}/enrollments/residents", json=body, headers=staff), 422, "backdated_coverage")
    assert not_on_file(gateway, tokens["staff-heping"], body["person"]["id_number"])


def test_cases_are_filed_only_at_offices_of_the_clerks_city(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    city = tokens["staff-city"]
    unknown = resident(office_code="999999")
    refused(
        gateway.post(
            f"{API}/enrollments/residents", json={**unknown, "office_code": "999999"}, headers=bearer(city)
        ),
        422,
        "unknown_office",
    )
    tangshan = {**resident(), "office_code": "130200"}
    refused(
        gateway.post(f"{API}/enrollments/residents", json=tangshan, headers=bearer(city)), 403, "other_office"
    )
    assert not_on_file(gateway, city, unknown["person"]["id_number"]) and not_on_file(
        gateway, city, tangshan["person"]["id_number"]
    )


def test_another_districts_person_is_unknown_before_any_other_answer(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    heping, hexi = bearer(tokens["staff-heping"]), bearer(tokens["staff-hexi"])
    filed = gateway.post(f"{API}/enrollments/residents", json=resident(), headers=heping).json()
    person = filed["person_id"]
    # Not yet approved: to its own office the person has no coverage (409); to 河西 the person does not exist (404).
    outpatient = {"person_id": person, "hospital_code": "H12010100001"}
    refused(
        gateway.post(f"{API}/benefit-registrations/resident-outpatient", json=outpatient, headers=heping),
        409,
        "no_coverage",
    )
    assert (
        gateway.post(
            f"{API}/benefit-registrations/resident-outpatient", json=outpatient, headers=hexi
        ).status_code
        == 404
    )
    assert (
        gateway.post(
            f"{API}/enrollments/{filed['id']}/approve", json={"version": 1}, headers=hexi
        ).status_code
        == 404
    )
    assert (
        gateway.post(
            f"{API}/enrollments/{filed['id']}/approve", json={"version": 7}, headers=hexi
        ).status_code
        == 404
    )
    assert gateway.get(f"{API}/enrollments/{filed['id']}", headers=hexi).status_code == 404
