"""Settlement in order: corrections reach the tables (or the next open month when a later one is paid), only the
latest declaration version is approved or paid, declarations without a budget are flagged, retries are
answered once, and another office's facility is not there."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from shared.auth import Role

# `settlement` (a Harness) comes from this folder's conftest.

pytestmark = pytest.mark.integration

S = "/api/v1/settlement"


def new_code() -> str:
    return f"H{uuid.uuid4().int % 10**11:011d}"


def value(table: dict, n: int) -> str:
    return table["lines"][n - 1]["value"]


def test_a_correction_of_january_after_february_was_paid_is_applied_and_carried_into_march(
    settlement,
) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    h.set_budget(code, "120000.00")  # 10,000 a month: the quota binds
    h.today(date(2026, 4, 10))
    assert h.declare(code, "2026-01", "8000.00").status_code == 201
    assert h.declare(code, "2026-02", "11000.00").status_code == 201
    h.run(code, "2026-02")
    january = h.table(code, "2026-01")
    assert value(january, 41) == "7600.00"
    paid_february = h.settle(h.table(code, "2026-02"))
    assert paid_february["payment"]["amount"] == "10450.00"  # 11,000 within 10,000 + January's 2,000 surplus

    corrected = h.declare(code, "2026-01", "12000.00", replaces_version=1, reason="漏报住院费用")
    assert corrected.status_code == 201, corrected.text
    # The correction is applied at once: January is computed again from version 2.
    january_now = h.table(code, "2026-01")
    assert (
        january_now["declaration_version"] == 2
        and value(january_now, 9) == "12000.00"
        and value(january_now, 41) == "9500.00"
    )
    # The superseded January (version 1, 7,600.00) can no longer be reviewed, approved or paid.
    for action in ("review", "approve", "pay"):
        stale = h.client.post(f"{S}/clearings/{january['id']}/{action}", json={"version": january_now["version"], "declaration_version": 1},
                              headers=h.district() if action == "review" else h.city())  # fmt: skip
        assert stale.status_code == 409 and stale.json()["code"] == "declaration_superseded", stale.text
        assert stale.headers["content-type"].startswith("application/problem+json")
    # February stays paid as it was; what it now lacks (it would pay 9,500.00 from January's new carries) goes
    # into the next open month as an adjustment line.
    february = h.table(code, "2026-02")
    assert february["status"] == "paid" and value(february, 41) == "10450.00"
    assert h.declare(code, "2026-03", "5000.00").status_code == 201
    h.run(code, "2026-03")
    march = h.table(code, "2026-03")
    assert march["adjustments"] == [
        {"period": "2026-02", "amount": "-950.00", "reason": march["adjustments"][0]["reason"]}
    ]
    # March itself starts from February as it should have been: 3,000 of excess deferred, no surplus.
    assert (value(march, 2), value(march, 13), value(march, 41), march["payable"]) == (
        "0.00",
        "3000.00",
        "7600.00",
        "6650.00",
    )
    paid_march = h.settle(march)
    paid_january = h.settle(h.table(code, "2026-01"))
    assert (paid_january["payment"]["amount"], paid_march["payment"]["amount"]) == ("9500.00", "6650.00")

    async def paid_for_each_month() -> dict[str, str]:
        async with h.runtime.uow() as uow:
            rows = await uow.session.execute(
                text(
                    "SELECT period, sum(amount) FROM payments WHERE facility_code = :code GROUP BY period ORDER BY period"
                ),
                {"code": code},
            )
            return {period: format(amount, "f") for period, amount in rows}

    # What was paid for each month is what its latest declaration computes to: 9,500 + 9,500 + 7,600.
    assert h.call(paid_for_each_month) == {"2026-01": "9500.00", "2026-02": "9500.00", "2026-03": "7600.00"}


def test_a_paid_month_cannot_be_paid_again_and_its_table_is_paid_once_in_the_database(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    h.set_budget(code, "120000.00")
    h.today(date(2026, 4, 10))
    h.declare(code, "2026-01", "8000.00")
    h.run(code, "2026-01")
    paid = h.settle(h.table(code, "2026-01"))
    again = h.client.post(
        f"{S}/clearings/{paid['id']}/pay", json={"version": paid["version"]}, headers=h.city()
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    async def second_payment_row() -> str:
        async with h.runtime.uow() as uow:
            try:
                await uow.session.execute(text(
                    "INSERT INTO payments (id, clearing_id, facility_code, period, insurance_type, care_type, declaration_version, kind, amount, "
                    "order_no, paid_on, paid_by) SELECT gen_random_uuid(), gen_random_uuid(), facility_code, period, insurance_type, care_type, "
                    "declaration_version, kind, amount, order_no || 'X', paid_on, paid_by FROM payments WHERE clearing_id = :id"
                ), {"id": paid["id"]})  # fmt: skip
            except Exception as error:  # the unique violation is the point
                return type(getattr(error, "orig", error)).__name__
            return "inserted"

    assert "UniqueViolation" in h.call(second_payment_row)


def test_a_correction_recomputes_its_month_and_the_months_after_it_that_are_open(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    h.set_budget(code, "120000.00")
    h.today(date(2026, 4, 10))
    h.declare(code, "2026-01", "8000.00")
    h.declare(code, "2026-02", "11000.00")
    h.run(code, "2026-02")
    reviewed = h.client.post(
        f"{S}/clearings/{h.table(code, '2026-02')['id']}/review", json={"version": 1}, headers=h.district()
    )
    assert reviewed.status_code == 200
    assert h.declare(code, "2026-01", "12000.00", replaces_version=1).status_code == 201
    february = h.table(code, "2026-02")
    # February follows January's new carries, and its review (of figures that changed) is void.
    assert (value(february, 2), value(february, 13), value(february, 41), february["status"]) == (
        "0.00",
        "2000.00",
        "9500.00",
        "computed",
    )
    assert february["steps"][-1]["action"] == "reset"


def test_a_table_computed_before_a_new_entry_must_be_cleared_again_before_approval(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    h.set_budget(code, "120000.00")
    h.today(date(2026, 4, 10))
    h.declare(code, "2026-01", "8000.00")
    h.run(code, "2026-01")
    table = h.table(code, "2026-01")
    entry = {"facility_code": code, "period": "2026-01", "insurance_type": "employee", "care_type": "inpatient",
             "kind": "smart_audit_rejection", "amount": "1000.00", "reason": "超限价收费"}  # fmt: skip
    assert h.client.post(f"{S}/entries", json=entry, headers=h.district()).status_code == 201
    stale = h.client.post(
        f"{S}/clearings/{table['id']}/review", json={"version": table["version"]}, headers=h.district()
    )
    assert stale.status_code == 409 and stale.json()["code"] == "clearing_stale"
    h.run(code, "2026-01")
    assert value(h.settle(h.table(code, "2026-01")), 41) == "6650.00"


def test_a_declaration_for_a_care_type_without_a_budget_is_flagged_to_staff_with_its_deadline(
    settlement,
) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    h.set_budget(code, "120000.00", care_type="inpatient")
    h.today(date(2026, 4, 10))
    declared = h.declare(code, "2026-03", "3000.00", care_type="outpatient")
    assert declared.status_code == 201
    [flag] = declared.json()["flags"]
    assert (flag["code"], flag["care_type"], flag["starts_on"]) == ("no_budget", "outpatient", "2026-04-10")
    assert flag["due_on"] > "2026-05-15" and flag["overdue"] is False and "总额指标" in flag["message"]
    run = h.run(code, "2026-03")
    assert {
        "facility_code": code,
        "insurance_type": "employee",
        "care_type": "outpatient",
        "code": "no_budget",
    }.items() <= run["skipped"][0].items()
    flagged = h.client.get(f"{S}/declarations", params={"flagged": "true"}, headers=h.district()).json()[
        "items"
    ]
    assert [d["id"] for d in flagged if d["facility_code"] == code] == [declared.json()["id"]]
    elsewhere = h.client.get(
        f"{S}/declarations", params={"flagged": "true"}, headers=h.district("120103")
    ).json()["items"]
    assert all(d["facility_code"] != code for d in elsewhere)
    # Once the office sets the budget the flag goes and the month is cleared.
    h.set_budget(code, "60000.00", care_type="outpatient")
    assert (
        h.client.get(f"{S}/declarations/{declared.json()['id']}", headers=h.district()).json()["flags"] == []
    )
    h.run(code, "2026-03")
    assert value(h.table(code, "2026-03", "outpatient"), 9) == "3000.00"


def test_every_money_moving_post_answers_a_retry_with_the_first_answer(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    h.today(date(2026, 4, 10))

    def twice(path: str, body: dict, headers: dict, status: int = 200) -> dict:
        keyed = {**headers, "Idempotency-Key": f"retry-{uuid.uuid4().hex}"}
        first = h.client.post(f"{S}{path}", json=body, headers=keyed)
        second = h.client.post(f"{S}{path}", json=body, headers=keyed)
        assert first.status_code == status, first.text
        assert second.status_code == status and second.headers.get("Idempotent-Replayed") == "true", (
            second.text
        )
        assert second.json() == first.json()
        return first.json()

    twice("/budgets", {"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "inpatient",
                       "total": "120000.00", "reason": "下达"}, h.district())  # fmt: skip
    twice("/declarations", {"period": "2026-01", "insurance_type": "employee",
                            "lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": "8000.00"}]}, h.facility(code), 201)  # fmt: skip
    entry = {"facility_code": code, "period": "2026-01", "insurance_type": "employee", "care_type": "inpatient",
             "kind": "other_payment", "amount": "100.00", "reason": "其他支付"}  # fmt: skip
    twice("/entries", entry, h.district(), 201)
    assert (
        h.client.get(f"{S}/entries", params={"facility_code": code}, headers=h.district()).json()["total"]
        == 1
    )
    twice("/clearings/run", {"period": "2026-01", "facility_code": code}, h.district())
    table = h.table(code, "2026-01")
    reviewed = twice(f"/clearings/{table['id']}/review", {"version": table["version"]}, h.district())
    approved = twice(f"/clearings/{table['id']}/approve", {"version": reviewed["version"]}, h.city())
    paid = twice(f"/clearings/{table['id']}/pay", {"version": approved["version"]}, h.city())
    assert paid["payment"]["amount"] == "7700.00"
    h.set_budget(code, "120000.00", year=2027)
    twice("/assessments", {"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "inpatient",
                           "score_ratio": "1", "book_in": "2027-01", "reason": "年度考核"}, h.district(), 201)  # fmt: skip


@pytest.mark.parametrize("path", ["/budgets", "/entries", "/assessments", "/clearings/run"])
def test_another_offices_facility_is_not_found_for_staff_before_any_other_check(
    settlement, path: str
) -> None:
    h, code = settlement, new_code()
    h.designate(code, office="120101")
    h.today(date(2026, 4, 10))
    bodies = {
        "/budgets": {"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "inpatient", "total": "1.00", "reason": "越权"},
        "/entries": {"facility_code": code, "period": "2026-01", "insurance_type": "employee", "care_type": "inpatient",
                     "kind": "other_payment", "amount": "1.00", "reason": "越权"},
        "/assessments": {"facility_code": code, "year": 2025, "insurance_type": "employee", "care_type": "inpatient",
                         "score_ratio": "1.5", "book_in": "2026-01", "reason": "越权"},  # a bad ratio too: the office check comes first
        "/clearings/run": {"period": "2026-12", "facility_code": code},  # a month not ended too
    }  # fmt: skip
    other = h.client.post(f"{S}{path}", json=bodies[path], headers=h.district("120103"))
    unknown = h.client.post(
        f"{S}{path}", json={**bodies[path], "facility_code": new_code()}, headers=h.district("120103")
    )
    for answer in (other, unknown):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", answer.text
        assert (
            answer.json()["title"] == other.json()["title"]
        )  # the same answer: another's facility is not told apart


def test_a_facility_sees_only_its_own_declarations_budgets_entries_and_tables(settlement) -> None:
    h, mine, theirs = settlement, new_code(), new_code()
    for code in (mine, theirs):
        h.designate(code)
        h.set_budget(code, "120000.00")
    h.today(date(2026, 4, 10))
    declared = h.declare(theirs, "2026-01", "8000.00").json()
    h.run(theirs, "2026-01")
    table, budget = (
        h.table(theirs, "2026-01"),
        h.client.get(f"{S}/budgets", params={"facility_code": theirs}, headers=h.district()).json()["items"][
            0
        ],
    )
    me = h.facility(mine)
    for path in (f"/declarations/{declared['id']}", f"/clearings/{table['id']}", f"/clearings/{table['id']}/history",
                 f"/clearings/{table['id']}/document.pdf", f"/clearings/{table['id']}/table.csv", f"/budgets/{budget['id']}"):  # fmt: skip
        assert h.client.get(f"{S}{path}", headers=me).status_code == 404, path
    for path in ("/declarations", "/budgets", "/entries"):
        listed = h.client.get(f"{S}{path}", params={"facility_code": theirs}, headers=me).json()["items"]
        assert all(item["facility_code"] == mine for item in listed), path
    assert h.client.get(f"{S}/clearings", params={"facility_code": theirs}, headers=me).json()["total"] == 0
    assert h.client.post(
        f"{S}/clearings/{table['id']}/review", json={"version": 1}, headers=me
    ).status_code in (403, 404)
    # Operations staff read no settlement data at all.
    ops = h.token(Role.ops)
    assert h.client.get(f"{S}/declarations", headers=ops).status_code == 403
    assert h.client.get(f"{S}/clearings/{table['id']}", headers=ops).status_code in (403, 404)


def test_the_ops_page_counts_a_declaration_without_a_budget_past_its_payment_limit(settlement) -> None:
    from svc_settlement.usecases.clearings import payment_deadlines

    h, code = settlement, new_code()
    h.designate(code)

    async def overdue() -> int:
        async with h.runtime.uow() as uow:
            return (await payment_deadlines(uow)).overdue

    h.today(date(2026, 4, 10))
    assert h.declare(code, "2026-03", "3000.00", care_type="special_disease").status_code == 201
    h.today(date(2026, 7, 1))  # past the 30 working days from 2026-04-10
    with_it = h.call(overdue)
    h.set_budget(
        code, "12000.00", care_type="special_disease"
    )  # now it has a budget: no longer flagged, and no table yet
    assert h.call(overdue) == with_it - 1
