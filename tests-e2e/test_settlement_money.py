"""Settlement money through the gateway: a correction of January after February was paid is applied and what
February now lacks is carried into March as an adjustment line; the superseded January cannot be approved; a
declaration for a care type without a budget is flagged to staff with its deadline; retries are answered once;
another office, a facility account without a facility and ops see nothing of it.

The demo hospital's resident insurance in last year's months is used here (test_settlement.py uses its employee
insurance in the last two months), so the two files never touch the same tables."""

from __future__ import annotations

import uuid

import httpx
import pytest

from shared.testing.e2e import assert_problem, bearer, business_today, poll

pytestmark = pytest.mark.e2e

S = "/api/v1/settlement"
DEMO_HOSPITAL = "H12010100001"
YEAR = business_today().year - 1  # every month of it has ended


def period(month: int) -> str:
    return f"{YEAR:04d}-{month:02d}"


def declare(
    gateway: httpx.Client, facility: dict, month: int, pooled: str, care_type: str = "inpatient", **extra
) -> httpx.Response:  # type: ignore[no-untyped-def]
    body = {"period": period(month), "insurance_type": "resident",
            "lines": [{"care_type": care_type, "origin": "local", "pooled_fund": pooled}], **extra}  # fmt: skip
    return gateway.post(f"{S}/declarations", json=body, headers=facility)


def table(gateway: httpx.Client, headers: dict, month: int, care_type: str = "inpatient") -> dict:
    items = gateway.get(
        f"{S}/clearings", params={"period": period(month), "facility_code": DEMO_HOSPITAL}, headers=headers
    ).json()["items"]
    return next(i for i in items if i["insurance_type"] == "resident" and i["care_type"] == care_type)


def value(t: dict, n: int) -> str:
    return t["lines"][n - 1]["value"]


def run(gateway: httpx.Client, clerk: dict, month: int) -> dict:
    answer = gateway.post(
        f"{S}/clearings/run", json={"period": period(month), "facility_code": DEMO_HOSPITAL}, headers=clerk
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def settle(gateway: httpx.Client, clerk: dict, city: dict, t: dict, retry_payment: bool = False) -> dict:
    url, version = f"{S}/clearings/{t['id']}", t["version"]
    for action, headers in (("review", clerk), ("approve", city), ("pay", city)):
        keyed = {**headers, "Idempotency-Key": f"e2e-{action}-{uuid.uuid4().hex}"}
        answer = gateway.post(f"{url}/{action}", json={"version": version}, headers=keyed)
        assert answer.status_code == 200, answer.text
        if (
            action == "pay" and retry_payment
        ):  # the same payment order sent again: the first answer, no second payment
            again = gateway.post(f"{url}/{action}", json={"version": version}, headers=keyed)
            assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
            assert again.json()["payment"]["order_no"] == answer.json()["payment"]["order_no"]
        version = answer.json()["version"]
    return answer.json()


@pytest.fixture(scope="module")
def resident_inpatient_budget(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    """120,000 a year (10,000 a month) for the demo hospital's resident inpatients, once the registry reached settlement."""
    body = {"facility_code": DEMO_HOSPITAL, "year": YEAR, "insurance_type": "resident", "care_type": "inpatient", "total": "120000.00",
            "reason": "年度总额指标下达（测试）"}  # fmt: skip
    poll(lambda: gateway.post(f"{S}/budgets", json=body, headers=bearer(tokens["staff-heping"])).status_code == 200,
         what="the registry to reach settlement")  # fmt: skip


def test_a_correction_of_january_after_february_was_paid_is_applied_and_carried_into_march(
    gateway: httpx.Client, tokens: dict[str, str], resident_inpatient_budget: None
) -> None:
    facility, clerk, city = (
        bearer(tokens["facility-demo"]),
        bearer(tokens["staff-heping"]),
        bearer(tokens["staff-city"]),
    )
    assert declare(gateway, facility, 1, "8000.00").status_code == 201
    assert declare(gateway, facility, 2, "11000.00").status_code == 201
    run(gateway, clerk, 2)
    january = table(gateway, clerk, 1)
    assert value(january, 41) == "7600.00"
    february = settle(gateway, clerk, city, table(gateway, clerk, 2), retry_payment=True)
    assert february["payment"]["amount"] == "10450.00"

    corrected = declare(gateway, facility, 1, "12000.00", replaces_version=1, reason="漏报住院费用")
    assert corrected.status_code == 201, corrected.text
    january_now = table(gateway, clerk, 1)
    assert (january_now["declaration_version"], value(january_now, 9), value(january_now, 41)) == (
        2,
        "12000.00",
        "9500.00",
    )
    # The superseded January (7,600.00 on version 1) cannot be approved.
    reviewed = gateway.post(
        f"{S}/clearings/{january_now['id']}/review", json={"version": january_now["version"]}, headers=clerk
    ).json()
    stale = gateway.post(
        f"{S}/clearings/{january['id']}/approve",
        json={"version": reviewed["version"], "declaration_version": 1},
        headers=city,
    )
    assert_problem(stale, 409, "declaration_superseded")

    # February stays paid; what it now lacks (it pays 9,500.00 from January's new carries) is March's adjustment line.
    assert table(gateway, clerk, 2)["status"] == "paid"
    assert declare(gateway, facility, 3, "5000.00").status_code == 201
    run(gateway, clerk, 3)
    march = table(gateway, clerk, 3)
    assert [(a["period"], a["amount"]) for a in march["adjustments"]] == [(period(2), "-950.00")]
    assert (value(march, 13), value(march, 41), march["payable"]) == ("3000.00", "7600.00", "6650.00")
    paid_march = settle(gateway, clerk, city, march)
    approved = gateway.post(
        f"{S}/clearings/{january_now['id']}/approve",
        json={"version": reviewed["version"], "declaration_version": 2},
        headers=city,
    )
    assert approved.status_code == 200, approved.text
    paid_january = gateway.post(
        f"{S}/clearings/{january_now['id']}/pay", json={"version": approved.json()["version"]}, headers=city
    ).json()
    # Paid in all: 9,500 + 10,450 + 6,650 = what the latest declarations compute to: 9,500 + 9,500 + 7,600.
    assert [
        paid_january["payment"]["amount"],
        february["payment"]["amount"],
        paid_march["payment"]["amount"],
    ] == ["9500.00", "10450.00", "6650.00"]
    # The facility reads its March table with the adjustment line; another district's clerk does not find it.
    assert table(gateway, facility, 3)["payable"] == "6650.00"
    assert (
        gateway.get(f"{S}/clearings/{march['id']}", headers=bearer(tokens["staff-hexi"])).status_code == 404
    )


def test_a_declaration_for_a_care_type_without_a_budget_is_flagged_to_staff_with_its_deadline(
    gateway: httpx.Client, tokens: dict[str, str], resident_inpatient_budget: None
) -> None:
    facility, clerk = bearer(tokens["facility-demo"]), bearer(tokens["staff-heping"])
    declared = declare(gateway, facility, 6, "2400.00", care_type="special_disease")
    assert declared.status_code == 201, declared.text
    [flag] = declared.json()["flags"]
    assert (
        flag["code"] == "no_budget"
        and flag["care_type"] == "special_disease"
        and flag["due_on"] > flag["starts_on"]
    )
    listed = gateway.get(
        f"{S}/declarations", params={"flagged": "true", "period": period(6)}, headers=clerk
    ).json()["items"]
    assert [d["id"] for d in listed] == [declared.json()["id"]] and listed[0]["flags"][0]["due_on"] == flag[
        "due_on"
    ]
    assert (
        gateway.get(
            f"{S}/declarations", params={"flagged": "true"}, headers=bearer(tokens["staff-hexi"])
        ).json()["items"]
        == []
    )
    skipped = run(gateway, clerk, 6)["skipped"]
    assert [
        (s["facility_code"], s["care_type"], s["code"]) for s in skipped if s["insurance_type"] == "resident"
    ] == [(DEMO_HOSPITAL, "special_disease", "no_budget")]


def test_a_staff_entry_sent_twice_with_one_key_is_recorded_once(
    gateway: httpx.Client, tokens: dict[str, str], resident_inpatient_budget: None
) -> None:
    clerk = {**bearer(tokens["staff-heping"]), "Idempotency-Key": f"e2e-entry-{uuid.uuid4().hex}"}
    entry = {"facility_code": DEMO_HOSPITAL, "period": period(9), "insurance_type": "resident", "care_type": "inpatient",
             "kind": "smart_audit_rejection", "amount": "120.00", "reason": "超限价收费"}  # fmt: skip
    first, second = (gateway.post(f"{S}/entries", json=entry, headers=clerk) for _ in range(2))
    assert first.status_code == second.status_code == 201 and second.json()["id"] == first.json()["id"]
    entries = gateway.get(
        f"{S}/entries", params={"facility_code": DEMO_HOSPITAL, "period": period(9)}, headers=clerk
    ).json()["items"]
    assert [e["id"] for e in entries if e["insurance_type"] == "resident"] == [first.json()["id"]]


def test_another_office_a_facility_account_without_a_facility_and_ops_reach_nothing(
    gateway: httpx.Client, tokens: dict[str, str], resident_inpatient_budget: None
) -> None:
    hexi, ops, no_facility = (
        bearer(tokens["staff-hexi"]),
        bearer(tokens["ops"]),
        bearer(tokens["pharmacy-applicant"]),
    )
    budget = {"facility_code": DEMO_HOSPITAL, "year": YEAR, "insurance_type": "resident", "care_type": "outpatient", "total": "1.00",
              "reason": "越权"}  # fmt: skip
    assert_problem(gateway.post(f"{S}/budgets", json=budget, headers=hexi), 404, "not_found")
    entry = {"facility_code": DEMO_HOSPITAL, "period": period(9), "insurance_type": "resident", "care_type": "inpatient",
             "kind": "other_payment", "amount": "1.00", "reason": "越权"}  # fmt: skip
    assert_problem(gateway.post(f"{S}/entries", json=entry, headers=hexi), 404, "not_found")
    assert_problem(
        gateway.post(
            f"{S}/clearings/run", json={"period": period(9), "facility_code": DEMO_HOSPITAL}, headers=hexi
        ),
        404,
        "not_found",
    )
    assert (
        gateway.get(f"{S}/declarations", params={"facility_code": DEMO_HOSPITAL}, headers=hexi).json()[
            "items"
        ]
        == []
    )
    assert gateway.get(f"{S}/declarations", headers=no_facility).json()["items"] == []
    assert (
        gateway.get(f"{S}/clearings", params={"facility_code": DEMO_HOSPITAL}, headers=no_facility).json()[
            "total"
        ]
        == 0
    )
    assert gateway.get(f"{S}/declarations", headers=ops).status_code == 403
    assert gateway.get(f"{S}/clearings", headers=ops).status_code == 403
