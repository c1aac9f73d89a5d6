"""Benefit registrations through the service's API: who may file each, its rule, and nothing written
when refused. Facilities are put in the registry projection as facility's events would."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from shared.auth import Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from shared.testing.e2e import new_resident_id
from svc_registration.domain.facility import KnownFacility
from svc_registration.repository import Repository

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
OFFICE = "120101"


async def known(database_url: str, *facilities: KnownFacility) -> None:
    engine = make_engine(service_database_url(database_url, "registration"), 2, schema="registration")
    try:
        async with UnitOfWork(make_session_factory(engine), FixedClock(datetime(2026, 1, 1, tzinfo=UTC)), "registration") as uow:
            for facility in facilities:
                await Repository(uow.session).record_facility_if_newer(facility)
            await uow.commit()
    finally:
        await engine.dispose()


def code() -> str:
    return f"H{uuid.uuid4().int % 10**11:011d}"


def facility(level: int, *programmes: str, kind: str = "medical_institution") -> KnownFacility:
    c = code()
    return KnownFacility(c, f"测试医院{c[-4:]}", kind, level, OFFICE, frozenset(programmes), "designated", 1)


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=OFFICE, office_level="district")


def covered(registration, staff) -> str:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": new_resident_id(OFFICE), "name": "参保人"}, "office_code": OFFICE, "tier": "adult_middle",
            "coverage_year": 2026, "paid_on": "2025-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff).json()
    registration.client.post(f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff)
    return created["person_id"]


def post(registration, what: str, body: dict, headers: dict):  # type: ignore[no-untyped-def]
    return registration.client.post(f"{API}/benefit-registrations/{what}", json=body, headers=headers)


def test_a_hospital_issues_its_own_patients_letter_and_only_its_own(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    h, other = facility(2), facility(3)
    asyncio.run(known(migrated_database, h, other))
    person = covered(registration, staff)
    hospital = registration.token(Role.facility, facility_id=h.code)
    registration.business_date("2026-05-04")
    try:
        body = {"person_id": person, "hospital_code": h.code, "admission_document": "commitment"}
        issued = post(registration, "hospitalization", body, hospital)
        assert issued.status_code == 201, issued.text
        assert (issued.json()["valid_from"], issued.json()["valid_to"]) == ("2026-05-04", "2026-08-02")
        assert post(registration, "hospitalization", {**body, "hospital_code": other.code}, hospital).status_code == 403
        missing = post(registration, "hospitalization", {**body, "previous_unsettled": True, "transfer_from": other.code}, staff)
        assert missing.status_code == 422 and {e["field"] for e in missing.json()["errors"]} == {"referral_form_no", "previous_letter_no", "previous_amount"}
        assert post(registration, "hospitalization", body, registration.token(Role.insured, person_id=person)).status_code == 403
        mine = registration.client.get(f"{API}/benefit-registrations", params={"kind": "hospitalization"},
                                       headers=registration.token(Role.insured, person_id=person)).json()  # fmt: skip
        assert [r["id"] for r in mine] == [issued.json()["id"]]  # the refused ones wrote nothing
    finally:
        registration.business_date(None)


def test_tb_and_sars_choices_replace_the_previous_one(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    tb1, tb2, community, plain = facility(3, "tb_designated"), facility(2, "tb_designated"), facility(1), facility(2)
    asyncio.run(known(migrated_database, tb1, tb2, community, plain))
    person = covered(registration, staff)
    me = registration.token(Role.insured, person_id=person)
    first = post(registration, "tb", {"hospital_code": tb1.code}, me).json()
    second = post(registration, "tb", {"hospital_code": tb2.code, "drug_resistant": True}, me).json()
    assert registration.client.get(f"{API}/benefit-registrations/{first['id']}", headers=me).json()["status"] == "replaced"
    assert second["details"]["drug_resistant"] is True
    assert post(registration, "tb", {"hospital_code": plain.code}, me).json()["code"] == "facility_programme_missing"
    social = post(registration, "sars-sequelae", {"infection": "social", "hospital_codes": [plain.code]}, me)
    assert social.status_code == 422 and social.json()["code"] == "not_a_community_hospital"
    assert post(registration, "sars-sequelae", {"infection": "social", "hospital_codes": [community.code]}, me).status_code == 201
    assert post(registration, "sars-sequelae", {"infection": "in_hospital", "hospital_codes": [tb1.code, tb2.code, plain.code]}, me).status_code == 201


def test_maternity_hospitalization_needs_a_pregnancy_registration(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    maternity2, maternity3, clinic = facility(2, "maternity"), facility(3, "maternity"), facility(1)
    asyncio.run(known(migrated_database, maternity2, maternity3, clinic))
    person = covered(registration, staff)
    sending = registration.token(Role.facility, facility_id=maternity3.code)
    registration.business_date("2026-06-01")
    try:
        early = post(registration, "maternity-hospitalization", {"person_id": person, "hospital_code": maternity3.code}, sending)
        assert early.status_code == 409 and early.json()["code"] == "pregnancy_registration_required"
        registered = post(registration, "pregnancy", {"pregnancy_started_on": "2026-02-01"}, registration.token(Role.insured, person_id=person))
        assert registered.status_code == 201 and registered.json()["details"]["late"] is True  # 17 weeks: a late registration
        stay = post(registration, "maternity-hospitalization", {"person_id": person, "hospital_code": maternity3.code}, sending)
        assert stay.status_code == 201 and stay.json()["valid_to"] == registered.json()["valid_to"]
        down = post(registration, "maternity-referral", {"person_id": person, "sending_hospital": maternity3.code, "receiving_hospital": maternity2.code}, sending)
        assert down.status_code == 422 and down.json()["code"] == "referral_to_lower_level"
        remote = post(registration, "maternity-remote", {"person_id": person, "category": "remote_worker",
                                                          "facilities": [{"code": "SH001", "name": "上海某妇产医院"}]},
                      registration.token(Role.insured, person_id=person))  # fmt: skip
        assert remote.status_code == 403 and remote.json()["code"] == "unit_files"
        late = post(registration, "fp-complication", {"person_id": person, "certified_on": "2025-04-10", "certificate_no": "JD-1"}, staff)
        assert late.status_code == 422 and late.json()["code"] == "fp_complication_late"
    finally:
        registration.business_date(None)


def test_lost_receipts_by_the_coverages_deadline_and_the_units_flag(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    h = facility(2)
    asyncio.run(known(migrated_database, h))
    person = covered(registration, staff)
    body = {"person_id": person, "facility_code": h.code, "receipt_no": "R-1", "service_date": "2026-03-10", "amount": "812.40",
            "certified_copy_no": "FY-9"}  # fmt: skip
    registration.business_date("2027-03-31")
    try:
        ok = post(registration, "lost-receipts", body, staff)
        assert ok.status_code == 201 and ok.json()["details"]["deadline"] == "2027-03-31"
    finally:
        registration.business_date("2027-04-01")
    try:
        late = post(registration, "lost-receipts", {**body, "receipt_no": "R-2"}, staff)
        assert late.status_code == 422 and late.json()["code"] == "lost_receipt_late"
    finally:
        registration.business_date(None)
    resident_flag = post(registration, "deputy-director-flag", {"person_id": person, "appointment_document": "任-2026-3"}, staff)
    assert resident_flag.status_code == 409 and resident_flag.json()["code"] == "no_coverage"  # employees only
    assert post(registration, "deputy-director-flag", {"person_id": person, "appointment_document": "x"},
                registration.token(Role.insured, person_id=person)).status_code == 403  # fmt: skip


def test_a_unit_flags_its_own_employee_as_deputy_director_general(registration, staff) -> None:  # type: ignore[no-untyped-def]
    from stdnum.cn import uscc

    body = "91" + OFFICE + uuid.uuid4().hex[:9].upper()
    unit_code = body + uscc.calc_check_digit(body)
    unit = registration.token(Role.unit, unit_id=unit_code)
    registration.client.post(f"{API}/units", json={"code": unit_code, "name": "某局", "legal_representative": "赵某", "office_code": OFFICE}, headers=unit)
    hired = registration.client.post(f"{API}/units/{unit_code}/employees", json={"person": {"id_number": new_resident_id(OFFICE), "name": "处长"}}, headers=unit)
    person = hired.json()["person_id"]
    flagged = post(registration, "deputy-director-flag", {"person_id": person, "appointment_document": "津组任〔2026〕3号"}, unit)
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["details"] == {"appointment_document": "津组任〔2026〕3号", "unit_code": unit_code}
    stranger = registration.token(Role.unit, unit_id="91120101MA05K8Q4X9")
    assert post(registration, "deputy-director-flag", {"person_id": person, "appointment_document": "x"}, stranger).status_code == 409
