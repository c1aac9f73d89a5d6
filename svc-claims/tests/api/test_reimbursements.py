"""Manual reimbursement through the claims API: filing with missing papers told at once, supplement,
acceptance, review, city approval with the same bill as a quote, payment; refusals write nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest

from shared.auth import Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from svc_claims.domain.eligibility import Coverage
from svc_claims.repository import Repository

pytestmark = pytest.mark.integration

API = "/api/v1/claims/reimbursements"
OFFICE = "120101"


async def covered(database_url: str, unit_code: str | None = None) -> uuid.UUID:
    person = uuid.uuid4()
    engine = make_engine(service_database_url(database_url, "claims"), 2, schema="claims")
    try:
        async with UnitOfWork(make_session_factory(engine), FixedClock(datetime(2021, 1, 1, tzinfo=UTC)), "claims") as uow:
            coverage = Coverage(uuid.uuid4(), person, OFFICE, "resident", "adult_middle", date(2021, 1, 1), date(2021, 12, 31), unit_code)
            await Repository(uow.session).record_coverage(coverage, uuid.uuid4())
            await uow.commit()
    finally:
        await engine.dispose()
    return person


def body(**kw) -> dict:  # type: ignore[no-untyped-def]
    receipts = [{"number": f"R{uuid.uuid4().hex[:8]}", "issued_on": "2021-05-20", "amount": "30000.00", "in_scope": "26000.00", "out_of_scope": "4000.00"}]
    return {"care_type": "inpatient", "facility_code": "H12010100001", "facility_level": 2, "service_from": "2021-05-10",
            "service_to": "2021-05-20", "receipts": receipts, "materials": ["receipts", "diagnosis"], "bank_account": "6222021234567890123", **kw}  # fmt: skip


def test_the_whole_flow_pays_what_a_quote_gives(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = asyncio.run(covered(migrated_database))
    me = claims.token(Role.insured, person_id=person)
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    city = claims.token(Role.staff, office_code="120000", office_level="city")

    filed = claims.client.post(API, json=body(), headers=me)
    assert filed.status_code == 201, filed.text
    c = filed.json()
    assert c["status"] == "awaiting_materials" and [m["code"] for m in c["missing_materials"]] == ["itemised_bill", "discharge_summary"]
    assert c["bank_account"].endswith("0123") and "6222021234567890123" not in filed.text
    early = claims.client.post(f"{API}/{c['id']}/accept", json={"version": 1}, headers=district)
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"

    c = claims.client.post(f"{API}/{c['id']}/materials", json={"version": 1, "materials": ["itemised_bill", "discharge_summary"]}, headers=me).json()
    assert c["status"] == "filed"
    c = claims.client.post(f"{API}/{c['id']}/accept", json={"version": 2}, headers=district).json()
    assert c["status"] == "accepted" and c["expected_payment_by"]
    receipt = c["receipts"][0]["number"]
    lines = [{"receipt": receipt, "outcome": "reduced", "accepted_in_scope": "25000.00", "reason": "out_of_catalogue"}]
    c = claims.client.post(f"{API}/{c['id']}/review", json={"version": 3, "lines": lines}, headers=district).json()
    assert c["status"] == "reviewed"
    refused = claims.client.post(f"{API}/{c['id']}/approve", json={"version": 4}, headers=district)
    assert refused.status_code == 403 and refused.json()["code"] == "city_level_required"
    approved = claims.client.post(f"{API}/{c['id']}/approve", json={"version": 4}, headers=city)
    assert approved.status_code == 200, approved.text
    bill = approved.json()["bill"]

    quote = claims.client.post("/api/v1/claims/quote", json={"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-20",
                                                            "admission_date": "2021-05-10", "facility_level": 2, "care_type": "inpatient",
                                                            "in_scope": "25000.00", "out_of_scope": "5000.00"}, headers=me).json()  # fmt: skip
    assert (bill["fund"], bill["person"], bill["total"]) == (quote["fund"], quote["person"], quote["total"])
    assert bill["fund"] == "18375.00"  # (25000 − 500) × 75% (level 2, adult middle), to the fen
    paid = claims.client.post(f"{API}/{c['id']}/pay", json={"version": 5, "reference": "PAY-2021-1"}, headers=district).json()
    assert paid["status"] == "paid" and [s["status"] for s in paid["steps"]][-1] == "paid"

    # The same receipt cannot be reimbursed twice.
    again = claims.client.post(API, json={**body(), "receipts": [{**body()["receipts"][0], "number": receipt}]}, headers=me)
    assert again.status_code == 409 and again.json()["existing_claim"] == c["id"]


def test_who_sees_what_and_bad_input_writes_nothing(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    unit_code = "91120101MA05K8Q4X9"
    person = asyncio.run(covered(migrated_database, unit_code))
    unit = claims.token(Role.unit, unit_id=unit_code)
    filed = claims.client.post(API, json={**body(), "person_id": str(person)}, headers=unit)
    assert filed.status_code == 201 and filed.json()["channel"] == "unit"
    claim_id = filed.json()["id"]
    assert claims.client.get(f"{API}/{claim_id}", headers=claims.token(Role.insured, person_id=person)).status_code == 200
    assert claims.client.get(f"{API}/{claim_id}", headers=claims.token(Role.insured)).status_code == 404
    assert claims.client.get(f"{API}/{claim_id}", headers=claims.token(Role.unit, unit_id="91120101MA05K8Q4Y0")).status_code == 404
    assert claims.client.get(f"{API}/{claim_id}", headers=claims.token(Role.staff, office_code="120103", office_level="district")).status_code == 404
    assert claims.client.get(f"{API}/{claim_id}", headers=claims.token(Role.ops)).status_code == 403
    assert [c["id"] for c in claims.client.get(API, headers=unit).json()["items"]] == [claim_id]

    me = claims.token(Role.insured, person_id=person)
    before = claims.client.get(API, headers=me).json()["total"]
    for bad, code in [
        ({**body(), "service_from": "2020-12-20", "receipts": [{**body()["receipts"][0], "issued_on": "2020-12-21"}]}, "not_eligible"),
        ({**body(), "receipts": [{**body()["receipts"][0], "in_scope": "1.00"}]}, "receipts_invalid"),
        ({**body(), "receipts": [{**body()["receipts"][0], "amount": "-5.00"}]}, "validation_failed"),
        ({**body(), "receipts": [{**body()["receipts"][0], "amount": "20000000.00", "in_scope": "20000000.00", "out_of_scope": "0.00"}]}, "receipts_invalid"),
        ({**body(), "facility_code": "医院"}, "validation_failed"),
    ]:  # fmt: skip
        refused = claims.client.post(API, json=bad, headers=me)
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
    assert claims.client.get(API, headers=me).json()["total"] == before


def test_a_unit_files_a_batch_each_with_its_outcome(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    unit_code = "91120101MA05K8Q4X9"
    first, second = asyncio.run(covered(migrated_database, unit_code)), asyncio.run(covered(migrated_database, unit_code))
    unit = claims.token(Role.unit, unit_id=unit_code)
    batch = {"claims": [{**body(), "person_id": str(first)}, {**body(), "person_id": str(second), "service_from": "2019-01-01",
                                                                 "receipts": [{**body()["receipts"][0], "issued_on": "2019-01-02"}]}]}  # fmt: skip
    answer = claims.client.post(f"{API}/batch", json=batch, headers=unit)
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert rows[0]["claim"]["status"] == "awaiting_materials" and rows[1]["problem"]["code"] == "not_eligible"
