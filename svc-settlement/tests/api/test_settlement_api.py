"""Budgets, declarations, the clearing and its way to payment, through the service's API on real Postgres."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

# `settlement` (a Harness) comes from this folder's conftest.

pytestmark = pytest.mark.integration


def new_code() -> str:
    return f"H{uuid.uuid4().int % 10**11:011d}"


S = "/api/v1/settlement"


def budget(h, code: str, total: str = "1200000.00", **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "inpatient", "total": total,
            "reason": "2026年度总额指标下达", **extra}  # fmt: skip
    response = h.client.post(f"{S}/budgets", json=body, headers=h.district())
    assert response.status_code == 200, response.text
    return response.json()


def declaration(code: str | None, period: str, pooled: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    return {"facility_code": code, "period": period, "insurance_type": "employee",
            "lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": pooled, "personal_account": "100.00"}], **extra}  # fmt: skip


def line(clearing: dict, n: int) -> str:
    return clearing["lines"][n - 1]["value"]


def clearing_of(h, code: str, period: str, headers: dict | None = None) -> dict:
    page = h.client.get(
        f"{S}/clearings", params={"facility_code": code, "period": period}, headers=headers or h.district()
    ).json()
    [item] = [i for i in page["items"] if i["care_type"] == "inpatient"]
    return item


def test_budgets_split_evenly_or_by_pattern_and_every_change_is_recorded(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    first = budget(h, code)
    assert first["quotas"] == ["100000.00"] * 12 and first["version"] == 1
    again = h.client.post(f"{S}/budgets", json={"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "inpatient",
                                                 "total": "1000.00", "reason": "调整"}, headers=h.district())  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "version_conflict"
    changed = budget(h, code, total="1300000.00", weights=[1] * 11 + [2], reason="年中追加指标", version=1)
    assert (
        changed["version"] == 2
        and changed["quotas"][11] == "200000.00"
        and changed["quotas"][0] == "100000.00"
    )
    detail = h.client.get(f"{S}/budgets/{changed['id']}", headers=h.district()).json()
    assert [(c["version"], c["reason"], c["by"]) for c in detail["history"]] == [
        (1, "2026年度总额指标下达", "staff-120101"),
        (2, "年中追加指标", "staff-120101"),
    ]
    # Another district's clerk may not set it; the facility reads its own.
    other = h.client.post(f"{S}/budgets", json={"facility_code": code, "year": 2027, "insurance_type": "employee",
                          "care_type": "inpatient", "total": "1.00", "reason": "越权"}, headers=h.district("120103"))  # fmt: skip
    assert other.status_code == 404 and other.json()["title"]  # another office's facility is not there
    assert [b["id"] for b in h.client.get(f"{S}/budgets", headers=h.facility(code)).json()["items"]] == [
        changed["id"]
    ]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"facility_code": "H99999999999"}, 403, "not_own_facility"),
        ({"period": "2026-04"}, 422, "period_not_ended"),
        ({"period": "2026-05"}, 422, "period_not_ended"),
        (
            {"lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": "-1.00"}]},
            422,
            "validation_failed",
        ),
        (
            {"lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": "1.005"}]},
            422,
            "validation_failed",
        ),
        (
            {
                "bills": [
                    {"bill_no": "B1", "care_type": "inpatient", "origin": "local", "pooled_fund": "1.00"}
                ]
            },
            422,
            "totals_mismatch",
        ),
    ],
)
def test_bad_declarations_are_refused_with_a_reason_and_nothing_is_saved(
    settlement, change: dict, status: int, code: str
) -> None:
    h, facility = settlement, new_code()
    h.designate(facility)
    h.today(date(2026, 4, 10))
    response = h.client.post(
        f"{S}/declarations",
        json={**declaration(facility, "2026-03", "500.00"), **change},
        headers=h.facility(facility),
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["title"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["title"])
    assert h.client.get(f"{S}/declarations", headers=h.facility(facility)).json()["items"] == []


def test_a_facility_not_designated_cannot_declare(settlement) -> None:
    h, facility = settlement, new_code()
    h.designate(facility)
    h.designate(facility, status="suspended", version=2)
    h.designate(facility, status="designated", version=1)  # an older event arriving late changes nothing
    response = h.client.post(
        f"{S}/declarations", json=declaration(facility, "2026-03", "1.00"), headers=h.facility(facility)
    )
    assert response.status_code == 409 and response.json()["code"] == "facility_not_designated"


def test_declare_clear_correct_recompute_approve_and_pay(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    budget(h, code)  # 100,000 a month
    h.today(date(2026, 4, 10))
    bills = [{"bill_no": f"B{i}", "care_type": "inpatient", "origin": "local", "pooled_fund": "40000.00", "personal_account": "100.00" if i == 0 else "0"}
             for i in range(3)]  # fmt: skip
    feb = h.client.post(
        f"{S}/declarations",
        json=declaration(None, "2026-02", "120000.00", bills=bills),
        headers=h.facility(code),
    )
    assert feb.status_code == 201, feb.text
    assert feb.json()["bill_count"] == 3 and feb.json()["totals"]["inpatient"]["pooled_claims"] == "120000.00"
    keyed = {**h.facility(code), "Idempotency-Key": f"k-{code}-03"}
    mar = h.client.post(f"{S}/declarations", json=declaration(None, "2026-03", "70000.00"), headers=keyed)
    assert mar.status_code == 201
    replay = h.client.post(f"{S}/declarations", json=declaration(None, "2026-03", "70000.00"), headers=keyed)
    assert replay.json()["id"] == mar.json()["id"] and replay.headers.get("Idempotent-Replayed") == "true"
    dup = h.client.post(
        f"{S}/declarations", json=declaration(None, "2026-03", "1.00"), headers=h.facility(code)
    )
    assert dup.status_code == 409 and dup.json()["code"] == "declaration_exists"

    # Clearing March clears February first (January had no budget use: nothing declared, quota rolls over).
    run = h.client.post(
        f"{S}/clearings/run", json={"period": "2026-03", "facility_code": code}, headers=h.district()
    ).json()
    assert run["created"] == 3 and run["conflicts"] == []
    jan, feb_c, mar_c = (clearing_of(h, code, p) for p in ("2026-01", "2026-02", "2026-03"))
    assert line(jan, 18) == "100000.00"
    assert (line(feb_c, 8), line(feb_c, 15), line(feb_c, 19)) == ("200000.00", "120000.00", "0.00")
    assert (line(mar_c, 2), line(mar_c, 8), line(mar_c, 15), line(mar_c, 16), line(mar_c, 17)) == (
        "80000.00",
        "180000.00",
        "70000.00",
        "3500.00",
        "66500.00",
    )
    assert line(mar_c, 41) == "66600.00"
    fifteen = mar_c["lines"][14]
    assert fifteen["formula"] == "min(L14, L8)" and fifteen["sources"] == {
        "L14": "70000.00",
        "L8": "180000.00",
    }
    assert mar_c["reserve_rate"] == "0.0500" and mar_c["reserve_rate_is_sample"] is True

    # Running it again changes nothing.
    again = h.client.post(
        f"{S}/clearings/run", json={"period": "2026-03", "facility_code": code}, headers=h.district()
    ).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert clearing_of(h, code, "2026-03")["version"] == mar_c["version"]

    # A corrected February (a new version) changes February and March at once, not January; a run then finds nothing to do.
    corrected = h.client.post(f"{S}/declarations", json=declaration(None, "2026-02", "250000.00", replaces_version=1, reason="漏报"),
                              headers=h.facility(code))  # fmt: skip
    assert corrected.status_code == 201 and corrected.json()["version"] == 2
    rerun = h.client.post(
        f"{S}/clearings/run", json={"period": "2026-02", "facility_code": code}, headers=h.district()
    ).json()
    assert (rerun["created"], rerun["updated"], rerun["unchanged"]) == (0, 0, 2)
    feb_c, mar_c = clearing_of(h, code, "2026-02"), clearing_of(h, code, "2026-03")
    assert (line(feb_c, 15), line(feb_c, 19)) == ("200000.00", "50000.00")
    assert (line(mar_c, 13), line(mar_c, 14), line(mar_c, 15)) == ("50000.00", "120000.00", "100000.00")
    assert clearing_of(h, code, "2026-01")["version"] == 1
    history = h.client.get(f"{S}/clearings/{mar_c['id']}/history", headers=h.district()).json()["items"]
    assert [x["cause"] for x in history] == ["首次清算", "2026-02 更正申报（第2版）后顺延"]

    # Staff enter a smart-audit rejection; the facility cannot.
    entry = {"facility_code": code, "period": "2026-03", "insurance_type": "employee", "care_type": "inpatient",
             "kind": "smart_audit_rejection", "amount": "2000.00", "reason": "超限价收费"}  # fmt: skip
    assert h.client.post(f"{S}/entries", json=entry, headers=h.facility(code)).status_code == 403
    assert (
        h.client.post(f"{S}/entries", json={**entry, "amount": "-5"}, headers=h.district()).status_code == 422
    )
    assert h.client.post(f"{S}/entries", json=entry, headers=h.district()).status_code == 201
    h.client.post(
        f"{S}/clearings/run", json={"period": "2026-03", "facility_code": code}, headers=h.district()
    )
    mar_c = clearing_of(h, code, "2026-03")
    assert (line(mar_c, 11), line(mar_c, 14)) == ("2000.00", "118000.00")

    # Review by the district, approval and payment by the city, in that order.
    url = f"{S}/clearings/{mar_c['id']}"
    assert (
        h.client.post(f"{url}/approve", json={"version": mar_c["version"]}, headers=h.city()).json()["code"]
        == "invalid_transition"
    )
    assert (
        h.client.post(
            f"{url}/review", json={"version": mar_c["version"]}, headers=h.district("120103")
        ).status_code
        == 404
    )
    reviewed = h.client.post(f"{url}/review", json={"version": mar_c["version"]}, headers=h.district()).json()
    assert reviewed["status"] == "reviewed"
    assert (
        h.client.post(f"{url}/approve", json={"version": reviewed["version"]}, headers=h.district()).json()[
            "code"
        ]
        == "city_staff_only"
    )
    approved = h.client.post(f"{url}/approve", json={"version": reviewed["version"]}, headers=h.city()).json()
    assert approved["status"] == "approved"
    stale = h.client.post(f"{url}/pay", json={"version": reviewed["version"]}, headers=h.city())
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    paid = h.client.post(f"{url}/pay", json={"version": approved["version"], "bank_name": "示例银行", "account_number": "6222020000000001"},
                         headers=h.city()).json()  # fmt: skip
    assert (
        paid["status"] == "paid"
        and paid["payment"]["amount"] == line(mar_c, 41)
        and paid["payment"]["within_limit"] is True
    )
    assert paid["deadline"]["due_on"] > "2026-04-10" and paid["deadline"]["limit_working_days"] == 30

    # Paid months are kept: no entry, no recomputation changes them; a correction of a paid month is taken, and
    # what it changes waits for the next open month as an adjustment line (see test_settlement_in_order).
    corrected = h.client.post(
        f"{S}/declarations",
        json=declaration(None, "2026-03", "60000.00", replaces_version=1),
        headers=h.facility(code),
    )
    assert corrected.status_code == 201, corrected.text
    assert clearing_of(h, code, "2026-03")["version"] == paid["version"]
    assert h.client.post(f"{S}/entries", json=entry, headers=h.district()).json()["code"] == "clearing_locked"
    assert (
        h.client.post(
            f"{S}/clearings/run", json={"period": "2026-03", "facility_code": code}, headers=h.district()
        ).json()["unchanged"]
        == 1
    )

    # Visibility: the facility sees its own tables, another district's clerk sees none of them.
    assert h.client.get(f"{url}", headers=h.facility(code)).status_code == 200
    assert h.client.get(f"{url}", headers=h.facility(new_code())).status_code == 404
    assert h.client.get(f"{url}", headers=h.district("120103")).status_code == 404
    assert (
        h.client.get(f"{S}/clearings", params={"facility_code": code}, headers=h.district("120103")).json()[
            "total"
        ]
        == 0
    )

    # The approval and the payment were announced through the outbox.
    async def outbox_types() -> list[str]:
        from sqlalchemy import text

        async with h.runtime.uow() as uow:
            rows = await uow.session.execute(text("SELECT event_type, envelope FROM outbox ORDER BY id"))
            return [r.event_type for r in rows if r.envelope["payload"].get("clearing_id") == mar_c["id"]]

    assert h.client.portal.call(outbox_types) == ["settlement.approved", "settlement.paid"]  # type: ignore[union-attr]


def test_the_table_as_pdf_and_spreadsheet_for_one_month_and_a_district(settlement) -> None:
    import csv
    import io

    from pypdf import PdfReader

    h, code = settlement, new_code()
    h.designate(code)
    budget(h, code)
    h.today(date(2026, 4, 10))
    assert (
        h.client.post(
            f"{S}/declarations", json=declaration(code, "2026-01", "130000.00"), headers=h.facility(code)
        ).status_code
        == 201
    )
    h.client.post(
        f"{S}/clearings/run", json={"period": "2026-01", "facility_code": code}, headers=h.district()
    )
    table = clearing_of(h, code, "2026-01", h.facility(code))
    pdf = h.client.get(f"{S}/clearings/{table['id']}/document.pdf", headers=h.facility(code))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    text = " ".join(text.split())  # one drawn string per line in the extraction: compare in reading order
    assert "天津市基本医疗保险定点机构基金清算表" in text and f"单位编码：{code}" in text
    assert (
        "本月统筹应支付金额 15 100000.00" in text
        and "本月统筹申请超标 19 30000.00" in text
        and "经办人：（章）" in text
    )
    assert (
        h.client.get(f"{S}/clearings/{table['id']}/document.pdf", headers=h.facility(new_code())).status_code
        == 404
    )

    rows = list(
        csv.reader(
            io.StringIO(
                h.client.get(
                    f"{S}/clearings/export.csv", params={"period": "2026-01"}, headers=h.district()
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0][7] == "1 本月指标" and len(rows[0]) == 7 + 41 + 2 and rows[0][-1] == "本月拨付金额"
    mine = [r for r in rows[1:] if r[1] == code]
    assert len(mine) == 1 and mine[0][7 + 14] == "100000.00"
    bulk = h.client.get(f"{S}/clearings/export.pdf", params={"period": "2026-01"}, headers=h.district())
    assert len(PdfReader(io.BytesIO(bulk.content)).pages) == len(rows) - 1
    assert (
        h.client.get(
            f"{S}/clearings/export.csv", params={"period": "2026-1"}, headers=h.district()
        ).status_code
        == 422
    )


def test_the_year_end_assessment_releases_the_reserve_and_recovers_last_years_money(settlement) -> None:
    h, code = settlement, new_code()
    h.designate(code)
    budget(h, code)
    h.client.post(f"{S}/budgets", json={"facility_code": code, "year": 2027, "insurance_type": "employee", "care_type": "inpatient",
                                        "total": "1200000.00", "reason": "2027年度指标"}, headers=h.district())  # fmt: skip
    h.today(date(2027, 2, 10))
    for period, pooled in (("2026-11", "80000.00"), ("2026-12", "60000.00"), ("2027-01", "10000.00")):
        assert (
            h.client.post(
                f"{S}/declarations", json=declaration(code, period, pooled), headers=h.facility(code)
            ).status_code
            == 201
        )
    assert (
        h.client.post(
            f"{S}/clearings/run", json={"period": "2026-12", "facility_code": code}, headers=h.district()
        ).json()["created"]
        == 12
    )
    body = {"facility_code": code, "year": 2026, "insurance_type": "employee", "care_type": "inpatient", "score_ratio": "0.9",
            "recovery": "20000.00", "book_in": "2027-01", "reason": "年度考核得分90分"}  # fmt: skip
    made = h.client.post(f"{S}/assessments", json=body, headers=h.district())
    assert made.status_code == 201, made.text
    # Reserve withheld in 2026: 5% of 80,000 and of 60,000 = 7,000; 90% released = 6,300.
    assert sorted((e["kind"], e["amount"]) for e in made.json()) == [
        ("recovery_due", "20000.00"),
        ("reserve_release", "6300.00"),
    ]
    assert (
        h.client.post(f"{S}/assessments", json=body, headers=h.district()).json()["code"]
        == "assessment_exists"
    )
    assert (
        h.client.post(
            f"{S}/assessments", json={**body, "score_ratio": "1.5"}, headers=h.district()
        ).status_code
        == 422
    )
    h.client.post(
        f"{S}/clearings/run", json={"period": "2027-01", "facility_code": code}, headers=h.district()
    )
    jan = clearing_of(h, code, "2027-01")
    # January: quota 100,000 (December's surplus does not cross the year end), claims 10,000 → 9,500 paid,
    # 6,300 released, 20,000 to recover: all 15,800 recovered, 4,200 remaining.
    assert (
        line(jan, 2),
        line(jan, 17),
        line(jan, 20),
        line(jan, 21),
        line(jan, 22),
        line(jan, 23),
        line(jan, 33),
    ) == ("0.00", "9500.00", "6300.00", "20000.00", "15800.00", "4200.00", "0.00")
