"""Settled bills use the person's year so far, and two bills settled at once never both take the
deductible or together pass the cap."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from shared.projections import record_facility_if_newer
from svc_claims.domain.benefits import QuoteContext
from svc_claims.domain.eligibility import Coverage
from svc_claims.models import facilities
from svc_claims.repository.coverage import Repository
from svc_claims.repository.policies import load_policy
from svc_claims.usecases import eligibility as usecases

pytestmark = pytest.mark.integration

CLERK = Principal(subject="clerk", role=Role.staff, office_code="120101", office_level="district")
SERVICE_DATE = date(2021, 5, 10)


def stay(in_scope: str) -> QuoteContext:
    return QuoteContext(
        scheme="resident",
        tier="adult_middle",
        facility_level=2,
        care_type="inpatient",
        in_scope=Decimal(in_scope),
    )


async def covered_person(sessions) -> uuid.UUID:  # type: ignore[no-untyped-def]
    person = uuid.uuid4()
    async with UnitOfWork(sessions, FixedClock(datetime(2021, 5, 10, tzinfo=UTC)), "claims") as uow:
        coverage = Coverage(
            uuid.uuid4(), person, "120101", "resident", "adult_middle", date(2021, 1, 1), date(2021, 12, 31)
        )
        await Repository(uow).record_coverage(coverage, uuid.uuid4())
        await record_facility_if_newer(
            uow, facilities,
            {"code": "H12010100001", "name": "示例医院", "kind": "medical_institution", "level": 2, "office_code": "120101",
             "status": "designated", "version": 1})  # fmt: skip
        await uow.commit()
    return person


async def settle_at_once(
    migrated_database: str, amounts: list[str], allow_sample: bool = False, first: tuple[str, ...] = ()
) -> tuple[list, object]:
    """`first` settled one after the other, then `amounts` all at once; the bills of `amounts` and the year."""
    engine = make_engine(
        service_database_url(migrated_database, "claims"), pool_size=len(amounts) + 1, schema="claims"
    )
    sessions = make_session_factory(engine)
    policy = load_policy("120000", "resident", 2021)
    try:
        person = await covered_person(sessions)

        async def one(amount: str):  # type: ignore[no-untyped-def]
            async with UnitOfWork(sessions, FixedClock(datetime(2021, 5, 10, tzinfo=UTC)), "claims") as uow:
                _, bill = await usecases.settle_bill(
                    uow, CLERK, person, service_date=SERVICE_DATE, context=stay(amount), policy=policy,
                    request={"in_scope": amount}, allow_sample=allow_sample,
                )  # fmt: skip
                await uow.commit()
                return bill

        for amount in first:
            await one(amount)
        bills = await asyncio.gather(*(one(a) for a in amounts))
        async with UnitOfWork(sessions, FixedClock(datetime(2021, 5, 10, tzinfo=UTC)), "claims") as uow:
            year = await Repository(uow).read_benefit_year(person, "resident", 2021)
        return bills, year
    finally:
        await engine.dispose()


def deductible_of(bill) -> Decimal:  # type: ignore[no-untyped-def]
    return sum(
        (line.amount for line in bill.lines if "deductible" in line.code and line.payer == "person"),
        Decimal("0"),
    )


def test_two_bills_settled_at_once_take_the_deductible_once(migrated_database: str) -> None:
    bills, year = asyncio.run(settle_at_once(migrated_database, ["10500.00", "10500.00"]))
    assert sorted(deductible_of(b) for b in bills) == [Decimal("0"), Decimal("500.00")]
    assert year.stays == 2 and year.deductible_used == Decimal("500.00")
    assert year.fund_paid == sum((b.fund for b in bills), Decimal("0"))


def test_bills_of_a_year_already_begun_settled_at_once_are_both_counted(migrated_database: str) -> None:
    # A first stay alone (300, all of it deductible); then two stays at once: both are later stays of the
    # year (the deductible waived), and the year counts all three stays and both payments (none lost).
    bills, year = asyncio.run(settle_at_once(migrated_database, ["10500.00", "10500.00"], first=("300.00",)))
    assert [line.code for b in bills for line in b.lines if "deductible" in line.code] == [
        "deductible_waived.second_stay"
    ] * 2
    assert year.stays == 3 and year.deductible_used == Decimal("300.00")
    assert year.fund_paid == sum((b.fund for b in bills), Decimal("0")) == Decimal("15750.00")


def test_bills_settled_at_once_never_pass_the_cap_together(migrated_database: str) -> None:
    # Such bills reach major illness, whose 2021 threshold is a sample value: allowed here as in a demo.
    bills, year = asyncio.run(settle_at_once(migrated_database, ["100000.00"] * 4, allow_sample=True))
    total_fund = sum((b.fund for b in bills), Decimal("0"))
    assert total_fund == year.fund_paid == Decimal("180000.00")  # 4 × 75% of 100,000 would be far more


def test_the_settlement_endpoint_records_the_year_and_refuses_what_it_must(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "facility_code": "H12010100001", "receipt_no": "ZY-ENDPOINT-1"}  # fmt: skip
    url = f"/api/v1/claims/persons/{person}/settlements"
    first = claims.client.post(url, json=body, headers=staff)
    assert first.status_code == 201, first.text
    assert first.json()["fund"] == "7500.00" and first.json()["accumulators"]["stays"] == 1
    own = claims.client.get(
        f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=claims.token(person_id=person)
    )
    assert own.status_code == 200 and own.json()["deductible_used"] == "500.00"
    other = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=claims.token())
    assert other.status_code == 404
    assert claims.client.post(url, json=body, headers=claims.token(person_id=person)).status_code == 403
    assert claims.client.post(url, json={**body, "ytd": {"stays": 0}}, headers=staff).status_code == 422
    stranger = claims.client.post(
        f"/api/v1/claims/persons/{uuid.uuid4()}/settlements", json=body, headers=staff
    )
    assert stranger.status_code == 404  # a person unknown to the office's records: 404 before any other check
    again = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff)
    assert again.json()["stays"] == 1  # the refused requests changed nothing


def test_a_new_year_starts_with_what_the_last_one_carries_in(migrated_database: str) -> None:
    # 2021: one outpatient visit of 300 (all deductible, no claim). 2022 (the 2021 rules, re-keyed, stand in for
    # the 2022 file): a claim-free year lowers the outpatient deductible to 400, and 4,000 − 300 = 3,700 is carried.
    # 2022 visit of 1,500: 400 deductible, 1,100 × 50% = 550.
    async def run():  # type: ignore[no-untyped-def]
        engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=2, schema="claims")
        sessions = make_session_factory(engine)
        policy = load_policy("120000", "resident", 2021)
        try:
            person = uuid.uuid4()
            async with UnitOfWork(sessions, FixedClock(datetime(2021, 5, 10, tzinfo=UTC)), "claims") as uow:
                for start, end in (
                    (date(2021, 1, 1), date(2021, 12, 31)),
                    (date(2022, 1, 1), date(2022, 12, 31)),
                ):
                    coverage = Coverage(
                        uuid.uuid4(), person, "120101", "resident", "adult_middle", start, end
                    )
                    await Repository(uow).record_coverage(coverage, uuid.uuid4())
                await uow.commit()
            visit = QuoteContext(
                scheme="resident",
                tier="adult_middle",
                facility_level=1,
                care_type="outpatient",
                in_scope=Decimal("300.00"),
            )
            async with UnitOfWork(sessions, FixedClock(datetime(2021, 5, 10, tzinfo=UTC)), "claims") as uow:
                await usecases.settle_bill(
                    uow,
                    CLERK,
                    person,
                    service_date=date(2021, 5, 10),
                    context=visit,
                    policy=policy,
                    request={},
                )
                await uow.commit()
            async with UnitOfWork(sessions, FixedClock(datetime(2022, 3, 1, tzinfo=UTC)), "claims") as uow:
                _, bill = await usecases.settle_bill(uow, CLERK, person, service_date=date(2022, 3, 1),
                                                     context=replace(visit, in_scope=Decimal("1500.00")),
                                                     policy=policy.model_copy(update={"year": 2022}), request={})  # fmt: skip
                await uow.commit()
            return bill
        finally:
            await engine.dispose()

    bill = asyncio.run(run())
    assert bill.fund == Decimal("550.00")
    assert bill.accumulators.claim_free_years == 1 and bill.accumulators.carried_over_cap == Decimal(
        "3700.00"
    )


def test_settlement_refuses_another_scheme_or_tier_than_the_coverage(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_high", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "facility_code": "H12010100001", "receipt_no": "ZY-MISMATCH-1"}  # fmt: skip
    url = f"/api/v1/claims/persons/{person}/settlements"
    wrong_tier = claims.client.post(url, json=body, headers=staff)
    assert wrong_tier.status_code == 422 and wrong_tier.json()["code"] == "tier_mismatch"
    wrong_scheme = claims.client.post(
        url, json={**body, "scheme": "employee", "tier": "in_service"}, headers=staff
    )
    assert wrong_scheme.status_code == 422 and wrong_scheme.json()["code"] == "scheme_mismatch"
    year = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff).json()
    assert year["stays"] == 0  # nothing was settled


def test_another_districts_clerk_neither_reads_the_year_nor_settles_a_bill(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))  # a person of 和平区 (120101)
    asyncio.run(engine.dispose())
    hexi = claims.token(Role.staff, office_code="120103", office_level="district")
    heping = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "receipt_no": "ZY-ACCESS-1", "facility_code": "H12010100001"}  # fmt: skip
    url = f"/api/v1/claims/persons/{person}/settlements"
    read = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=hexi)
    assert read.status_code == 404 and read.headers["content-type"].startswith("application/problem+json")
    booked = claims.client.post(url, json=body, headers=hexi)
    assert booked.status_code == 404, booked.text
    wrong_tier = claims.client.post(url, json={**body, "tier": "adult_high"}, headers=hexi)
    assert (
        wrong_tier.status_code == 404 and "adult_middle" not in wrong_tier.text
    )  # the real tier is not revealed
    no_policy = claims.client.post(url, json={**body, "service_date": "2031-05-10"}, headers=hexi)
    assert no_policy.status_code == 404  # not the policy's 422 either
    assert (
        claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=heping).json()[
            "stays"
        ]
        == 0
    )
    city = claims.token(Role.staff, office_code="120000", office_level="city")
    assert (
        claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=city).status_code
        == 200
    )


def test_a_wrong_tier_is_refused_without_revealing_the_recorded_one(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    heping = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_high", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "receipt_no": "ZY-TIER-1", "facility_code": "H12010100001"}  # fmt: skip
    wrong = claims.client.post(f"/api/v1/claims/persons/{person}/settlements", json=body, headers=heping)
    assert wrong.status_code == 422 and wrong.json()["code"] == "tier_mismatch"
    assert "adult_middle" not in wrong.text


def test_a_settlement_sent_twice_counts_the_stay_once(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "facility_code": "H12010100001", "receipt_no": "ZY-RETRY-1"}  # fmt: skip
    url = f"/api/v1/claims/persons/{person}/settlements"
    first = claims.client.post(url, json=body, headers=staff)
    assert first.status_code == 201, first.text
    again = claims.client.post(url, json=body, headers=staff)  # a retry without a key: the same receipt
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other_amount = claims.client.post(url, json={**body, "in_scope": "20000.00"}, headers=staff)
    assert other_amount.status_code == 409 and other_amount.json()["code"] == "duplicate_receipt"
    keyed = {**staff, "Idempotency-Key": f"settle-{uuid.uuid4()}"}
    second = claims.client.post(url, json={**body, "receipt_no": "ZY-RETRY-2"}, headers=keyed)
    replay = claims.client.post(url, json={**body, "receipt_no": "ZY-RETRY-2"}, headers=keyed)
    assert (
        second.status_code == 201 and replay.status_code == 201 and replay.json()["id"] == second.json()["id"]
    )
    year = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff).json()
    assert year["stays"] == 2  # two receipts, each counted once (not 1 → 3 → 5)


def test_a_receipt_settled_is_not_reimbursed_again_by_hand(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "facility_code": "H12010100001", "receipt_no": "ZY-BOTH-1"}  # fmt: skip
    assert (
        claims.client.post(
            f"/api/v1/claims/persons/{person}/settlements", json=body, headers=staff
        ).status_code
        == 201
    )
    receipt = {
        "number": "ZY-BOTH-1",
        "issued_on": "2021-05-10",
        "amount": "10500.00",
        "in_scope": "10500.00",
        "out_of_scope": "0.00",
    }
    claim = {"care_type": "inpatient", "facility_code": "H12010100001", "service_from": "2021-05-01", "service_to": "2021-05-10",
             "receipts": [receipt], "bank_account": "6222021234567890123"}  # fmt: skip
    filed = claims.client.post(
        "/api/v1/claims/reimbursements", json=claim, headers=claims.token(Role.insured, person_id=person)
    )
    assert filed.status_code == 409 and filed.json()["code"] == "duplicate_receipt"


def test_a_bill_using_sample_policy_data_is_quoted_but_not_settled(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    # 100,000 in scope: the person's burden passes the major-illness threshold, a sample value in the 2021 file.
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "100000.00", "facility_code": "H12010100001", "receipt_no": "ZY-SAMPLE-1"}  # fmt: skip
    quoted = claims.client.post("/api/v1/claims/quote", json={k: v for k, v in body.items() if k not in ("facility_code", "receipt_no")},
                                headers=staff)  # fmt: skip
    assert quoted.status_code == 200 and quoted.json()["sample"] is True
    refused = claims.client.post(f"/api/v1/claims/persons/{person}/settlements", json=body, headers=staff)
    assert refused.status_code == 422 and refused.json()["code"] == "sample_policy_data"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (
        claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff).json()[
            "stays"
        ]
        == 0
    )
    small = claims.client.post(
        f"/api/v1/claims/persons/{person}/settlements", json={**body, "in_scope": "10500.00"}, headers=staff
    )
    assert (
        small.status_code == 201 and small.json()["sample"] is False
    )  # the receipt was not taken by the refusal


def test_the_same_settlement_sent_twice_at_once_is_settled_once(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
    person = asyncio.run(covered_person(make_session_factory(engine)))
    asyncio.run(engine.dispose())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "facility_code": "H12010100001", "receipt_no": "ZY-AT-ONCE-1"}  # fmt: skip
    url = f"/api/v1/claims/persons/{person}/settlements"

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=claims.client.app), base_url="http://claims"
        ) as client:
            return list(
                await asyncio.gather(
                    client.post(url, json=body, headers=staff), client.post(url, json=body, headers=staff)
                )
            )

    answers = claims.client.portal.call(both)
    assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert (
        claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff).json()[
            "stays"
        ]
        == 1
    )


def remote_care_filed(migrated_database: str, person: uuid.UUID, remote_class: str) -> None:
    """Registration's remote-care filing as claims records it (registration.benefit_registered)."""
    from svc_claims.domain.eligibility import Entitlement

    async def record() -> None:
        engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
        try:
            async with UnitOfWork(
                make_session_factory(engine), FixedClock(datetime(2021, 5, 1, tzinfo=UTC)), "claims"
            ) as uow:
                entitlement = Entitlement(uuid.uuid4(), person, "remote_care", (), date(2021, 5, 1), date(2021, 7, 30),
                                          "active", {"remote_class": remote_class})  # fmt: skip
                await Repository(uow).record_entitlement(entitlement, None)
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(record())


def settled_person(migrated_database: str) -> uuid.UUID:
    async def cover() -> uuid.UUID:
        engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
        try:
            return await covered_person(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(cover())


REMOTE_STAY = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 3,
               "care_type": "inpatient", "in_scope": "20500.00", "facility_code": "H12010100001"}  # fmt: skip


def test_a_settlement_of_care_away_from_home_takes_the_remote_class_from_the_records(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    person = settled_person(migrated_database)
    remote_care_filed(migrated_database, person, "referred")
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    url = f"/api/v1/claims/persons/{person}/settlements"

    typed_otherwise = claims.client.post(
        url, json={**REMOTE_STAY, "remote": "resident_remote", "receipt_no": "YD-1"}, headers=staff
    )
    assert typed_otherwise.status_code == 422 and typed_otherwise.json()["code"] == "remote_class_mismatch"
    assert "referred" not in typed_otherwise.text  # the recorded class is not told
    recorded = claims.client.post(
        url, json={**REMOTE_STAY, "remote": "referred", "receipt_no": "YD-1"}, headers=staff
    )
    assert recorded.status_code == 201, recorded.text
    stay = {k: v for k, v in REMOTE_STAY.items() if k != "facility_code"}
    quoted = claims.client.post("/api/v1/claims/quote", json={**stay, "remote": "referred"}, headers=staff)
    assert quoted.status_code == 200, quoted.text
    # the settlement is the quote of the recorded facts
    assert recorded.json()["fund"] == quoted.json()["fund"]
    local = claims.client.post("/api/v1/claims/quote", json=stay, headers=staff)
    assert Decimal(recorded.json()["fund"]) < Decimal(local.json()["fund"])  # referred: +5 self-pay points


def test_without_a_remote_care_filing_care_away_from_home_is_settled_as_self_referred_only(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    person = settled_person(migrated_database)
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    url = f"/api/v1/claims/persons/{person}/settlements"

    claimed_referral = claims.client.post(
        url, json={**REMOTE_STAY, "remote": "referred", "receipt_no": "YD-2"}, headers=staff
    )
    assert claimed_referral.status_code == 422 and claimed_referral.json()["code"] == "remote_class_mismatch"
    year = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff)
    assert year.json()["stays"] == 0  # refused: nothing settled, the receipt not held
    self_referred = claims.client.post(
        url, json={**REMOTE_STAY, "remote": "self_referred", "receipt_no": "YD-2"}, headers=staff
    )
    assert self_referred.status_code == 201, self_referred.text


def family_doctor_signed(migrated_database: str, person: uuid.UUID, signed_on: date) -> None:
    """Registration's family-doctor signing as claims records it (registration.benefit_registered)."""
    from svc_claims.domain.eligibility import Entitlement

    async def record() -> None:
        engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
        try:
            async with UnitOfWork(
                make_session_factory(engine), FixedClock(datetime(2021, 5, 1, tzinfo=UTC)), "claims"
            ) as uow:
                entitlement = Entitlement(uuid.uuid4(), person, "family_doctor", ("H12010100001",), signed_on, None,
                                          "active", {"signed_on": signed_on.isoformat()})  # fmt: skip
                await Repository(uow).record_entitlement(entitlement, None)
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(record())


OUTPATIENT_VISIT = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 1,
                    "care_type": "outpatient", "in_scope": "3000.00", "facility_code": "H12010100001"}  # fmt: skip


def test_an_unsigned_person_is_not_given_the_family_doctor_benefit_even_when_the_request_says_so(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    person = settled_person(migrated_database)
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    url = f"/api/v1/claims/persons/{person}/settlements"

    claimed = claims.client.post(
        url,
        json={**OUTPATIENT_VISIT, "family_doctor_signed_on": "2021-01-15", "receipt_no": "JT-1"},
        headers=staff,
    )
    assert claimed.status_code == 422 and claimed.json()["code"] == "family_doctor_mismatch", claimed.text
    year = claims.client.get(f"/api/v1/claims/persons/{person}/benefit-years/2021", headers=staff)
    assert Decimal(year.json()["outpatient_fund_paid"]) == 0  # refused: nothing settled
    plain = claims.client.post(url, json={**OUTPATIENT_VISIT, "receipt_no": "JT-1"}, headers=staff)
    assert plain.status_code == 201, plain.text
    visit = {k: v for k, v in OUTPATIENT_VISIT.items() if k != "facility_code"}
    unsigned = claims.client.post("/api/v1/claims/quote", json=visit, headers=staff).json()
    assert plain.json()["fund"] == unsigned["fund"]


def test_a_signed_person_is_settled_with_the_recorded_signing_and_a_typed_other_date_is_refused(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    person = settled_person(migrated_database)
    family_doctor_signed(migrated_database, person, date(2021, 3, 1))
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    url = f"/api/v1/claims/persons/{person}/settlements"

    other_date = claims.client.post(
        url,
        json={**OUTPATIENT_VISIT, "family_doctor_signed_on": "2021-01-15", "receipt_no": "JT-2"},
        headers=staff,
    )
    assert other_date.status_code == 422 and other_date.json()["code"] == "family_doctor_mismatch"
    assert "2021-03-01" not in other_date.text  # the recorded signing is not told
    untyped = claims.client.post(url, json={**OUTPATIENT_VISIT, "receipt_no": "JT-2"}, headers=staff)
    assert untyped.status_code == 201, untyped.text
    visit = {k: v for k, v in OUTPATIENT_VISIT.items() if k != "facility_code"}
    signed = claims.client.post(
        "/api/v1/claims/quote", json={**visit, "family_doctor_signed_on": "2021-03-01"}, headers=staff
    ).json()
    unsigned = claims.client.post("/api/v1/claims/quote", json=visit, headers=staff).json()
    assert untyped.json()["fund"] == signed["fund"]  # the settlement is the quote of the recorded facts
    assert Decimal(signed["fund"]) > Decimal(unsigned["fund"])  # +5 points and +200 from the month after


def test_a_renewed_family_doctor_signing_keeps_the_benefit_from_the_first_signing(
    claims, migrated_database: str
) -> None:  # type: ignore[no-untyped-def]
    from svc_claims.domain.eligibility import Entitlement

    person = settled_person(migrated_database)
    first, renewal = uuid.uuid4(), uuid.uuid4()

    async def record() -> None:
        engine = make_engine(service_database_url(migrated_database, "claims"), pool_size=1, schema="claims")
        try:
            async with UnitOfWork(
                make_session_factory(engine), FixedClock(datetime(2021, 5, 1, tzinfo=UTC)), "claims"
            ) as uow:
                repo = Repository(uow)
                await repo.record_entitlement(Entitlement(first, person, "family_doctor", ("H12010100001",),
                                                          date(2021, 1, 4), None, "active", {}), None)  # fmt: skip
                await repo.record_entitlement(Entitlement(renewal, person, "family_doctor", ("H12010100001",),
                                                          date(2021, 5, 1), None, "active", {}), first)  # fmt: skip
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(record())
    staff = claims.token(Role.staff, office_code="120101", office_level="district")
    settled = claims.client.post(
        f"/api/v1/claims/persons/{person}/settlements",
        json={**OUTPATIENT_VISIT, "receipt_no": "JT-3"},
        headers=staff,
    )
    assert settled.status_code == 201, settled.text
    visit = {k: v for k, v in OUTPATIENT_VISIT.items() if k != "facility_code"}
    continuous = claims.client.post(
        "/api/v1/claims/quote", json={**visit, "family_doctor_signed_on": "2021-01-04"}, headers=staff
    ).json()
    from_renewal = claims.client.post(
        "/api/v1/claims/quote", json={**visit, "family_doctor_signed_on": "2021-05-01"}, headers=staff
    ).json()
    assert settled.json()["fund"] == continuous["fund"]
    assert Decimal(continuous["fund"]) > Decimal(from_renewal["fund"])  # not restarted in the renewal's month
