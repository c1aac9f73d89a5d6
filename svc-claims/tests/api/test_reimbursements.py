"""Manual reimbursement through the claims API: filing with missing papers told at once, supplement,
acceptance, review, city approval with the same bill as a quote and its payment order, payment;
rejection and the corrected claim; who sees and does what; refusals write nothing; two approvals at
once; the overdue alert once; provisional due dates computed again when the year is published."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.auth import Principal, Role
from shared.calendar import NamedDay, YearTable, default_calendar, reset_default_calendar
from shared.db import UnitOfWork
from shared.errors import DomainError
from shared.projections import record_facility_if_newer
from shared.tables import outbox
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage
from svc_claims.models import benefit_settlements, facilities
from svc_claims.repository.coverage import Repository
from svc_claims.usecases import deadlines
from svc_claims.usecases import reimbursements as usecases

pytestmark = pytest.mark.integration

API = "/api/v1/claims/reimbursements"
OFFICE = "120101"
UNIT = "91120101MA05K8Q4X9"
CITY = Principal(subject="city-approver", role=Role.staff, office_code="120000", office_level="city")


def in_claims(
    database_url: str, work: Callable[[UnitOfWork], Awaitable[Any]], at: datetime | None = None
) -> Awaitable[Any]:
    """Run `work` in one unit of work on the claims schema (committed), at a fixed time."""
    return in_schema(database_url, "claims", work, at or datetime(2021, 6, 1, tzinfo=UTC))


def overdue_scan(uow: UnitOfWork) -> Awaitable[int]:
    return deadlines.announce_overdue(uow, usecases.APPLICATIONS)


def covered(
    database_url: str,
    unit_code: str | None = None,
    scheme: str = "resident",
    tier: str | None = "adult_middle",
    office: str = OFFICE,
) -> uuid.UUID:
    person = uuid.uuid4()
    coverage = Coverage(
        uuid.uuid4(), person, office, scheme, tier, date(2021, 1, 1), date(2021, 12, 31), unit_code
    )
    asyncio.run(in_claims(database_url, lambda uow: Repository(uow).record_coverage(coverage, uuid.uuid4())))
    return person


def events_of(database_url: str, claim_id: str) -> list[str]:
    async def read(uow: UnitOfWork) -> list[str]:
        query = (
            select(outbox.c.event_type)
            .where(outbox.c.envelope["payload"]["claim_id"].astext == claim_id)
            .order_by(outbox.c.id)
        )
        return list((await uow.session.execute(query)).scalars())

    return asyncio.run(in_claims(database_url, read))


# The registry as facility's events leave it in claims' projection (kind, level, office).
REGISTRY = [
    ("H12010100001", "medical_institution", 2),
    ("H12010100004", "medical_institution", None),
    ("L12010200001", "ltc_nursing", None),
]


@pytest.fixture(autouse=True, scope="module")
def registry(migrated_database: str) -> None:
    async def record(uow: UnitOfWork) -> None:
        for code, kind, level in REGISTRY:
            await record_facility_if_newer(
                uow, facilities,
                {"code": code, "name": f"示例机构{code[-5:]}", "kind": kind, "level": level, "office_code": OFFICE, "status": "designated",
                 "version": 1})  # fmt: skip

    asyncio.run(in_claims(migrated_database, record))


def body(**kw) -> dict:  # type: ignore[no-untyped-def]
    receipts = [
        {
            "number": f"R{uuid.uuid4().hex[:8]}",
            "issued_on": "2021-05-20",
            "amount": "30000.00",
            "in_scope": "26000.00",
            "out_of_scope": "4000.00",
        }
    ]
    return {"care_type": "inpatient", "facility_code": "H12010100001", "facility_level": 2, "service_from": "2021-05-10",
            "service_to": "2021-05-20", "receipts": receipts, "materials": ["receipts"], "bank_account": "6222021234567890123", **kw}  # fmt: skip


COMPLETE = ["receipts", "itemised_bill", "discharge_summary"]


def to_reviewed(claims, person: uuid.UUID, **kw) -> dict:  # type: ignore[no-untyped-def]
    """A complete claim filed by the person, accepted and reviewed (every receipt kept) by the district."""
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    filed = claims.client.post(
        API, json=body(materials=COMPLETE, **kw), headers=claims.token(Role.insured, person_id=person)
    )
    assert filed.status_code == 201, filed.text
    c = claims.client.post(f"{API}/{filed.json()['id']}/accept", json={"version": 1}, headers=district).json()
    lines = [
        {"receipt": r["number"], "outcome": "accepted", "accepted_in_scope": r["in_scope"]}
        for r in c["receipts"]
    ]
    c = claims.client.post(f"{API}/{c['id']}/review", json={"version": 2, "lines": lines}, headers=district)
    assert c.status_code == 200, c.text
    return c.json()


def test_the_whole_flow_pays_what_a_quote_gives(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database)
    me = claims.token(Role.insured, person_id=person)
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    city = claims.token(Role.staff, office_code="120000", office_level="city")

    filed = claims.client.post(API, json=body(), headers=me)
    assert filed.status_code == 201, filed.text
    c = filed.json()
    assert c["status"] == "awaiting_materials" and c["channel"] == "person"
    assert [m["code"] for m in c["missing_materials"]] == [
        "itemised_bill",
        "diagnosis_or_discharge_summary",
    ]  # all at once
    assert c["missing_materials"][1]["any_of"] == ["diagnosis", "discharge_summary"]
    assert c["bank_account"].endswith("0123") and "6222021234567890123" not in filed.text
    early = claims.client.post(f"{API}/{c['id']}/accept", json={"version": 1}, headers=district)
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"

    c = claims.client.post(
        f"{API}/{c['id']}/materials",
        json={"version": 1, "materials": ["itemised_bill", "discharge_summary"]},
        headers=me,
    ).json()
    assert c["status"] == "filed" and c["missing_materials"] == []
    c = claims.client.post(f"{API}/{c['id']}/accept", json={"version": 2}, headers=district).json()
    assert c["status"] == "accepted" and c["expected_payment_by"] and c["payment_order"] is None
    receipt = c["receipts"][0]["number"]
    lines = [
        {
            "receipt": receipt,
            "outcome": "reduced",
            "accepted_in_scope": "25000.00",
            "reason": "out_of_catalogue",
        }
    ]
    c = claims.client.post(
        f"{API}/{c['id']}/review", json={"version": 3, "lines": lines}, headers=district
    ).json()
    assert c["status"] == "reviewed" and c["review"][0]["reason_text"] == "超出基本医疗保险目录范围"
    refused = claims.client.post(f"{API}/{c['id']}/approve", json={"version": 4}, headers=district)
    assert refused.status_code == 403 and refused.json()["code"] == "city_level_required"
    approved = claims.client.post(f"{API}/{c['id']}/approve", json={"version": 4}, headers=city)
    assert approved.status_code == 200, approved.text
    bill, order = approved.json()["bill"], approved.json()["payment_order"]

    quote = claims.client.post("/api/v1/claims/quote", json={"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-20",
                                                            "admission_date": "2021-05-10", "facility_level": 2, "care_type": "inpatient",
                                                            "in_scope": "25000.00", "out_of_scope": "5000.00"}, headers=me).json()  # fmt: skip
    assert (bill["fund"], bill["person"], bill["total"]) == (quote["fund"], quote["person"], quote["total"])
    assert bill["fund"] == "18375.00"  # (25000 − 500) × 75% (level 2, adult middle), to the fen
    assert (
        order["status"] == "pending"
        and order["amount"] == f"{Decimal(bill['total']) - Decimal(bill['person']):.2f}"
    )
    assert order["pay_by"] == c["expected_payment_by"] and order["bank_account"].endswith("0123")
    paid = claims.client.post(
        f"{API}/{c['id']}/pay", json={"version": 5, "reference": "PAY-2021-1"}, headers=district
    ).json()
    assert paid["status"] == "paid" and [s["status"] for s in paid["steps"]][-1] == "paid"
    assert paid["payment_order"]["status"] == "paid" and paid["payment_order"]["reference"] == "PAY-2021-1"
    assert paid["steps"][0]["by"].startswith("insured") and all(s["at"] for s in paid["steps"])
    assert events_of(migrated_database, c["id"]) == ["claims.accepted", "claims.approved", "claims.paid"]

    # The same receipt cannot be reimbursed twice; the refusal names the claim and writes nothing.
    before = claims.client.get(API, headers=me).json()["total"]
    again = claims.client.post(
        API, json={**body(), "receipts": [{**body()["receipts"][0], "number": receipt}]}, headers=me
    )
    assert (
        again.status_code == 409
        and again.json()["existing_claim"] == c["id"]
        and again.json()["errors"][0]["field"] == "receipts"
    )
    assert claims.client.get(API, headers=me).json()["total"] == before


def test_two_approvals_at_once_one_wins(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database)
    claim_id = uuid.UUID(to_reviewed(claims, person)["id"])

    async def race() -> list[Any]:
        async def approve_once() -> Any:
            return await in_claims(
                migrated_database, lambda uow: usecases.approve(uow, CITY, claim_id, version=3)
            )

        return await asyncio.gather(approve_once(), approve_once(), return_exceptions=True)

    outcomes = asyncio.run(race())
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code == "version_conflict", outcomes
    settled = asyncio.run(in_claims(migrated_database, lambda uow: uow.session.scalar(
        select(func.count()).select_from(benefit_settlements).where(benefit_settlements.c.request["reimbursement"].astext == str(claim_id))
    )))  # fmt: skip
    assert settled == 1  # the person's year is used once
    year = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", params={"scheme": "resident"},
                             headers=claims.token(Role.staff, office_code=OFFICE, office_level="district")).json()  # fmt: skip
    assert year["stays"] == 1
    assert events_of(migrated_database, str(claim_id)).count("claims.approved") == 1


def test_a_rejected_claim_frees_its_receipts_for_one_corrected_claim(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database)
    me = claims.token(Role.insured, person_id=person)
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    first = claims.client.post(API, json=body(materials=COMPLETE), headers=me).json()
    refused = claims.client.post(
        f"{API}/{first['id']}/reject", json={"version": 1, "reason": "nonsense"}, headers=district
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.reason"
    rejected = claims.client.post(f"{API}/{first['id']}/reject", json={"version": 1, "reason": "materials_doubtful", "note": "票据印章不清"},
                                  headers=district).json()  # fmt: skip
    assert (
        rejected["status"] == "rejected"
        and rejected["steps"][-1]["note"] == "材料不实或无法核实：票据印章不清"
    )

    again = {**body(materials=COMPLETE), "receipts": first["receipts"], "resubmits": first["id"]}
    corrected = claims.client.post(API, json=again, headers=me)
    assert corrected.status_code == 201, corrected.text  # the receipts were freed by the rejection
    assert corrected.json()["resubmits"] == first["id"]
    assert (
        claims.client.get(f"{API}/{first['id']}", headers=me).json()["resubmitted_as"]
        == corrected.json()["id"]
    )
    twice = claims.client.post(API, json={**body(materials=COMPLETE), "resubmits": first["id"]}, headers=me)
    assert twice.status_code == 409 and twice.json()["existing_claim"] == corrected.json()["id"]
    not_rejected = claims.client.post(
        API, json={**body(materials=COMPLETE), "resubmits": corrected.json()["id"]}, headers=me
    )
    assert not_rejected.status_code == 409 and not_rejected.json()["code"] == "resubmission_invalid"
    someone_elses = claims.client.post(
        API, json={**body(materials=COMPLETE), "resubmits": first["id"]}, headers=claims.token(Role.insured)
    )
    assert someone_elses.status_code in (404, 422)  # another person's claim is not theirs to follow up

    # A reviewed claim waits for the city: the district cannot refuse it any more, the city can.
    reviewed = to_reviewed(claims, person)
    by_district = claims.client.post(
        f"{API}/{reviewed['id']}/reject", json={"version": 3, "reason": "third_party"}, headers=district
    )
    assert by_district.status_code == 403 and by_district.json()["code"] == "city_level_required"
    by_city = claims.client.post(f"{API}/{reviewed['id']}/reject", json={"version": 3, "reason": "third_party"},
                                 headers=claims.token(Role.staff, office_code="120000", office_level="city"))  # fmt: skip
    assert by_city.status_code == 200 and by_city.json()["rejection"] == "third_party"
    assert events_of(migrated_database, reviewed["id"]) == ["claims.accepted", "claims.rejected"]


def test_who_sees_and_does_what(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database, UNIT)
    unit = claims.token(Role.unit, unit_id=UNIT)
    filed = claims.client.post(
        API, json={**body(), "person_id": str(person), "account_owner": "unit"}, headers=unit
    )
    assert (
        filed.status_code == 201
        and filed.json()["channel"] == "unit"
        and filed.json()["account_owner"] == "unit"
    )
    claim_id = filed.json()["id"]
    me = claims.token(Role.insured, person_id=person)
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    other_district = claims.token(Role.staff, office_code="120103", office_level="district")
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    for token, status in [(me, 200), (unit, 200), (district, 200), (city, 200), (claims.token(Role.insured), 404),
                          (claims.token(Role.unit, unit_id="91120101MA05K8Q4Y0"), 404), (other_district, 404),
                          (claims.token(Role.ops), 403), (claims.token(Role.facility, facility_id="H12010100001"), 403)]:  # fmt: skip
        assert claims.client.get(f"{API}/{claim_id}", headers=token).status_code == status
    assert [c["id"] for c in claims.client.get(API, headers=unit).json()["items"]] == [claim_id]
    assert [c["id"] for c in claims.client.get(API, headers=me).json()["items"]] == [claim_id]
    assert claim_id not in [
        c["id"] for c in claims.client.get(API, params={"size": 100}, headers=other_district).json()["items"]
    ]
    assert (
        claims.client.get(API, params={"status": "awaiting_materials", "size": 100}, headers=city).json()[
            "total"
        ]
        >= 1
    )

    # The office's steps are staff's; another district's clerk does not find the claim at all.
    supplemented = claims.client.post(
        f"{API}/{claim_id}/materials",
        json={"version": 1, "materials": ["itemised_bill", "diagnosis"]},
        headers=unit,
    )
    assert supplemented.json()["status"] == "filed"
    for token, status in [(me, 403), (unit, 403), (other_district, 404)]:
        assert (
            claims.client.post(f"{API}/{claim_id}/accept", json={"version": 2}, headers=token).status_code
            == status
        )
    # Filing for someone else: a person only for themselves, a unit only for its employees, staff only their office's.
    stranger = covered(migrated_database)
    assert (
        claims.client.post(API, json={**body(), "person_id": str(stranger)}, headers=unit).status_code == 404
    )
    assert (
        claims.client.post(
            API, json={**body(), "person_id": str(stranger)}, headers=other_district
        ).status_code
        == 404
    )
    assert claims.client.post(API, json=body(), headers=claims.token(Role.ops)).status_code == 403

    # The unit reads its employee's eligibility (the coverage carries the unit code), another unit does not.
    by_unit = claims.client.get(
        f"/api/v1/claims/persons/{person}/eligibility", params={"on": "2021-05-15"}, headers=unit
    )
    assert (
        by_unit.status_code == 200
        and by_unit.json()["eligible"]
        and by_unit.json()["coverage"]["unit_code"] == UNIT
    )
    assert (
        claims.client.get(f"/api/v1/claims/persons/{stranger}/eligibility", headers=unit).status_code == 404
    )
    assert claims.client.get(f"/api/v1/claims/persons/{person}/eligibility",
                             headers=claims.token(Role.unit, unit_id="91120101MA05K8Q4Y0")).status_code == 404  # fmt: skip


def test_a_district_clerk_lists_only_their_districts_claims_and_city_staff_only_their_citys(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    """Lists ask the platform's policy for the offices the caller reaches, as single claims do."""
    filed: dict[str, str] = {}
    for office in ("120101", "120103", "130302"):  # 和平区, 河西区, 秦皇岛 海港区 (another region)
        person = covered(migrated_database, office=office)
        answer = claims.client.post(API, json=body(), headers=claims.token(Role.insured, person_id=person))
        assert answer.status_code == 201, answer.text
        filed[office] = answer.json()["id"]

    def listed(token: dict[str, str]) -> set[str]:
        page = claims.client.get(API, params={"size": 100}, headers=token).json()
        return {c["id"] for c in page["items"]}

    heping = listed(claims.token(Role.staff, office_code="120101", office_level="district"))
    assert filed["120101"] in heping and not heping & {filed["120103"], filed["130302"]}
    city = listed(claims.token(Role.staff, office_code="120000", office_level="city"))
    assert {filed["120101"], filed["120103"]} <= city and filed["130302"] not in city
    qinhuangdao = listed(claims.token(Role.staff, office_code="130300", office_level="city"))
    assert filed["130302"] in qinhuangdao and not qinhuangdao & {filed["120101"], filed["120103"]}
    assert claims.client.get(API, headers=claims.token(Role.ops)).status_code == 403


def test_staff_enter_claims_brought_by_a_township_centre_or_a_school(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database, tier="student_child")
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    for channel in ("township", "school", None):
        filed = claims.client.post(
            API, json={**body(), "person_id": str(person), "channel": channel}, headers=district
        )
        assert filed.status_code == 201 and filed.json()["channel"] == (channel or "counter"), filed.text
    missing_person = claims.client.post(API, json=body(), headers=district)
    assert missing_person.status_code == 422 and missing_person.json()["errors"][0]["field"] == "person_id"


def test_bad_input_is_refused_clearly_and_writes_nothing(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database)
    me = claims.token(Role.insured, person_id=person)
    before = claims.client.get(API, headers=me).json()["total"]
    receipt = body()["receipts"][0]
    for bad, status, code, field in [
        ({**body(), "service_from": "2020-12-20", "receipts": [{**receipt, "issued_on": "2020-12-21"}]}, 422, "not_eligible", "service_from"),
        ({**body(), "service_from": "2022-02-01", "service_to": "2022-02-03", "receipts": [{**receipt, "issued_on": "2022-02-02"}]},
         422, "not_eligible", "service_from"),  # after the benefit period
        ({**body(), "receipts": [{**receipt, "in_scope": "1.00"}]}, 422, "receipts_invalid", "receipts[0].in_scope"),
        ({**body(), "receipts": [{**receipt, "amount": "-5.00"}]}, 422, "validation_failed", None),
        ({**body(), "receipts": [{**receipt, "amount": "20000000.00", "in_scope": "20000000.00", "out_of_scope": "0.00"}]},
         422, "receipts_invalid", "receipts[0].amount"),
        ({**body(), "receipts": [{**receipt, "issued_on": "2021-06-01"}]}, 422, "receipts_invalid", "receipts[0].issued_on"),
        ({**body(), "receipts": [receipt, receipt]}, 422, "receipts_invalid", "receipts"),
        ({**body(), "service_to": "2021-05-01"}, 422, "receipts_invalid", "service_to"),
        ({**body(), "facility_code": "医院"}, 422, "validation_failed", None),
        ({**body(), "facility_level": 4}, 422, "validation_failed", None),
        ({**body(), "facility_code": "H99999900001"}, 422, "facility_unknown", "facility_code"),  # not in the registry
        ({**body(), "facility_code": "L12010200001"}, 422, "facility_unknown", "facility_code"),  # a nursing home is not for this
        ({**body(), "facility_level": 3}, 422, "facility_level_mismatch", "facility_level"),  # the registry says level 2
        ({**body(), "facility_code": "H12010100004", "facility_level": None}, 422, "facility_level_required", "facility_level"),
        ({**body(), "out_of_province": True, "facility_code": "H44010600001", "facility_level": None}, 422, "facility_level_required",
         "facility_level"),  # another province's hospital is not in this registry: its level is filed
        ({**body(), "care_type": "dental"}, 422, "validation_failed", None),
        ({**body(), "materials": ["receipts", "love_letter"]}, 422, "validation_failed", None),
        ({**body(), "bank_account": "12ab"}, 422, "validation_failed", None),
        ({**body(), "channel": "school"}, 422, "channel_not_allowed", "channel"),
        ({**body(), "account_owner": "unit"}, 422, "account_owner_invalid", "account_owner"),
        ({**body(), "resubmits": str(uuid.uuid4())}, 404, "not_found", None),
        ({**body(), "person_id": str(uuid.uuid4())}, None, None, None),  # ignored for a person: they file for themselves
    ]:  # fmt: skip
        refused = claims.client.post(API, json=bad, headers=me)
        if status is None:
            assert refused.status_code == 201 and refused.json()["person_id"] == str(person)
            before += 1
            continue
        problem = refused.json()
        assert refused.status_code == status and problem["code"] == code and problem["title"], refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        if field is not None:
            assert field in [e["field"] for e in problem["errors"]], problem
    assert claims.client.get(API, headers=me).json()["total"] == before


def test_a_unit_files_a_batch_each_with_its_outcome(claims, migrated_database) -> None:  # type: ignore[no-untyped-def]
    first, second = covered(migrated_database, UNIT), covered(migrated_database, UNIT)
    unit = claims.token(Role.unit, unit_id=UNIT)
    batch = {"claims": [{**body(), "person_id": str(first)}, {**body(), "person_id": str(second), "service_from": "2019-01-01",
                                                                 "receipts": [{**body()["receipts"][0], "issued_on": "2019-01-02"}]},
                        {**body(materials=COMPLETE), "person_id": str(second)}]}  # fmt: skip
    answer = claims.client.post(f"{API}/batch", json=batch, headers=unit)
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert [r["row"] for r in rows] == [1, 2, 3]
    assert rows[0]["claim"]["status"] == "awaiting_materials" and rows[1]["problem"]["code"] == "not_eligible"
    assert rows[2]["claim"]["status"] == "filed" and rows[2]["claim"]["channel"] == "unit"
    assert (
        claims.client.get(API, headers=claims.token(Role.insured, person_id=second)).json()["total"] == 1
    )  # the refused row wrote nothing
    assert (
        claims.client.post(
            f"{API}/batch", json=batch, headers=claims.token(Role.insured, person_id=first)
        ).status_code
        == 403
    )


def test_the_overdue_alert_is_raised_once_and_provisional_due_dates_follow_the_published_year(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database)
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    filed = claims.client.post(
        API, json=body(materials=COMPLETE), headers=claims.token(Role.insured, person_id=person)
    ).json()
    claims.business_date("2026-12-01")
    try:
        accepted = claims.client.post(
            f"{API}/{filed['id']}/accept", json={"version": 1}, headers=district
        ).json()
    finally:
        claims.business_date(None)
    # Dec 2–31 give 22 working days; 2027's notice is not bundled, so weekends and statutory holidays (1 Jan): 4–8, 11–13 Jan.
    assert (
        accepted["accepted_on"],
        accepted["expected_payment_by"],
        accepted["expected_payment_provisional"],
    ) == ("2026-12-01", "2027-01-13", True)

    default_calendar().load_year(
        YearTable(
            year=2027, holidays=[NamedDay(date=date(2027, 1, 1), name="元旦")], workdays=[], source="test"
        )
    )
    try:
        asyncio.run(
            in_claims(
                migrated_database,
                lambda uow: deadlines.recompute_provisional(uow, usecases.APPLICATIONS),
                datetime(2026, 12, 2, tzinfo=UTC),
            )
        )
    finally:
        reset_default_calendar()
    seen = claims.client.get(f"{API}/{filed['id']}", headers=district).json()
    assert (seen["expected_payment_by"], seen["expected_payment_provisional"]) == ("2027-01-13", False)

    on_the_day = datetime(2027, 1, 13, 4, tzinfo=UTC)  # the 30th working day itself is still in time
    after = datetime(2027, 1, 14, 4, tzinfo=UTC)
    asyncio.run(in_claims(migrated_database, overdue_scan, on_the_day))
    assert "claims.overdue" not in events_of(migrated_database, filed["id"])
    for _ in range(2):
        asyncio.run(in_claims(migrated_database, overdue_scan, after))
    assert events_of(migrated_database, filed["id"]).count("claims.overdue") == 1


def test_the_papers_and_reason_codes_are_published_for_the_apps(claims) -> None:  # type: ignore[no-untyped-def]
    answer = claims.client.get(f"{API}/reference", headers=claims.token(Role.insured))
    assert answer.status_code == 200, answer.text
    papers = {p["care_type"]: p for p in answer.json()["papers"]}
    assert [r["code"] for r in papers["inpatient"]["papers"]] == [
        "receipts",
        "itemised_bill",
        "diagnosis_or_discharge_summary",
    ]
    assert [r["code"] for r in papers["outpatient_large"]["remote_emergency_adds"]] == ["diagnosis"]
    assert (
        papers["inpatient"]["remote_emergency_adds"] == []
        and papers["inpatient"]["accident_adds"][0]["code"] == "accident_papers"
    )
    assert answer.json()["review_reasons"]["out_of_catalogue"] == "超出基本医疗保险目录范围"
    assert claims.client.get(f"{API}/reference", headers=claims.token(Role.ops)).status_code == 403


@pytest.mark.parametrize(("filing", "fund"), [
    # Level 2, adult middle: 75% locally, on 26,000 − 500 deductible = 25,500.
    (None, "16575.00"),  # no filing: self-referred to a level-2 hospital, self-pay +10 points → 65%
    ("referred", "17850.00"),  # referred: self-pay +5 points → 70%
    ("temporary_emergency", "19125.00"),  # an emergency on a trip: the local 75%
])  # fmt: skip
def test_care_in_another_province_follows_the_remote_care_filing(
    claims, migrated_database, filing: str | None, fund: str
) -> None:  # type: ignore[no-untyped-def]
    from svc_claims.domain.eligibility import Entitlement

    person = covered(migrated_database)
    if filing is not None:
        entitlement = Entitlement(
            uuid.uuid4(),
            person,
            "remote_care",
            (),
            date(2021, 5, 1),
            date(2021, 7, 30),
            "active",
            {"remote_class": filing},
        )
        asyncio.run(
            in_claims(migrated_database, lambda uow: Repository(uow).record_entitlement(entitlement, None))
        )
    reviewed = to_reviewed(claims, person, out_of_province=True)
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    approved = claims.client.post(
        f"{API}/{reviewed['id']}/approve", json={"version": reviewed["version"]}, headers=city
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["out_of_province"] is True
    assert approved.json()["bill"]["fund"] == fund


def test_the_level_comes_from_the_registry_and_the_newest_registry_event_wins(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    person = covered(migrated_database)
    me = claims.token(Role.insured, person_id=person)
    filed = claims.client.post(API, json={**body(), "facility_level": None}, headers=me)
    assert filed.status_code == 201 and filed.json()["facility_level"] == 2

    def record(level: int, version: int) -> Callable[[UnitOfWork], Awaitable[None]]:
        return lambda uow: record_facility_if_newer(
            uow, facilities,
            {"code": "H12010100009", "name": "示例医院", "kind": "medical_institution", "level": level, "office_code": OFFICE,
             "status": "designated", "version": version})  # fmt: skip

    for level, version in ((3, 2), (1, 1)):  # the older event arrives last: it must not undo the newer one
        asyncio.run(in_claims(migrated_database, record(level, version)))
    later = claims.client.post(
        API, json={**body(), "facility_code": "H12010100009", "facility_level": None}, headers=me
    )
    assert later.status_code == 201 and later.json()["facility_level"] == 3


def test_the_periodic_job_announces_every_overdue_claim_once_page_after_page(
    claims, migrated_database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from svc_claims.events.jobs import announce_overdue_claims

    monkeypatch.setattr(deadlines, "BATCH", 1)  # one claim a page: the scan must go on to the next page
    district = claims.token(Role.staff, office_code=OFFICE, office_level="district")
    filed = []
    for _ in range(3):
        person = covered(migrated_database)
        claim = claims.client.post(
            API, json=body(materials=COMPLETE), headers=claims.token(Role.insured, person_id=person)
        ).json()
        filed.append(claim["id"])
    claims.business_date("2021-06-01")
    try:
        for claim_id in filed:
            accepted = claims.client.post(f"{API}/{claim_id}/accept", json={"version": 1}, headers=district)
            assert accepted.status_code == 200, accepted.text
        claims.business_date("2021-08-02")  # past the 30th working day of every one of them
        runtime = claims.client.app.state.runtime
        for _ in range(2):  # a second run finds nothing left to announce
            claims.client.portal.call(announce_overdue_claims, runtime)  # type: ignore[union-attr]
    finally:
        claims.business_date(None)
    assert [events_of(migrated_database, claim_id).count("claims.overdue") for claim_id in filed] == [1, 1, 1]
