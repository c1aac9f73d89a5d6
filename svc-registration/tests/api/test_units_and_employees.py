"""Units and their employees, flexible workers, and the person's own queries, through the service's API."""

from __future__ import annotations

import uuid

import pytest
from stdnum.cn import uscc

from shared.auth import Role
from shared.identity import IdType, person_id_for
from shared.settings import DEVELOPMENT_PERSON_KEY
from shared.testing.e2e import new_resident_id

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
OFFICE = "120101"
# The papers a clerk receives at the counter (self-service requests need none).
UNIT_PAPERS = {
    "credit_code_certificate": "copy",
    "unit_registration_form": "original",
    "legal_representative_id_copy": "copy",
}
EMPLOYEE_PAPERS = {"employee_registration_form": "original", "id_document_copy": "copy", "wage_proof": "copy"}
RESIDENT_PAPERS = {"id_document": "original"}


def new_credit_code() -> str:
    body = "91" + OFFICE + uuid.uuid4().hex[:9].upper()  # hex digits are all valid code characters
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=OFFICE, office_level="district")


def register(registration, headers, code: str | None = None, office: str = OFFICE):  # type: ignore[no-untyped-def]
    body = {"code": code or new_credit_code(), "name": "天津测试有限公司", "legal_representative": "王某", "office_code": office,
            "materials": UNIT_PAPERS}  # fmt: skip
    return registration.client.post(f"{API}/units", json=body, headers=headers)


def unit_token(registration, code: str):  # type: ignore[no-untyped-def]
    return registration.token(Role.unit, unit_id=code, office_code=OFFICE, office_level="district")


def employee_body(id_number: str | None = None, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {
        "person": {"id_number": id_number or new_resident_id(OFFICE), "name": "职工"},
        "materials": EMPLOYEE_PAPERS,
        **extra,
    }


def test_a_unit_registers_itself_and_enrolls_an_employee_covered_at_once(registration) -> None:  # type: ignore[no-untyped-def]
    code = new_credit_code()
    own = unit_token(registration, code)
    created = register(registration, own, code)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    assert register(registration, own, code).json()["code"] == "unit_exists"

    enrolled = registration.client.post(f"{API}/units/{code}/employees", json=employee_body(), headers=own)
    assert enrolled.status_code == 201, enrolled.text
    e = enrolled.json()
    assert (e["scheme"], e["status"], e["unit_code"], e["category"], e["benefit_end"]) == (
        "employee",
        "approved",
        code,
        "in_service",
        None,
    )
    listed = registration.client.get(f"{API}/units/{code}/employees", headers=own).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == e["id"]


def test_a_unit_acts_only_for_itself(registration, staff) -> None:  # type: ignore[no-untyped-def]
    code, other = new_credit_code(), new_credit_code()
    assert register(registration, staff, code).status_code == 201
    assert register(registration, unit_token(registration, other), code).status_code == 403
    stranger = unit_token(registration, other)
    assert registration.client.get(f"{API}/units/{code}", headers=stranger).status_code == 404
    assert (
        registration.client.post(
            f"{API}/units/{code}/employees", json=employee_body(), headers=stranger
        ).status_code
        == 404
    )
    insured = registration.token(Role.insured)
    assert (
        registration.client.post(
            f"{API}/units/{code}/employees", json=employee_body(), headers=insured
        ).status_code
        == 403
    )
    other_office = registration.token(Role.staff, office_code="120103", office_level="district")
    assert registration.client.get(f"{API}/units/{code}", headers=other_office).status_code == 404


def test_bad_unit_input_names_the_field_and_writes_nothing(registration, staff) -> None:  # type: ignore[no-untyped-def]
    wrong_check = new_credit_code()[:-1] + "0"
    if uscc.is_valid(wrong_check):
        wrong_check = wrong_check[:-1] + "1"
    refused = register(registration, staff, wrong_check)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert refused.json()["code"] == "invalid_credit_code" and refused.json()["errors"][0]["field"] == "code"
    assert registration.client.get(f"{API}/units/{wrong_check}", headers=staff).status_code == 404
    malformed = registration.client.post(f"{API}/units", json={"code": "x"}, headers=staff)
    assert malformed.status_code == 422
    assert {"code", "name", "legal_representative", "office_code"} <= {
        e["field"].split(".")[-1] for e in malformed.json()["errors"]
    }


def test_interrupt_resume_retire_and_terminate_an_employee(registration, staff) -> None:  # type: ignore[no-untyped-def]
    # Each step on its own day: a start or a resumption is in the month it is declared (domain.backdating).
    code = new_credit_code()
    register(registration, staff, code)
    own = unit_token(registration, code)
    try:
        registration.business_date("2026-01-05")
        e = registration.client.post(
            f"{API}/units/{code}/employees", json=employee_body(start="2026-01-05"), headers=own
        ).json()
        retired = registration.client.post(
            f"{API}/enrollments/{e['id']}/retire", json={"version": 1}, headers=own
        )
        assert retired.status_code == 200 and retired.json()["category"] == "retired"
        registration.business_date("2026-06-30")
        interrupted = registration.client.post(
            f"{API}/enrollments/{e['id']}/interrupt",
            json={"version": 2, "reason": "单位停缴", "last_day": "2026-06-30"},
            headers=own,
        )
        assert interrupted.status_code == 200, interrupted.text
        assert (interrupted.json()["status"], interrupted.json()["benefit_end"]) == (
            "interrupted",
            "2026-06-30",
        )
        registration.business_date("2026-09-01")
        resumed = registration.client.post(
            f"{API}/enrollments/{e['id']}/resume", json={"version": 3, "start": "2026-09-01"}, headers=own
        )
        assert resumed.status_code == 201, resumed.text
        continued = resumed.json()
        assert (
            continued["previous_id"] == e["id"]
            and continued["benefit_start"] == "2026-09-01"
            and continued["category"] == "retired"
        )
        registration.business_date("2026-10-01")
        stale = registration.client.post(
            f"{API}/enrollments/{continued['id']}/terminate",
            json={"version": 9, "reason": "death"},
            headers=own,
        )
        assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
        ended = registration.client.post(
            f"{API}/enrollments/{continued['id']}/terminate",
            json={"version": 1, "reason": "death", "last_day": "2026-10-01"},
            headers=own,
        )
        assert ended.status_code == 200 and ended.json()["benefit_end"] == "2026-10-01"
        bad_reason = registration.client.post(
            f"{API}/enrollments/{continued['id']}/terminate",
            json={"version": 2, "reason": "bored"},
            headers=own,
        )
        assert bad_reason.status_code == 422 and bad_reason.json()["errors"][0]["field"].endswith("reason")
    finally:
        registration.business_date(None)


def test_a_resumption_before_this_month_is_a_late_record(registration, staff) -> None:  # type: ignore[no-untyped-def]
    code = new_credit_code()
    register(registration, staff, code)
    own = unit_token(registration, code)
    try:
        registration.business_date("2026-03-02")
        e = registration.client.post(
            f"{API}/units/{code}/employees", json=employee_body(), headers=own
        ).json()
        registration.client.post(
            f"{API}/enrollments/{e['id']}/interrupt",
            json={"version": 1, "reason": "单位停缴", "last_day": "2026-03-31"},
            headers=own,
        )
        registration.business_date("2026-12-06")
        backdated = registration.client.post(
            f"{API}/enrollments/{e['id']}/resume", json={"version": 2, "start": "2026-04-01"}, headers=own
        )
        assert backdated.status_code == 422 and backdated.json()["code"] == "backdated_coverage"
        late = {"reason": "单位补缴2026年4月起医保费", "receipts": ["税缴 2026-000311"]}
        recorded = registration.client.post(f"{API}/enrollments/{e['id']}/resume", json={"version": 2, "start": "2026-04-01", "late_record": late},
                                            headers=staff)  # fmt: skip
        assert recorded.status_code == 201 and recorded.json()["late_record"]["receipts"] == late["receipts"]
    finally:
        registration.business_date(None)


def test_a_cancelled_unit_takes_no_employees_and_cannot_be_cancelled_with_employees(
    registration, staff
) -> None:  # type: ignore[no-untyped-def]
    code, successor = new_credit_code(), new_credit_code()
    register(registration, staff, code)
    register(registration, staff, successor)
    registration.client.post(f"{API}/units/{code}/employees", json=employee_body(), headers=staff)
    refused = registration.client.post(
        f"{API}/units/{code}/changes", json={"version": 1, "kind": "cancel"}, headers=staff
    )
    assert refused.status_code == 409 and refused.json()["code"] == "unit_has_employees"
    undocumented = registration.client.post(
        f"{API}/units/{code}/changes",
        json={"version": 1, "kind": "merge", "related_units": [successor]},
        headers=staff,
    )
    assert undocumented.status_code == 422 and undocumented.json()["code"] == "documents_missing"
    merged = registration.client.post(
        f"{API}/units/{code}/changes",
        json={"version": 1, "kind": "merge", "related_units": [successor], "documents": ["合并决议 2026-1"]},
        headers=staff,
    )
    assert merged.status_code == 200 and merged.json()["status"] == "cancelled"
    moved = registration.client.get(f"{API}/units/{successor}/employees", headers=staff).json()
    assert moved["total"] == 1  # the absorbed unit's employee continues at the successor
    closed = registration.client.post(f"{API}/units/{code}/employees", json=employee_body(), headers=staff)
    assert closed.status_code == 409 and closed.json()["code"] == "unit_not_active"


def test_foreign_employees_need_their_papers_told_at_once(registration, staff) -> None:  # type: ignore[no-untyped-def]
    code = new_credit_code()
    register(registration, staff, code)
    body = {
        "person": {"id_type": "passport", "id_number": "E12345678", "name": "John Smith"},
        "materials": EMPLOYEE_PAPERS,
    }
    missing = registration.client.post(f"{API}/units/{code}/employees", json=body, headers=staff)
    assert missing.status_code == 422 and missing.json()["code"] == "materials_missing"
    assert {e["field"] for e in missing.json()["errors"]} == {"permit_number", "employment_proof"}
    complete = registration.client.post(
        f"{API}/units/{code}/employees",
        json={**body, "permit_number": "WP-2026-001", "employment_proof": "劳动合同 2026-17"},
        headers=staff,
    )
    assert complete.status_code == 201, complete.text


def test_an_employee_cannot_also_enroll_as_flexible_worker_and_the_conflict_names_the_scheme(
    registration, staff
) -> None:  # type: ignore[no-untyped-def]
    code = new_credit_code()
    register(registration, staff, code)
    id_number = new_resident_id(OFFICE)
    registration.client.post(f"{API}/units/{code}/employees", json=employee_body(id_number), headers=staff)
    flexible = registration.client.post(f"{API}/enrollments/flexible", json={"person": {"id_number": id_number, "name": "职工"}, "office_code": OFFICE,
                                                                       "materials": {"id_document": "original", "household_register": "copy", "medical_card": "original"}}, headers=staff)  # fmt: skip
    assert flexible.status_code == 409
    problem = flexible.json()
    assert (
        problem["code"] == "duplicate_enrollment"
        and "职工医保" in problem["detail"]
        and OFFICE in problem["detail"]
    )
    assert problem["existing_enrollment"]["scheme"] == "employee"


def test_the_person_sees_their_own_enrollments_and_staff_search_by_id_in_the_body(
    registration, staff
) -> None:  # type: ignore[no-untyped-def]
    id_number = new_resident_id(OFFICE)
    body = {"person": {"id_number": id_number, "name": "居民"}, "office_code": OFFICE, "tier": "adult_low", "coverage_year": 2026, "paid_on": "2025-10-15",
            "materials": RESIDENT_PAPERS}  # fmt: skip
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff).json()
    person = created["person_id"]
    mine = registration.client.get(
        f"{API}/enrollments", headers=registration.token(Role.insured, person_id=person)
    )
    assert [e["id"] for e in mine.json()["items"]] == [created["id"]]
    assert (
        registration.client.get(f"{API}/enrollments", headers=registration.token(Role.insured)).json()[
            "items"
        ]
        == []
    )
    found = registration.client.post(
        f"{API}/enrollments/search", json={"id_number": id_number}, headers=staff
    )
    assert found.status_code == 200, found.text
    assert found.json()["person"]["id"] == person and id_number not in found.text
    other_office = registration.token(Role.staff, office_code="120103", office_level="district")
    assert (
        registration.client.post(
            f"{API}/enrollments/search", json={"id_number": id_number}, headers=other_office
        ).status_code
        == 404
    )
    assert (
        registration.client.post(
            f"{API}/enrollments/search",
            json={"id_number": id_number},
            headers=registration.token(Role.insured),
        ).status_code
        == 403
    )


def test_refund_only_before_the_benefit_period(registration, staff) -> None:  # type: ignore[no-untyped-def]
    registration.business_date("2026-11-20")
    try:
        body = {"person": {"id_number": new_resident_id(OFFICE), "name": "居民"}, "office_code": OFFICE, "tier": "adult_low", "coverage_year": 2027,
                "materials": RESIDENT_PAPERS}  # fmt: skip
        created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff).json()
        assert created["benefit_start"] == "2027-01-01", created
        registration.client.post(
            f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff
        )
        refunded = registration.client.post(
            f"{API}/enrollments/{created['id']}/refund",
            json={"version": 2, "reason": "参加职工医保"},
            headers=staff,
        )
        assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"
        current = registration.client.post(
            f"{API}/enrollments/residents",
            json={
                **body,
                "person": {**body["person"], "id_number": new_resident_id(OFFICE)},
                "coverage_year": 2026,
                "paid_on": "2025-10-01",
            },
            headers=staff,
        ).json()
        registration.client.post(
            f"{API}/enrollments/{current['id']}/approve", json={"version": 1}, headers=staff
        )
        late = registration.client.post(
            f"{API}/enrollments/{current['id']}/refund",
            json={"version": 2, "reason": "不想参保"},
            headers=staff,
        )
        assert late.status_code == 409 and late.json()["code"] == "refund_after_start"
    finally:
        registration.business_date(None)


def test_a_school_files_its_new_pupils_collectively_and_each_refusal_is_told(registration, staff) -> None:  # type: ignore[no-untyped-def]
    registration.business_date("2026-10-20")
    try:
        already = new_resident_id(OFFICE)
        solo = {"person": {"id_number": already, "name": "老生"}, "office_code": OFFICE, "tier": "student_child", "coverage_year": 2027,
                "materials": RESIDENT_PAPERS}  # fmt: skip
        assert (
            registration.client.post(f"{API}/enrollments/residents", json=solo, headers=staff).status_code
            == 201
        )
        members = [{"person": {"id_number": number, "name": "新生"}, "tier": "student_child"}
                   for number in (new_resident_id(OFFICE), already, new_resident_id(OFFICE))]  # fmt: skip
        members.append(
            {"person": {"id_number": "120101200001010000", "name": "错号"}, "tier": "student_child"}
        )  # wrong check digit
        body = {"filer": {"kind": "school", "name": "天津市和平区示例小学", "code": "S120101001"}, "office_code": OFFICE,
                "coverage_year": 2027, "autumn_pupils": True, "members": members, "materials": {"member_roster": "original"}}  # fmt: skip
        filed = registration.client.post(f"{API}/enrollments/residents/collective", json=body, headers=staff)
        assert filed.status_code == 200, filed.text
        answer = filed.json()
        assert (answer["accepted"], answer["refused"]) == (2, 2)
        by_row = {r["row"]: r for r in answer["results"]}
        for row in (1, 3):  # new pupils: covered from 1 September, approved at once
            e = by_row[row]["enrollment"]
            assert (e["status"], e["benefit_start"], e["benefit_end"], e["period_rule"]) == (
                "approved",
                "2026-09-01",
                "2027-12-31",
                "autumn_pupil",
            )
        assert by_row[2]["problem"]["code"] == "duplicate_enrollment"
        assert by_row[4]["problem"]["status"] == 422

        village = {**body, "filer": {"kind": "village", "name": "示例村委会"}}
        refused = registration.client.post(
            f"{API}/enrollments/residents/collective", json=village, headers=staff
        )
        assert refused.status_code == 422 and refused.json()["code"] == "autumn_pupils_need_school"
        assert (
            registration.client.post(
                f"{API}/enrollments/residents/collective", json=body, headers=registration.token(Role.insured)
            ).status_code
            == 403
        )
    finally:
        registration.business_date(None)


def test_special_groups_are_enrolled_by_the_city_centre_with_the_contribution_paid_by_government(
    registration, staff
) -> None:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": new_resident_id(OFFICE), "name": "低保户"}, "office_code": OFFICE, "tier": "adult_low",
            "coverage_year": 2021, "paid_on": "2020-10-15", "materials": RESIDENT_PAPERS,
            "special_groups": [{"group": "subsistence", "department": "civil_affairs", "document_number": "津民低保 2020-0917",
                                "valid_from": "2020-09-01", "valid_to": "2021-12-31"}],
            "late_record": {"reason": "补登2021年度参保", "receipts": ["税缴 2020-000917"]}}  # 2021 is over: a late record  # fmt: skip
    district = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff)
    assert district.status_code == 403 and district.json()["code"] == "city_level_required"
    city = registration.token(Role.staff, office_code="120000", office_level="city")
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=city)
    assert created.status_code == 201, created.text
    assert created.json()["special_groups"] == ["subsistence"]
    assert created.json()["contribution"] == {
        "standard": "280.00",
        "personal": "0.00",
        "government": "280.00",
    }


def test_at_the_counter_every_missing_paper_is_told_at_once_and_a_proxy_brings_their_own_id(
    registration, staff
) -> None:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": new_resident_id(OFFICE), "name": "居民"}, "office_code": OFFICE, "tier": "adult_low",
            "coverage_year": 2026, "paid_on": "2025-10-15"}  # fmt: skip
    missing = registration.client.post(f"{API}/enrollments/flexible", json={**body, "paid_on": None, "materials": {"household_register": "commitment"}},
                                       headers=staff)  # fmt: skip
    assert missing.status_code == 422 and missing.json()["code"] == "materials_missing"
    assert {e["field"] for e in missing.json()["errors"]} == {
        "materials.id_document",
        "materials.medical_card",
        "materials.household_register",
    }
    assert [m["code"] for m in missing.json()["required_materials"]] == [
        "id_document",
        "household_register",
        "medical_card",
    ]

    proxy = {"id_number": new_resident_id(OFFICE), "name": "代办人"}
    without_proxy_id = registration.client.post(
        f"{API}/enrollments/residents",
        json={**body, "materials": RESIDENT_PAPERS, "proxy": proxy},
        headers=staff,
    )
    assert without_proxy_id.status_code == 422 and [
        e["field"] for e in without_proxy_id.json()["errors"]
    ] == ["materials.proxy_id_document"]
    done = registration.client.post(
        f"{API}/enrollments/residents",
        json={**body, "materials": {**RESIDENT_PAPERS, "proxy_id_document": "original"}, "proxy": proxy},
        headers=staff,
    )
    assert done.status_code == 201, done.text
    handling = done.json()["handling"]
    assert (
        handling["channel"] == "counter"
        and handling["proxy_name"] == "代办人"
        and "*" in handling["proxy_id_masked"]
    )
    assert proxy["id_number"] not in done.text

    # The person's own app needs no papers: the login identifies them.
    own_number = new_resident_id(OFFICE)
    own = person_id_for(IdType.resident_id, own_number, DEVELOPMENT_PERSON_KEY.encode())
    me = registration.client.post(f"{API}/enrollments/residents", json={**body, "person": {"id_number": own_number, "name": "本人"}},
                                  headers=registration.token(Role.insured, person_id=own))  # fmt: skip
    assert me.status_code == 201, me.text
    assert me.json()["handling"]["channel"] == "online"
