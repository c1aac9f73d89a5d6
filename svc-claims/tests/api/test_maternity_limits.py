"""Maternity is paid by the person's record and once per event: items by sex (per item), one prenatal limit
and one delivery per pregnancy, the same event never filed twice (natural key, also without an
Idempotency-Key), the pregnancy registration where the rules need it, sample tables never approved."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.auth import Role
from shared.db import UnitOfWork
from shared.identity import IdType, person_id_for
from shared.settings import DEVELOPMENT_PERSON_KEY
from shared.testing.e2e import new_resident_id
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage, Entitlement
from svc_claims.repository.coverage import Repository

pytestmark = pytest.mark.integration

OFFICE, UNIT = "120101", "91120101MA05K8Q4X9"
RESIDENT = "/api/v1/claims/maternity/resident"
ACCOUNT = "6222021234567890123"


def person_with(database_url: str, sex: str | None, scheme: str = "resident", pregnant_from: date | None = date(2020, 10, 1),
                person: uuid.UUID | None = None) -> uuid.UUID:  # fmt: skip
    person = person or uuid.uuid4()
    if scheme == "resident":
        coverage = Coverage(
            uuid.uuid4(),
            person,
            OFFICE,
            "resident",
            "adult_middle",
            date(2021, 1, 1),
            date(2021, 12, 31),
            sex=sex,
        )
    else:
        coverage = Coverage(
            uuid.uuid4(),
            person,
            OFFICE,
            "employee",
            None,
            date(2020, 1, 1),
            None,
            UNIT,
            "in_service",
            sex=sex,
        )

    async def work(uow: UnitOfWork) -> None:
        await Repository(uow).record_coverage(coverage, uuid.uuid4())
        if pregnant_from is not None:
            pregnancy = Entitlement(
                uuid.uuid4(),
                person,
                "pregnancy",
                (),
                pregnant_from,
                pregnant_from + timedelta(weeks=42),
                "active",
                {},
            )
            await Repository(uow).record_entitlement(pregnancy, None)

    asyncio.run(in_schema(database_url, "claims", work, datetime(2021, 1, 1, tzinfo=UTC)))
    return person


def filing(*items: tuple[str, str], event_date: str = "2021-07-01", **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"event_date": event_date, "facility_level": 2, "bank_account": ACCOUNT,
            "items": [{"item": item, "cost": cost} for item, cost in items], **extra}  # fmt: skip


def test_one_filing_with_two_prenatal_items_and_two_deliveries_pays_one_pregnancys_limit(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    mother = person_with(migrated_database, "female")
    me = claims.token(Role.insured, person_id=mother)
    doubled = claims.client.post(RESIDENT, json=filing(("prenatal", "900.00"), ("prenatal", "700.00"), ("natural_delivery", "3000.00"),
                                                       ("natural_delivery", "3000.00")), headers=me)  # fmt: skip
    assert doubled.status_code == 422 and doubled.json()["code"] == "maternity_event_repeated"
    assert [e["field"] for e in doubled.json()["errors"]] == ["items[3]"]
    once = claims.client.post(
        RESIDENT,
        json=filing(("prenatal", "900.00"), ("prenatal", "700.00"), ("natural_delivery", "3000.00")),
        headers=me,
    )
    assert once.status_code == 201, once.text
    assert [(line["code"], line["base"], line["amount"]) for line in once.json()["lines"]] == [
        ("prenatal", "1600.00", "660.00"),
        ("natural_delivery", "3000.00", "2280.00"),
    ]
    assert once.json()["amount"] == "2940.00"  # 660 + 2,280: never 5,760


def test_the_same_delivery_filed_again_is_refused_until_the_first_is_rejected(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    mother = person_with(migrated_database, "female")
    me = claims.token(Role.insured, person_id=mother)
    first = claims.client.post(RESIDENT, json=filing(("natural_delivery", "3000.00")), headers=me)
    assert first.status_code == 201, first.text
    again = claims.client.post(
        RESIDENT, json=filing(("natural_delivery", "3000.00")), headers=me
    )  # a retry without a key
    assert again.status_code == 409 and again.json()["code"] == "maternity_already_claimed"
    assert again.json()["existing_payment"] == first.json()["id"]
    other_day = claims.client.post(
        RESIDENT, json=filing(("induced_labour", "2000.00"), event_date="2021-07-02"), headers=me
    )
    assert other_day.status_code == 409  # the same pregnancy ends once
    prenatal_later = claims.client.post(RESIDENT, json=filing(("prenatal", "500.00")), headers=me)
    assert prenatal_later.status_code == 201 and prenatal_later.json()["lines"][0]["amount"] == "500.00"
    assert (
        claims.client.post(RESIDENT, json=filing(("prenatal", "300.00")), headers=me).status_code == 409
    )  # one limit a pregnancy
    assert claims.client.get("/api/v1/claims/payments", headers=me).json()["total"] == 2
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    rejected = claims.client.post(f"/api/v1/claims/payments/{first.json()['id']}/reject", json={"version": 1, "reason": "materials_doubtful"},
                                  headers=district)  # fmt: skip
    assert rejected.status_code == 200
    assert (
        claims.client.post(RESIDENT, json=filing(("natural_delivery", "3000.00")), headers=me).status_code
        == 201
    )


def test_items_are_allowed_by_the_sex_on_the_persons_record(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    man = person_with(migrated_database, "male")
    woman = person_with(migrated_database, "female", pregnant_from=None)
    him, her = claims.token(Role.insured, person_id=man), claims.token(Role.insured, person_id=woman)
    delivery = claims.client.post(
        RESIDENT, json=filing(("prenatal", "900.00"), ("natural_delivery", "3000.00")), headers=him
    )
    assert delivery.status_code == 422 and delivery.json()["code"] == "maternity_item_sex"
    assert [e["field"] for e in delivery.json()["errors"]] == ["items[0]", "items[1]"]
    assert (
        claims.client.post(RESIDENT, json=filing(("male_sterilisation", "500.00")), headers=him).json()[
            "amount"
        ]
        == "360.00"
    )
    assert (
        claims.client.post(RESIDENT, json=filing(("sterilisation_reversal", "1000.00")), headers=him).json()[
            "amount"
        ]
        == "600.00"
    )
    refused = claims.client.post(RESIDENT, json=filing(("male_sterilisation", "500.00")), headers=her)
    assert refused.status_code == 422 and refused.json()["code"] == "maternity_item_sex"
    assert (
        claims.client.post(RESIDENT, json=filing(("female_sterilisation", "800.00")), headers=her).json()[
            "amount"
        ]
        == "600.00"
    )
    assert (
        claims.client.get("/api/v1/claims/payments", headers=him).json()["total"] == 2
    )  # the refusals wrote nothing


def test_without_a_recorded_sex_only_the_persons_own_id_number_decides(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    # A woman of her own (17th digit even), not a demo account: the API tests share the run's database with the
    # end-to-end platform, where the demo people must stay as the demo has them.
    id_number = next(n for n in iter(lambda: new_resident_id("120103"), None) if int(n[16]) % 2 == 0)
    person = person_id_for(IdType.resident_id, id_number, DEVELOPMENT_PERSON_KEY.encode())
    person_with(migrated_database, None, person=person)
    me = claims.token(Role.insured, person_id=person)
    unknown = claims.client.post(RESIDENT, json=filing(("natural_delivery", "3000.00")), headers=me)
    assert unknown.status_code == 422 and unknown.json()["code"] == "sex_not_recorded"
    someone_else = claims.client.post(
        RESIDENT, json=filing(("natural_delivery", "3000.00"), id_number="120101199003071235"), headers=me
    )
    assert someone_else.status_code == 422 and someone_else.json()["code"] == "identity_mismatch"
    verified = claims.client.post(
        RESIDENT, json=filing(("natural_delivery", "3000.00"), id_number=id_number), headers=me
    )
    assert verified.status_code == 201 and verified.json()["basis"]["sex"] == "female"
    assert id_number not in verified.text


def test_deliveries_and_prenatal_checks_need_the_pregnancy_registration(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    unregistered = person_with(migrated_database, "female", pregnant_from=None)
    me = claims.token(Role.insured, person_id=unregistered)
    refused = claims.client.post(
        RESIDENT, json=filing(("prenatal", "900.00"), ("natural_delivery", "3000.00")), headers=me
    )
    assert refused.status_code == 409 and refused.json()["code"] == "pregnancy_registration_required"
    assert (
        claims.client.post(RESIDENT, json=filing(("abortion", "400.00")), headers=me).json()["amount"]
        == "180.00"
    )


def test_the_prenatal_band_follows_the_registered_weeks_not_a_typed_flag(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    early = person_with(migrated_database, "female", pregnant_from=date(2021, 5, 1))  # 8 weeks on 1 July
    registered_later = person_with(migrated_database, "female", pregnant_from=None)

    async def register(
        uow: UnitOfWork,
    ) -> None:  # registered on 20 June, the pregnancy started on 1 January: 25 weeks on 1 July
        await Repository(uow).record_entitlement(Entitlement(uuid.uuid4(), registered_later, "pregnancy", (), date(2021, 6, 20),
                                                                     date(2021, 10, 22), "active", {"pregnancy_started_on": "2021-01-01"}), None)  # fmt: skip

    asyncio.run(in_schema(migrated_database, "claims", register, datetime(2021, 6, 20, tzinfo=UTC)))
    late = claims.client.post(RESIDENT, json=filing(("prenatal", "900.00"), ("abortion", "400.00")),
                              headers=claims.token(Role.insured, person_id=registered_later))  # fmt: skip
    assert late.status_code == 201 and late.json()["lines"][0]["amount"] == "540.00", (
        late.text
    )  # 16 to 28 weeks
    me = claims.token(Role.insured, person_id=early)
    body = filing(("abortion", "400.00"))
    body["items"].insert(0, {"item": "prenatal", "cost": "900.00", "delivered": True, "weeks": 30})
    filed = claims.client.post(RESIDENT, json=body, headers=me)
    assert filed.status_code == 201, filed.text
    assert filed.json()["lines"][0]["amount"] == "160.00"  # below 12 weeks: 160, whatever was typed


def test_a_man_gets_no_maternity_allowance_and_sample_tables_are_not_approved(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    man = person_with(migrated_database, "male", scheme="employee", pregnant_from=date(2026, 1, 5))
    woman = person_with(migrated_database, "female", scheme="employee", pregnant_from=date(2026, 1, 5))
    unit = claims.token(Role.unit, unit_id=UNIT)
    body = {
        "event_date": "2026-09-20",
        "case": "delivery",
        "average_monthly_wage": "9000.00",
        "bank_account": ACCOUNT,
    }
    claims.business_date("2026-11-22")
    try:
        refused = claims.client.post(
            "/api/v1/claims/maternity/allowance", json={**body, "person_id": str(man)}, headers=unit
        )
        assert refused.status_code == 422 and refused.json()["code"] == "maternity_item_sex"
        filed = claims.client.post(
            "/api/v1/claims/maternity/allowance", json={**body, "person_id": str(woman)}, headers=unit
        )
        assert (
            filed.status_code == 201
            and filed.json()["sample"] is True
            and filed.json()["amount"] == "29400.00"
        )
        twice = claims.client.post(
            "/api/v1/claims/maternity/allowance", json={**body, "person_id": str(woman)}, headers=unit
        )
        assert twice.status_code == 409 and twice.json()["code"] == "maternity_already_claimed"
        district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
        city = claims.token(Role.staff, office_code="120000", office_level="city")
        payment = filed.json()["id"]
        assert (
            claims.client.post(
                f"/api/v1/claims/payments/{payment}/accept", json={"version": 1}, headers=district
            ).status_code
            == 200
        )
        approval = claims.client.post(
            f"/api/v1/claims/payments/{payment}/approve", json={"version": 2}, headers=city
        )
        assert approval.status_code == 422 and approval.json()["code"] == "sample_policy_data"
        assert (
            claims.client.get(f"/api/v1/claims/payments/{payment}", headers=city).json()["status"]
            == "accepted"
        )
    finally:
        claims.business_date(None)


def test_another_districts_clerk_cannot_file_for_the_person_nor_learn_anything(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    mother = person_with(migrated_database, "female")  # a person of 和平区 (120101)
    hexi = claims.token(Role.staff, office_code="120103", office_level="district")
    maternity = claims.client.post(
        RESIDENT, json={**filing(("natural_delivery", "3000.00")), "person_id": str(mother)}, headers=hexi
    )
    assert maternity.status_code == 404, maternity.text
    bad_receipt = {
        "number": "X1",
        "issued_on": "2021-08-01",
        "amount": "100.00",
        "in_scope": "90.00",
        "out_of_scope": "90.00",
    }
    claim = {"person_id": str(mother), "care_type": "inpatient", "facility_code": "H12010100001", "service_from": "2021-05-01",
             "service_to": "2021-05-10", "receipts": [bad_receipt], "bank_account": ACCOUNT, "channel": "township"}  # fmt: skip
    reimbursement = claims.client.post("/api/v1/claims/reimbursements", json=claim, headers=hexi)
    assert reimbursement.status_code == 404, (
        reimbursement.text
    )  # not the receipts' 422: the person is out of reach
    heping = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    own = claims.client.post(
        RESIDENT, json={**filing(("natural_delivery", "3000.00")), "person_id": str(mother)}, headers=heping
    )
    assert own.status_code == 201, own.text
