"""A real claim is the quote of the recorded facts: special groups from the coverage with their validity
(the veterans' share paid as the quote pays it), the special-disease ratio only under a 门特 registration at
its treatment facility, the registered reformed level-2 outpatient hospital paid as level 1."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest

from shared.auth import Role
from shared.db import UnitOfWork
from shared.projections import record_facility_if_newer
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage, Entitlement
from svc_claims.models import facilities
from svc_claims.repository.coverage import Repository

pytestmark = pytest.mark.integration

API = "/api/v1/claims/reimbursements"
OFFICE = "120101"
HOSPITAL_2, HOSPITAL_3, PHARMACY = "H12010100001", "H12010100002", "P12010100001"


def record(database_url: str, coverage: Coverage, *entitlements: Entitlement) -> None:
    async def work(uow: UnitOfWork) -> None:
        repo = Repository(uow)
        for code, kind, level in ((HOSPITAL_2, "medical_institution", 2), (HOSPITAL_3, "medical_institution", 3),
                                  (PHARMACY, "retail_pharmacy", None)):  # fmt: skip
            await record_facility_if_newer(uow, facilities, {"code": code, "name": f"机构{code[-3:]}", "kind": kind, "level": level,
                                                 "office_code": OFFICE, "status": "designated", "version": 1})  # fmt: skip
        await repo.record_coverage(coverage, uuid.uuid4())
        for entitlement in entitlements:
            await repo.record_entitlement(entitlement, None)

    asyncio.run(in_schema(database_url, "claims", work, datetime(2021, 1, 1, tzinfo=UTC)))


def resident(person: uuid.UUID, groups: tuple[str, ...] = (), records: tuple[dict, ...] = ()) -> Coverage:
    return Coverage(uuid.uuid4(), person, OFFICE, "resident", "adult_middle", date(2021, 1, 1), date(2021, 12, 31),
                    special_groups=groups, special_group_records=records)  # fmt: skip


def registration(person: uuid.UUID, kind: str, facility: str) -> Entitlement:
    return Entitlement(uuid.uuid4(), person, kind, (facility,), date(2021, 1, 1), None, "active", {})


def claim(care_type: str, facility: str, in_scope: str, day: str = "2021-05-20") -> dict:
    receipt = {
        "number": f"R{uuid.uuid4().hex[:10]}",
        "issued_on": day,
        "amount": in_scope,
        "in_scope": in_scope,
        "out_of_scope": "0.00",
    }
    return {"care_type": care_type, "facility_code": facility, "service_from": "2021-05-10" if care_type == "inpatient" else day,
            "service_to": day, "receipts": [receipt], "bank_account": "6222021234567890123",
            "materials": ["receipts", "itemised_bill", "prescriptions", "diagnosis"]}  # fmt: skip


def approve(claims, person: uuid.UUID, body: dict, allow_sample: bool = False) -> dict:  # type: ignore[no-untyped-def]
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    filed = claims.client.post(API, json=body, headers=claims.token(Role.insured, person_id=person))
    assert filed.status_code == 201, filed.text
    c = claims.client.post(f"{API}/{filed.json()['id']}/accept", json={"version": 1}, headers=district).json()
    lines = [
        {"receipt": r["number"], "outcome": "accepted", "accepted_in_scope": r["in_scope"]}
        for r in c["receipts"]
    ]
    c = claims.client.post(
        f"{API}/{c['id']}/review", json={"version": 2, "lines": lines}, headers=district
    ).json()
    approved = claims.client.post(f"{API}/{c['id']}/approve", json={"version": 3}, headers=city)
    assert approved.status_code == 200, approved.text
    return approved.json()["bill"]


def quote(claims, **context) -> dict:  # type: ignore[no-untyped-def]
    answer = claims.client.post(
        "/api/v1/claims/quote",
        json={"scheme": "resident", "tier": "adult_middle", **context},
        headers=claims.token(),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_entitled_veterans_real_claim_pays_the_veterans_share_the_quote_pays(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person = uuid.uuid4()
    valid = {
        "group": "old_soldier",
        "department": "veterans_affairs",
        "document_number": "VA-2021-17",
        "valid_from": "2021-01-01",
        "valid_to": None,
    }
    record(migrated_database, resident(person, ("old_soldier",), (valid,)))
    bill = approve(claims, person, claim("inpatient", HOSPITAL_3, "15000.00"))
    same = quote(claims, special_groups=["old_soldier"], service_date="2021-05-20", admission_date="2021-05-10", facility_level=3,
                 care_type="inpatient", in_scope="15000.00")  # fmt: skip
    assert bill["veterans"] != "0.00"
    assert (bill["fund"], bill["veterans"], bill["person"]) == (
        same["fund"],
        same["veterans"],
        same["person"],
    )


def test_a_special_group_outside_its_validity_pays_nothing_extra(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = uuid.uuid4()
    lapsed = {"group": "old_soldier", "department": "veterans_affairs", "document_number": "VA-2020-3", "valid_from": "2020-01-01",
              "valid_to": "2021-03-31"}  # fmt: skip
    record(migrated_database, resident(person, ("old_soldier",), (lapsed,)))
    bill = approve(claims, person, claim("inpatient", HOSPITAL_3, "15000.00"))
    plain = quote(
        claims,
        service_date="2021-05-20",
        admission_date="2021-05-10",
        facility_level=3,
        care_type="inpatient",
        in_scope="15000.00",
    )
    assert bill["veterans"] == "0.00" and bill["person"] == plain["person"]


def test_a_special_disease_claim_needs_a_registration_at_its_treatment_facility(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    unregistered, registered = uuid.uuid4(), uuid.uuid4()
    record(migrated_database, resident(unregistered))
    record(migrated_database, resident(registered), registration(registered, "special_disease", HOSPITAL_2))
    me = claims.token(Role.insured, person_id=unregistered)
    refused = claims.client.post(API, json=claim("special_disease", HOSPITAL_2, "3000.00"), headers=me)
    assert refused.status_code == 422 and refused.json()["code"] == "special_disease_registration_required"
    elsewhere = claims.client.post(
        API,
        json=claim("special_disease", HOSPITAL_3, "3000.00"),
        headers=claims.token(Role.insured, person_id=registered),
    )
    assert (
        elsewhere.status_code == 422 and elsewhere.json()["code"] == "special_disease_facility_not_registered"
    )
    assert claims.client.get(API, headers=me).json()["total"] == 0  # nothing was written
    bill = approve(claims, registered, claim("special_disease", HOSPITAL_2, "3000.00"))
    same = quote(
        claims, service_date="2021-05-20", facility_level=2, care_type="special_disease", in_scope="3000.00"
    )
    assert bill["fund"] == same["fund"] == "1375.00"  # (3000 − 500) × 55 %


def test_the_registered_level_2_outpatient_hospital_is_honoured(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    registered, other = uuid.uuid4(), uuid.uuid4()
    record(
        migrated_database, resident(registered), registration(registered, "resident_outpatient", HOSPITAL_2)
    )
    record(migrated_database, resident(other))
    paid = approve(claims, registered, claim("outpatient_large", HOSPITAL_2, "1500.00"))
    same = quote(
        claims,
        service_date="2021-05-20",
        facility_level=2,
        care_type="outpatient",
        in_scope="1500.00",
        reformed_level2=True,
    )
    assert paid["fund"] == same["fund"] == "500.00"  # (1500 − 500) × 50 %
    not_registered = approve(claims, other, claim("outpatient_large", HOSPITAL_2, "1500.00"))
    assert not_registered["fund"] == "0.00"  # ordinary outpatient care at level 2 is not paid


def test_a_reimbursement_applies_the_recorded_family_doctor_signing_from_the_month_after(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    signed, unsigned = uuid.uuid4(), uuid.uuid4()
    signing = Entitlement(uuid.uuid4(), signed, "family_doctor", (HOSPITAL_2,), date(2021, 3, 1), None, "active",
                          {"signed_on": "2021-03-01"})  # fmt: skip
    record(
        migrated_database, resident(signed), registration(signed, "resident_outpatient", HOSPITAL_2), signing
    )
    record(migrated_database, resident(unsigned), registration(unsigned, "resident_outpatient", HOSPITAL_2))
    visit = {"service_date": "2021-05-20", "facility_level": 2, "care_type": "outpatient", "in_scope": "1500.00",
             "reformed_level2": True}  # fmt: skip

    paid = approve(claims, signed, claim("outpatient_large", HOSPITAL_2, "1500.00"))
    assert paid["fund"] == quote(claims, **visit, family_doctor_signed_on="2021-03-01")["fund"] == "550.00"
    not_signed = approve(claims, unsigned, claim("outpatient_large", HOSPITAL_2, "1500.00"))
    assert not_signed["fund"] == quote(claims, **visit)["fund"] == "500.00"  # (1500 − 500) × 50 %
