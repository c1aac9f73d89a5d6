"""Manual reimbursement through the gateway: a resident files a hospital bill in the app; the district
office accepts and reviews it, the city approves it, the payment order carries what a quote gives, and
the person follows it with the explanation and the expected payment date. (The people are covered for
2021, the year whose benefit rules are on file, rather than with ``covered_resident`` for this year.) A claim left unreviewed past
its 30th working day raises the overdue alert, once (business date moved forward)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest

from shared.events.relay import asyncpg_dsn
from shared.testing.e2e import bearer, covered_in_2021, new_resident_id, poll

pytestmark = pytest.mark.e2e

REG = "/api/v1/registration"
API = "/api/v1/claims/reimbursements"
OFFICE = "120101"
ZHANGSAN_ID = "120101199003071235"


# Hospitals of the sample registry (designated in svc-facility, known to claims by event), by level.
HOSPITAL = {1: "H12010100003", 2: "H12010100001", 3: "H12010100002"}


def bill(**kw) -> dict:  # type: ignore[no-untyped-def]
    receipt = {
        "number": f"ZY{uuid.uuid4().hex[:10]}",
        "issued_on": "2021-05-20",
        "amount": "42000.00",
        "in_scope": "38000.00",
        "out_of_scope": "4000.00",
    }
    return {"care_type": "inpatient", "facility_code": HOSPITAL[3], "service_from": "2021-05-10", "service_to": "2021-05-20",
            "receipts": [receipt], "materials": ["receipts", "itemised_bill", "diagnosis", "discharge_summary"],
            "bank_account": "6222021234567890123", **kw}  # fmt: skip


def test_a_resident_is_reimbursed_what_a_quote_gives(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    heping, city, me = (
        bearer(tokens["staff-heping"]),
        bearer(tokens["staff-city"]),
        bearer(tokens["zhangsan"]),
    )
    covered_in_2021(gateway, tokens["staff-heping"], OFFICE, ZHANGSAN_ID, "张三")
    filed = gateway.post(API, json=bill(), headers=me)
    assert filed.status_code == 201, filed.text
    claim = filed.json()
    assert claim["status"] == "filed" and claim["channel"] == "person"

    claim = gateway.post(f"{API}/{claim['id']}/accept", json={"version": 1}, headers=heping).json()
    due = date.fromisoformat(claim["expected_payment_by"])
    assert due > date.fromisoformat(claim["accepted_on"]) + timedelta(
        days=30
    )  # 30 working days are more than 30 days
    receipt = claim["receipts"][0]["number"]
    claim = gateway.post(f"{API}/{claim['id']}/review", json={"version": 2, "lines": [
        {"receipt": receipt, "outcome": "accepted", "accepted_in_scope": "38000.00"}]}, headers=heping).json()  # fmt: skip
    assert (
        gateway.post(f"{API}/{claim['id']}/approve", json={"version": 3}, headers=heping).status_code == 403
    )  # city level approves
    approved = gateway.post(f"{API}/{claim['id']}/approve", json={"version": 3}, headers=city)
    assert approved.status_code == 200, approved.text
    order = approved.json()["bill"]

    quote = gateway.post("/api/v1/claims/quote", json={"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-20",
                                                      "admission_date": "2021-05-10", "facility_level": 3, "care_type": "inpatient",
                                                      "in_scope": "38000.00", "out_of_scope": "4000.00"}, headers=me).json()  # fmt: skip
    assert (order["fund"], order["major_illness"], order["person"]) == (
        quote["fund"],
        quote["major_illness"],
        quote["person"],
    )
    assert order["fund"] == "26250.00"  # (38000 − 500) × 70% at level 3 for the middle tier
    # The approval produced the payment order: what the bill owes, to the masked account, by the due date.
    payment = approved.json()["payment_order"]
    assert (
        payment["status"] == "pending"
        and payment["pay_by"] == due.isoformat()
        and payment["bank_account"].endswith("0123")
    )
    assert (
        Decimal(payment["amount"]) == Decimal(order["total"]) - Decimal(order["person"])
        and payment["fund"] == quote["fund"]
    )

    # The person follows it: the explanation line by line and the date it will be paid by.
    seen = gateway.get(f"{API}/{claim['id']}", headers=me).json()
    assert seen["status"] == "approved" and seen["expected_payment_by"] == due.isoformat()
    assert {line["code"] for line in seen["bill"]["lines"]} >= {
        "deductible",
        "basic_fund",
        "coinsurance",
        "out_of_scope",
    }
    paid = gateway.post(
        f"{API}/{claim['id']}/pay", json={"version": 4, "reference": "BANK-20261122-01"}, headers=heping
    ).json()
    assert (
        paid["status"] == "paid"
        and paid["payment_order"]["status"] == "paid"
        and paid["payment_order"]["reference"] == "BANK-20261122-01"
    )
    assert gateway.get(f"{API}/{claim['id']}", headers=bearer(tokens["lisi"])).status_code == 404


async def overdue_events(admin_url: str, claim_id: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM claims.outbox WHERE event_type = 'claims.overdue' AND envelope->'payload'->>'claim_id' = $1",
            claim_id,
        )
    finally:
        await connection.close()


def test_a_claim_left_unreviewed_past_30_working_days_raises_the_overdue_alert(
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:  # type: ignore[no-untyped-def]
    heping, admin = bearer(tokens["staff-heping"]), bearer(tokens["admin"])
    person = covered_in_2021(gateway, tokens["staff-heping"], OFFICE, new_resident_id(OFFICE), "久候者")
    filed = gateway.post(API, json={**bill(), "person_id": person}, headers=heping).json()
    claim = gateway.post(f"{API}/{filed['id']}/accept", json={"version": 1}, headers=heping).json()
    due = date.fromisoformat(claim["expected_payment_by"])

    def overdue_count() -> int:
        status = gateway.get("/api/v1/ops/status", headers=bearer(tokens["ops"])).json()
        return next(d for d in status["deadlines"] if d["kind"] == "claim_payment")["overdue"]

    assert (
        gateway.put(
            "/api/v1/admin/business-date", json={"date": (due + timedelta(days=1)).isoformat()}, headers=admin
        ).status_code
        == 200
    )
    try:
        poll(lambda: overdue_count() >= 1, what="the ops page to count the overdue claim")
        poll(
            lambda: asyncio.run(overdue_events(test_servers.admin_url, claim["id"])) == 1,
            what="claims.overdue",
        )
        time.sleep(2.5)  # the scan runs every second here: two more runs announce nothing more
        assert asyncio.run(overdue_events(test_servers.admin_url, claim["id"])) == 1
        listed = gateway.get(API, params={"status": "accepted"}, headers=heping).json()["items"]
        assert claim["id"] in [c["id"] for c in listed]
    finally:
        gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=admin)


def reimburse(gateway: httpx.Client, tokens: dict[str, str], person: str, level: int, admitted: str, discharged: str,
              in_scope: str, out_of_scope: str = "0.00") -> dict:  # fmt: skip
    """File (at the counter), accept, review, approve and pay one inpatient claim; the approved bill."""
    heping, city = bearer(tokens["staff-heping"]), bearer(tokens["staff-city"])
    total = f"{Decimal(in_scope) + Decimal(out_of_scope):.2f}"
    receipt = {
        "number": f"ZY{uuid.uuid4().hex[:10]}",
        "issued_on": discharged,
        "amount": total,
        "in_scope": in_scope,
        "out_of_scope": out_of_scope,
    }
    filed = gateway.post(API, json={**bill(), "person_id": person, "facility_code": HOSPITAL[level], "service_from": admitted,
                                    "service_to": discharged, "receipts": [receipt]}, headers=heping)  # fmt: skip
    assert filed.status_code == 201, filed.text
    claim_id = filed.json()["id"]
    gateway.post(f"{API}/{claim_id}/accept", json={"version": 1}, headers=heping)
    lines = [{"receipt": receipt["number"], "outcome": "accepted", "accepted_in_scope": in_scope}]
    gateway.post(f"{API}/{claim_id}/review", json={"version": 2, "lines": lines}, headers=heping)
    approved = gateway.post(f"{API}/{claim_id}/approve", json={"version": 3}, headers=city)
    assert approved.status_code == 200, approved.text
    assert (
        gateway.post(
            f"{API}/{claim_id}/pay", json={"version": 4, "reference": f"PAY-{claim_id[:8]}"}, headers=heping
        ).json()["status"]
        == "paid"
    )
    return approved.json()["bill"]


def codes(bill_: dict) -> set[str]:
    return {line["code"] for line in bill_["lines"]}


def test_three_stays_in_a_year_deductible_once_then_the_cap_and_major_illness(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    person = covered_in_2021(gateway, tokens["staff-heping"], OFFICE, new_resident_id(OFFICE), "三次住院")
    first = reimburse(gateway, tokens, person, 2, "2021-03-01", "2021-03-10", "20000.00")
    assert "deductible" in codes(first) and first["fund"] == "14625.00"  # (20000 − 500) × 75%, level 2
    second = reimburse(gateway, tokens, person, 3, "2021-06-01", "2021-06-12", "30000.00")
    assert "deductible" not in codes(second) and "deductible_waived.second_stay" in codes(second)
    assert second["fund"] == "21000.00"  # 30000 × 70%, level 3, no deductible
    heping = bearer(tokens["staff-heping"])
    year = gateway.get(
        f"/api/v1/claims/persons/{person}/benefit-years/2021", params={"scheme": "resident"}, headers=heping
    ).json()
    assert year["stays"] == 2 and year["fund_paid"] == "35625.00"
    # The third stay: the fund pays up to the 180,000 cap (35,625 already paid this year), then major-illness
    # insurance, whose 2021 threshold is a sample value: the quote shows it, flagged; the approval refuses it.
    third = gateway.post("/api/v1/claims/quote", headers=heping, json={
        "scheme": "resident", "tier": "adult_middle", "service_date": "2021-10-20", "admission_date": "2021-09-01", "facility_level": 3,
        "care_type": "inpatient", "in_scope": "300000.00", "ytd": year}).json()  # fmt: skip
    assert third["fund"] == "144375.00" and "over_cap" in codes(third)
    assert (
        any(code.startswith("major_illness") for code in codes(third))
        and Decimal(third["major_illness"]) > 0
        and third["sample"] is True
    )
    receipt = {
        "number": f"ZY{uuid.uuid4().hex[:10]}",
        "issued_on": "2021-10-20",
        "amount": "300000.00",
        "in_scope": "300000.00",
        "out_of_scope": "0.00",
    }
    filed = gateway.post(API, json={**bill(), "person_id": person, "service_from": "2021-09-01", "service_to": "2021-10-20", "receipts": [receipt]},
                         headers=heping).json()  # fmt: skip
    gateway.post(f"{API}/{filed['id']}/accept", json={"version": 1}, headers=heping)
    lines = [{"receipt": receipt["number"], "outcome": "accepted", "accepted_in_scope": "300000.00"}]
    gateway.post(f"{API}/{filed['id']}/review", json={"version": 2, "lines": lines}, headers=heping)
    refused = gateway.post(
        f"{API}/{filed['id']}/approve", json={"version": 3}, headers=bearer(tokens["staff-city"])
    )
    assert refused.status_code == 422 and refused.json()["code"] == "sample_policy_data"
    after = gateway.get(
        f"/api/v1/claims/persons/{person}/benefit-years/2021", params={"scheme": "resident"}, headers=heping
    ).json()
    assert after["stays"] == 2 and after["fund_paid"] == "35625.00"  # nothing settled


def test_a_subsistence_allowance_recipients_bill_includes_assistance(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    # Special groups are enrolled by city-level staff only.
    person = covered_in_2021(
        gateway,
        tokens["staff-city"],
        OFFICE,
        new_resident_id(OFFICE),
        "低保户",
        tier="adult_low",
        special_groups=[
            {
                "group": "subsistence",
                "department": "civil_affairs",
                "document_number": "津民低保 2020-01",
                "valid_from": "2020-09-01",
            }
        ],
    )
    # 20,000 in scope keeps the burden below the (halved) major-illness threshold, a sample value that is not paid.
    assisted = reimburse(gateway, tokens, person, 2, "2021-05-01", "2021-05-15", "20000.00")
    assert Decimal(assisted["assistance"]) > 0 and any(
        code.startswith("assistance") for code in codes(assisted)
    )
    shares = sum(Decimal(assisted[k]) for k in ("fund", "major_illness", "assistance", "veterans", "person"))
    assert shares == Decimal(assisted["total"])  # to the fen
