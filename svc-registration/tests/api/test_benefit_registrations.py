"""Benefit registrations through the service's API: who may file each, its rule with the numbers, the
listing, expiry with its event, and nothing written when a request is refused. Facilities are put in the
registry projection as facility's events would."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from shared.auth import Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from shared.projections import record_facility_if_newer
from shared.testing.e2e import new_resident_id
from svc_registration.domain.facility import KnownFacility
from svc_registration.models import facilities as facilities_table
from svc_registration.usecases import benefits

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
OFFICE, OTHER_OFFICE = "120101", "120102"


# ------------------------------------------------------------------------------------------------ helpers


async def _in_registration_schema(database_url: str, day: date, work) -> object:  # type: ignore[no-untyped-def]
    """Runs `work(uow)` in one unit of work on the run's registration schema, on business date `day`."""
    engine = make_engine(service_database_url(database_url, "registration"), 2, schema="registration")
    try:
        clock = FixedClock(datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
        async with UnitOfWork(make_session_factory(engine), clock, "registration") as uow:
            result = await work(uow)
            await uow.commit()
        return result
    finally:
        await engine.dispose()


def known(database_url: str, *facilities: KnownFacility) -> None:
    async def record(uow: UnitOfWork) -> None:
        for facility in facilities:
            await record_facility_if_newer(uow, facilities_table, asdict(facility))

    asyncio.run(_in_registration_schema(database_url, date(2026, 1, 1), record))


def expire_on(database_url: str, day: date) -> int:
    return asyncio.run(_in_registration_schema(database_url, day, benefits.expire_benefits))  # type: ignore[return-value]


def events(database_url: str, event_type: str, registration_id: str) -> list[dict]:
    async def query() -> list[dict]:
        connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            rows = await connection.fetch(
                "SELECT envelope FROM registration.outbox WHERE event_type = $1 AND envelope->'payload'->>'registration_id' = $2",
                event_type, registration_id,
            )  # fmt: skip
            return [json.loads(row["envelope"])["payload"] for row in rows]
        finally:
            await connection.close()

    return asyncio.run(query())


def facility(level: int, *programmes: str, kind: str = "medical_institution") -> KnownFacility:
    code = f"H{uuid.uuid4().int % 10**11:011d}"
    return KnownFacility(
        code, f"测试医院{code[-4:]}", kind, level, OFFICE, frozenset(programmes), "designated", 1
    )


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=OFFICE, office_level="district")


def covered(registration, office: str = OFFICE) -> str:  # type: ignore[no-untyped-def]
    """A resident covered 1 Jan – 31 Dec 2026 at `office`."""
    clerk = registration.token(Role.staff, office_code=office, office_level="district")
    body = {"person": {"id_number": new_resident_id(office), "name": "参保人"}, "office_code": office, "tier": "adult_middle",
            "coverage_year": 2026, "paid_on": "2025-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    approved = registration.client.post(
        f"{API}/enrollments/{created.json()['id']}/approve", json={"version": 1}, headers=clerk
    )
    assert approved.status_code == 200, approved.text
    return created.json()["person_id"]


def post(registration, what: str, body: dict, headers: dict):  # type: ignore[no-untyped-def]
    return registration.client.post(f"{API}/benefit-registrations/{what}", json=body, headers=headers)


def listed(registration, headers: dict, **params) -> dict:  # type: ignore[no-untyped-def]
    answer = registration.client.get(f"{API}/benefit-registrations", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def status_of(registration, registration_id: str, headers: dict) -> str:  # type: ignore[no-untyped-def]
    return registration.client.get(f"{API}/benefit-registrations/{registration_id}", headers=headers).json()[
        "status"
    ]


@pytest.fixture
def on_day(registration):  # type: ignore[no-untyped-def]
    """Moves the service's business date; back to today after the test."""
    yield registration.business_date
    registration.business_date(None)


# ------------------------------------------------------------------------------------------------- access


WRONG_ROLES = [
    ("hospitalization", Role.insured), ("hospitalization", Role.unit), ("tb", Role.unit), ("sars-sequelae", Role.facility),
    ("deputy-director-flag", Role.insured), ("deputy-director-flag", Role.facility), ("lost-receipts", Role.unit),
    ("lost-receipts", Role.facility), ("pregnancy", Role.unit), ("maternity-remote", Role.facility),
    ("maternity-hospitalization", Role.insured), ("fp-complication", Role.facility), ("maternity-referral", Role.insured),
    ("remote-care", Role.unit), ("remote-care", Role.facility), ("family-doctor", Role.insured),
    ("family-doctor", Role.unit),
]  # fmt: skip


def test_a_role_an_endpoint_does_not_serve_is_refused(registration) -> None:  # type: ignore[no-untyped-def]
    for what, role in WRONG_ROLES:
        answer = post(
            registration,
            what,
            {},
            registration.token(role, facility_id="H00000000001", unit_id="91120101MA05K8Q4X9"),
        )
        assert answer.status_code == 403, f"{what} {role}: {answer.status_code}"
        assert answer.headers["content-type"].startswith("application/problem+json")
    for role in (Role.unit, Role.facility):
        assert (
            registration.client.get(
                f"{API}/benefit-registrations", headers=registration.token(role)
            ).status_code
            == 403
        )


# ------------------------------------------------------------------------------------ hospitalization


def test_a_hospital_issues_its_own_patients_letter_and_any_district_office_may_too(
    registration, staff, on_day, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    h, other = facility(2), facility(3)
    known(migrated_database, h, other)
    person = covered(registration)
    me = registration.token(Role.insured, person_id=person)
    hospital = registration.token(Role.facility, facility_id=h.code)
    elsewhere = registration.token(Role.staff, office_code=OTHER_OFFICE, office_level="district")
    on_day("2026-05-04")
    body = {"person_id": person, "hospital_code": h.code, "admission_document": "admission_slip"}

    issued = post(registration, "hospitalization", body, hospital)
    assert issued.status_code == 201, issued.text
    assert (issued.json()["valid_from"], issued.json()["valid_to"]) == ("2026-05-04", "2026-08-02")  # 90 days
    assert (
        events(migrated_database, "registration.benefit_registered", issued.json()["id"])[0]["valid_to"]
        == "2026-08-02"
    )
    assert (
        post(registration, "hospitalization", {**body, "hospital_code": other.code}, hospital).json()["code"]
        == "not_own_facility"
    )

    missing = post(registration, "hospitalization", {**body, "admission_document": "commitment", "previous_unsettled": True,
                                                     "transfer_from": other.code}, staff)  # fmt: skip
    assert missing.status_code == 422 and missing.json()["code"] == "materials_missing"
    assert {e["field"] for e in missing.json()["errors"]} == {
        "admitted_on",
        "diagnosis",
        "referral_form_no",
        "previous_stay",
    }

    # 全市通办: a clerk of another district issues it; the letter stays with the person's office.
    previous = {
        "letter_no": "ZG-2026-1",
        "discharged_on": "2026-04-28",
        "self_pay": "120.5",
        "extra_self_pay": "30",
        "claimed": "3200.45",
    }
    readmitted = post(registration, "hospitalization", {**body, "admission_document": "commitment", "admitted_on": "2026-05-04",
                                                        "diagnosis": "慢性阻塞性肺疾病", "valid_days": 30, "previous_unsettled": True,
                                                        "previous_stay": previous}, elsewhere)  # fmt: skip
    assert readmitted.status_code == 201, readmitted.text
    letter = readmitted.json()
    assert (letter["office_code"], letter["valid_to"]) == (OFFICE, "2026-06-03")
    assert (
        letter["details"]["previous_stay"]["self_pay"] == "120.50"
        and letter["details"]["admission_document"] == "commitment"
    )

    mine = listed(registration, me, kind="hospitalization")
    assert [r["id"] for r in mine["items"]] == [letter["id"], issued.json()["id"]] and mine[
        "total"
    ] == 2  # refusals wrote nothing


# ------------------------------------------------------------------------------------------------- TB, SARS


def test_tb_here_or_remote_at_the_sub_centre(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    tb1, tb2, plain = facility(3, "tb_designated"), facility(2, "tb_designated"), facility(2)
    known(migrated_database, tb1, tb2, plain)
    person = covered(registration)
    me = registration.token(Role.insured, person_id=person)

    first = post(registration, "tb", {"hospital_code": tb1.code}, me).json()
    by_hospital = post(registration, "tb", {"person_id": person, "hospital_code": tb2.code, "drug_resistant": True},
                       registration.token(Role.facility, facility_id=tb2.code))  # fmt: skip
    assert by_hospital.status_code == 201 and by_hospital.json()["details"]["drug_resistant"] is True
    assert status_of(registration, first["id"], me) == "replaced"
    assert (
        post(registration, "tb", {"hospital_code": plain.code}, me).json()["code"]
        == "facility_programme_missing"
    )

    remote = {"person_id": person, "remote_patient": True, "remote_hospital": {"code": "SH-0001", "name": "上海市某肺科医院"},
              "diagnosis_hospital_level": 2}  # fmt: skip
    assert post(registration, "tb", remote, me).json()["code"] == "at_sub_centre"
    assert post(registration, "tb", remote, staff).json()["code"] == "remote_care_filing_required"
    filed = post(registration, "remote-care", {"person_id": person, "kind": "long_term", "category": "long_term_resident",
                                               "destination": "310104", "commitment": True}, staff)  # fmt: skip
    assert filed.status_code == 201, filed.text
    assert (
        post(registration, "tb", {**remote, "diagnosis_hospital_level": 1}, staff).json()["code"]
        == "diagnosis_level_too_low"
    )
    registered = post(registration, "tb", remote, staff)
    assert registered.status_code == 201, registered.text
    assert (
        registered.json()["facility_codes"] == ["SH-0001"]
        and registered.json()["details"]["remote_hospital"]["name"] == "上海市某肺科医院"
    )
    assert [r["id"] for r in listed(registration, me, kind="tb_outpatient", status="active")["items"]] == [
        registered.json()["id"]
    ]


def test_sars_in_hospital_1_to_4_social_one_community_hospital(registration, migrated_database) -> None:  # type: ignore[no-untyped-def]
    community, *others = facility(1), facility(2), facility(3), facility(2), facility(3)
    known(migrated_database, community, *others)
    me = registration.token(Role.insured, person_id=covered(registration))
    social = post(
        registration, "sars-sequelae", {"infection": "social", "hospital_codes": [others[0].code]}, me
    )
    assert social.status_code == 422 and social.json()["code"] == "not_a_community_hospital"
    assert (
        post(
            registration, "sars-sequelae", {"infection": "social", "hospital_codes": [community.code]}, me
        ).status_code
        == 201
    )
    four = [community.code] + [o.code for o in others[:3]]
    chosen = post(registration, "sars-sequelae", {"infection": "in_hospital", "hospital_codes": four}, me)
    assert chosen.status_code == 201 and chosen.json()["facility_codes"] == four
    five = post(
        registration,
        "sars-sequelae",
        {"infection": "in_hospital", "hospital_codes": [*four, others[3].code]},
        me,
    )
    assert five.status_code == 422 and five.json()["errors"][0]["field"].endswith("hospital_codes")
    twice = post(
        registration,
        "sars-sequelae",
        {"infection": "in_hospital", "hospital_codes": [community.code, community.code]},
        me,
    )
    assert twice.status_code == 422
    assert [r["status"] for r in listed(registration, me, kind="sars_sequelae")["items"]] == [
        "active",
        "replaced",
    ]


# ----------------------------------------------------------------------------------------------- maternity


def test_pregnancy_then_the_maternity_stay_and_a_referral_upwards(
    registration, staff, on_day, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    maternity2, maternity3, clinic, plain = (
        facility(2, "maternity"),
        facility(3, "maternity"),
        facility(1, "maternity"),
        facility(1),
    )
    known(migrated_database, maternity2, maternity3, clinic, plain)
    person = covered(registration)
    me = registration.token(Role.insured, person_id=person)
    ward = registration.token(Role.facility, facility_id=maternity3.code)
    on_day("2026-06-01")

    stay = {"person_id": person, "hospital_code": maternity3.code, "reason": "childbirth"}
    early = post(registration, "maternity-hospitalization", stay, ward)
    assert early.status_code == 409 and early.json()["code"] == "pregnancy_registration_required"

    on_time = post(registration, "pregnancy", {"person_id": person, "last_menstrual_period": "2026-03-20"},
                   registration.token(Role.facility, facility_id=clinic.code))  # fmt: skip
    assert on_time.status_code == 201, on_time.text
    assert (
        on_time.json()["facility_codes"] == [clinic.code] and on_time.json()["details"]["late"] is False
    )  # week 10
    not_maternity = post(registration, "pregnancy", {"person_id": person, "last_menstrual_period": "2026-03-20"},
                         registration.token(Role.facility, facility_id=plain.code))  # fmt: skip
    assert not_maternity.json()["code"] == "facility_programme_missing"
    both = post(
        registration,
        "pregnancy",
        {"last_menstrual_period": "2026-03-20", "pregnancy_started_on": "2026-03-20"},
        me,
    )
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "pregnancy_started_on"
    delivered = post(
        registration, "pregnancy", {"pregnancy_started_on": "2025-09-01", "delivered_on": "2026-05-30"}, me
    )
    assert delivered.json()["code"] == "pregnancy_registration_too_late"
    late = post(
        registration, "pregnancy", {"pregnancy_started_on": "2026-02-01"}, me
    )  # 17 weeks: a late registration
    assert (
        late.status_code == 201
        and late.json()["details"]["late"] is True
        and late.json()["valid_to"] == "2026-11-22"
    )
    assert status_of(registration, on_time.json()["id"], me) == "replaced"

    admitted = post(registration, "maternity-hospitalization", stay, ward)
    assert admitted.status_code == 201 and admitted.json()["valid_to"] == "2026-11-22"
    assert admitted.json()["details"]["based_on"] == late.json()["id"]
    complication = post(
        registration, "maternity-hospitalization", {**stay, "reason": "fp_complication"}, ward
    )
    assert complication.json()["code"] == "fp_complication_registration_required"

    down = {"person_id": person, "sending_hospital": maternity3.code, "receiving_hospital": maternity2.code}
    assert post(registration, "maternity-referral", down, ward).json()["code"] == "referral_to_lower_level"
    up = {"person_id": person, "sending_hospital": maternity2.code, "receiving_hospital": maternity3.code}
    assert (
        post(
            registration,
            "maternity-referral",
            up,
            registration.token(Role.facility, facility_id=maternity2.code),
        ).status_code
        == 201
    )
    counter = post(registration, "maternity-referral", up, staff)
    assert counter.status_code == 422 and counter.json()["errors"][0]["field"] == "referral_form_no"
    assert (
        post(registration, "maternity-referral", {**up, "referral_form_no": "ZY-7"}, staff).status_code == 201
    )
    assert listed(registration, me, kind="maternity_referral")["total"] == 2


def test_maternity_remote_care_and_the_complication_window(
    registration, staff, on_day, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person = covered(registration)
    me = registration.token(Role.insured, person_id=person)
    on_day("2026-06-01")
    home = {"category": "home_town_delivery", "facilities": [{"code": "HB-001", "name": "河北某妇幼保健院"}]}
    assert post(registration, "maternity-remote", home, me).status_code == 201
    worker = {**home, "category": "remote_worker"}
    assert post(registration, "maternity-remote", worker, me).json()["code"] == "unit_files"
    unit = registration.token(Role.unit, unit_id="91120101MA05K8Q4X9")
    assert (
        post(registration, "maternity-remote", {**home, "person_id": person}, unit).json()["code"]
        == "person_files"
    )
    five = [{"code": f"HB-00{n}", "name": f"机构{n}"} for n in range(5)]
    assert post(registration, "maternity-remote", {**home, "facilities": five}, me).status_code == 422

    on_time = post(
        registration, "fp-complication", {"certified_on": "2026-03-15", "certificate_no": "JD-1"}, me
    )
    assert on_time.status_code == 201 and on_time.json()["valid_to"] == "2027-03-31"
    late = post(
        registration,
        "fp-complication",
        {"person_id": person, "certified_on": "2025-04-10", "certificate_no": "JD-0"},
        staff,
    )
    assert late.status_code == 422 and late.json()["code"] == "fp_complication_late"
    assert "2025-05-01" in late.json()["detail"] and "2026-04-30" in late.json()["detail"]
    assert listed(registration, me, kind="fp_complication")["total"] == 1


# ------------------------------------------------------------------------------------- receipts, flag


def test_lost_receipts_by_the_coverages_deadline_at_the_persons_office(
    registration, staff, on_day, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    h = facility(2)
    known(migrated_database, h)
    person = covered(registration)
    body = {"person_id": person, "facility_code": h.code, "receipt_no": "R-1", "service_date": "2026-03-10", "amount": "812.4",
            "certified_copy_no": "FY-9"}  # fmt: skip
    on_day("2027-03-31")  # a resident's benefit year ends 31 Dec: 3 months later
    ok = post(registration, "lost-receipts", body, staff)
    assert ok.status_code == 201, ok.text
    assert (ok.json()["details"]["deadline"], ok.json()["details"]["amount"]) == ("2027-03-31", "812.40")
    elsewhere = registration.token(Role.staff, office_code=OTHER_OFFICE, office_level="district")
    # Only the person's office handles lost receipts: to another district the person is unknown (404, not "no coverage").
    assert post(registration, "lost-receipts", {**body, "receipt_no": "R-3"}, elsewhere).status_code == 404
    assert (
        post(registration, "lost-receipts", {**body, "service_date": "2027-04-01"}, staff).json()["errors"][
            0
        ]["field"]
        == "service_date"
    )
    on_day("2027-04-01")
    late = post(registration, "lost-receipts", {**body, "receipt_no": "R-2"}, staff)
    assert late.status_code == 422 and late.json()["code"] == "lost_receipt_late"
    assert late.json()["deadline"] == "2027-03-31" and "2027-03-31" in late.json()["detail"]
    assert [
        r["details"]["receipt_no"]
        for r in listed(registration, staff, person_id=person, kind="lost_receipt")["items"]
    ] == ["R-1"]


def test_a_unit_flags_its_own_employee_as_deputy_director_general(registration, staff) -> None:  # type: ignore[no-untyped-def]
    from stdnum.cn import uscc

    body = "91" + OFFICE + uuid.uuid4().hex[:9].upper()
    unit_code = body + uscc.calc_check_digit(body)
    unit = registration.token(Role.unit, unit_id=unit_code)
    registration.client.post(
        f"{API}/units",
        json={"code": unit_code, "name": "某局", "legal_representative": "赵某", "office_code": OFFICE},
        headers=unit,
    )
    hired = registration.client.post(
        f"{API}/units/{unit_code}/employees",
        json={"person": {"id_number": new_resident_id(OFFICE), "name": "处长"}},
        headers=unit,
    )
    person = hired.json()["person_id"]
    flagged = post(
        registration,
        "deputy-director-flag",
        {"person_id": person, "appointment_document": "津组任〔2026〕3号"},
        unit,
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["details"] == {"appointment_document": "津组任〔2026〕3号", "unit_code": unit_code}
    again = post(
        registration,
        "deputy-director-flag",
        {"person_id": person, "appointment_document": "津组任〔2026〕9号"},
        staff,
    )
    assert again.status_code == 201 and status_of(registration, flagged.json()["id"], staff) == "replaced"
    stranger = registration.token(Role.unit, unit_id="91120101MA05K8Q4X9")
    # Another unit's employee is not this unit's business: unknown to it (404), not "no coverage".
    assert (
        post(
            registration, "deputy-director-flag", {"person_id": person, "appointment_document": "x"}, stranger
        ).status_code
        == 404
    )
    resident = post(
        registration,
        "deputy-director-flag",
        {"person_id": covered(registration), "appointment_document": "任-3"},
        staff,
    )
    assert resident.status_code == 409 and resident.json()["code"] == "no_coverage"  # employees only


# ------------------------------------------------------------------------------------ remote care, expiry


def test_an_emergency_filing_is_active_on_day_30_and_expired_on_day_31_announced_once(
    registration, on_day, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    filed_on = date(2026, 3, 2)
    me = registration.token(Role.insured, person_id=covered(registration))
    on_day(filed_on.isoformat())
    filed = post(
        registration,
        "remote-care",
        {"kind": "temporary", "reason": "emergency", "destination": "310101", "commitment": True},
        me,
    )
    assert filed.status_code == 201, filed.text
    f = filed.json()
    assert (f["valid_from"], f["valid_to"], f["details"]["remote_class"]) == (
        "2026-03-02",
        "2026-04-01",
        "temporary_emergency",
    )
    assert (
        events(migrated_database, "registration.benefit_registered", f["id"])[0]["valid_to"] == "2026-04-01"
    )

    on_day((filed_on + timedelta(days=30)).isoformat())
    expire_on(migrated_database, filed_on + timedelta(days=30))
    assert status_of(registration, f["id"], me) == "active"

    on_day(
        (filed_on + timedelta(days=31)).isoformat()
    )  # the service's own job may run now as well: still once
    expire_on(migrated_database, filed_on + timedelta(days=31))
    expire_on(migrated_database, filed_on + timedelta(days=32))
    assert [r["status"] for r in listed(registration, me, kind="remote_care")["items"]] == ["expired"]
    announced = events(migrated_database, "registration.benefit_expired", f["id"])
    assert (
        len(announced) == 1
        and announced[0]["expired_on"] == "2026-04-02"
        and announced[0]["kind"] == "remote_care"
    )


def test_a_new_trip_replaces_the_last_and_a_local_destination_is_refused(registration, staff, on_day) -> None:  # type: ignore[no-untyped-def]
    person = covered(registration)
    me = registration.token(Role.insured, person_id=person)
    on_day("2026-05-10")
    body = {"kind": "temporary", "reason": "referral", "destination": "110101", "commitment": True}
    first = post(registration, "remote-care", body, me).json()
    by_staff = post(registration, "remote-care", {**body, "person_id": person}, staff)
    assert by_staff.status_code == 201 and by_staff.json()["valid_to"] == "2026-08-08"  # 90 days
    assert by_staff.json()["details"]["self_pay_extra_points"] == 5
    assert status_of(registration, first["id"], me) == "replaced"
    local = post(registration, "remote-care", {**body, "destination": "120105"}, me)
    assert local.status_code == 422 and local.json()["code"] == "not_cross_province"
    bad = post(registration, "remote-care", {**body, "destination": "上海"}, me)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("destination")
    stranger = registration.token(Role.insured)
    assert post(registration, "remote-care", body, stranger).json()["code"] == "no_coverage"
    assert listed(registration, me, kind="remote_care")["total"] == 2


# ------------------------------------------------------------------------------------------------ listing


def test_the_list_shows_a_person_their_own_and_staff_their_offices_page_by_page(
    registration, staff, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    tb = facility(2, "tb_designated")
    known(migrated_database, tb)
    mine, theirs = covered(registration), covered(registration, OTHER_OFFICE)
    me, them = (
        registration.token(Role.insured, person_id=mine),
        registration.token(Role.insured, person_id=theirs),
    )
    created = [post(registration, "tb", {"hospital_code": tb.code}, me).json()["id"] for _ in range(3)]
    their_tb = post(registration, "tb", {"hospital_code": tb.code}, them).json()["id"]

    page = listed(registration, me, size=2)
    assert (page["total"], page["page"], page["size"], [r["id"] for r in page["items"]]) == (
        3,
        1,
        2,
        created[:0:-1],
    )
    assert [r["id"] for r in listed(registration, me, size=2, page=2)["items"]] == [
        created[0]
    ]  # newest first
    assert [r["id"] for r in listed(registration, me, status="active")["items"]] == [created[2]]
    assert (
        registration.client.get(
            f"{API}/benefit-registrations", params={"person_id": theirs}, headers=me
        ).status_code
        == 403
    )
    assert registration.client.get(f"{API}/benefit-registrations/{their_tb}", headers=me).status_code == 404
    unknown_kind = registration.client.get(f"{API}/benefit-registrations", params={"kind": "flu"}, headers=me)
    assert unknown_kind.status_code == 422 and unknown_kind.json()["errors"][0]["field"].endswith("kind")

    office = {r["id"] for r in listed(registration, staff, kind="tb_outpatient", size=100)["items"]}
    assert set(created) <= office and their_tb not in office
    assert listed(registration, staff, person_id=theirs)["items"] == []
    city = registration.token(Role.staff, office_code="120000", office_level="city")
    assert [r["id"] for r in listed(registration, city, person_id=theirs)["items"]] == [their_tb]


# ------------------------------------------------------------------------------------ family-doctor signing


def test_a_family_doctor_signing_is_recorded_at_a_primary_care_facility_and_announced(
    registration, staff, on_day, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    clinic, hospital = facility(1), facility(2)
    known(migrated_database, clinic, hospital)
    person = covered(registration)
    on_day("2026-05-04")
    body = {
        "person_id": person,
        "facility_code": clinic.code,
        "doctor_name": "王医生",
        "signed_on": "2026-04-20",
    }

    at_a_hospital = post(registration, "family-doctor", {**body, "facility_code": hospital.code}, staff)
    assert at_a_hospital.status_code == 422 and at_a_hospital.json()["code"] == "facility_level_mismatch"
    in_the_future = post(registration, "family-doctor", {**body, "signed_on": "2026-05-05"}, staff)
    assert in_the_future.status_code == 422 and in_the_future.json()["code"] == "signed_in_future"
    another_clinic = registration.token(Role.facility, facility_id=hospital.code)
    assert (
        post(registration, "family-doctor", body, another_clinic).status_code == 403
    )  # not its own facility
    assert (
        listed(registration, staff, person_id=person, kind="family_doctor")["total"] == 0
    )  # refused: nothing

    signed = post(
        registration, "family-doctor", body, registration.token(Role.facility, facility_id=clinic.code)
    )
    assert signed.status_code == 201, signed.text
    record = signed.json()
    assert (record["kind"], record["facility_codes"], record["valid_from"], record["valid_to"]) == (
        "family_doctor",
        [clinic.code],
        "2026-04-20",
        None,
    )
    announced = events(migrated_database, "registration.benefit_registered", record["id"])
    assert announced[0]["kind"] == "family_doctor" and announced[0]["valid_from"] == "2026-04-20"
    assert announced[0]["details"]["signed_on"] == "2026-04-20"

    again = post(
        registration, "family-doctor", {**body, "signed_on": "2026-05-01", "valid_to": "2027-04-30"}, staff
    )
    assert again.status_code == 201, again.text
    assert status_of(registration, record["id"], staff) == "replaced"
    assert (
        events(migrated_database, "registration.benefit_registered", again.json()["id"])[0]["replaces"]
        == record["id"]
    )
