"""Settlement through the gateway: the demo hospital (designated in svc-facility, known to settlement by
event) gets a budget, declares two months, the second pays the first's deferred excess; the district
reviews, the city approves and pays; the facility sees its tables; bad declarations are refused."""

from __future__ import annotations

from collections import defaultdict

import httpx
import pytest

from shared.testing.e2e import bearer, business_today, poll

pytestmark = pytest.mark.e2e

S = "/api/v1/settlement"
DEMO_HOSPITAL = "H12010100001"


def _months_before(n: int) -> list[tuple[int, int]]:
    today = business_today()
    index = today.year * 12 + today.month - 1
    return [divmod(index - k, 12) for k in range(n, 0, -1)]  # (year, month-1), oldest first


def _period(year: int, month0: int) -> str:
    return f"{year:04d}-{month0 + 1:02d}"


def test_two_months_declared_cleared_approved_and_paid(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    facility, clerk, city = (
        bearer(tokens["facility-demo"]),
        bearer(tokens["staff-heping"]),
        bearer(tokens["staff-city"]),
    )
    (y1, m1), (y2, m2) = _months_before(2)
    first, second = _period(y1, m1), _period(y2, m2)

    # Settlement learns the sample registry from facility's events (its queue exists before any service starts).

    # A budget of 100,000 in each of the two months (weights put nothing in the other months).
    months_by_year: dict[int, list[int]] = defaultdict(list)
    for year, month0 in ((y1, m1), (y2, m2)):
        months_by_year[year].append(month0)
    for year, months in months_by_year.items():
        body = {"facility_code": DEMO_HOSPITAL, "year": year, "insurance_type": "employee", "care_type": "inpatient",
                "total": f"{100000 * len(months)}.00", "weights": [1 if m in months else 0 for m in range(12)],
                "reason": "年度总额指标下达（测试）"}  # fmt: skip
        created = poll(lambda body=body: (r := gateway.post(f"{S}/budgets", json=body, headers=clerk)).status_code == 200 and r,
                       what="the registry to reach settlement")  # fmt: skip
        assert [created.json()["quotas"][m] for m in months] == ["100000.00"] * len(months)

    def declare(period: str, pooled: str, **extra) -> httpx.Response:  # type: ignore[no-untyped-def]
        body = {"period": period, "insurance_type": "employee",
                "lines": [{"care_type": "inpatient", "origin": "local", "pooled_fund": pooled, "personal_account": "200.00"}], **extra}  # fmt: skip
        return gateway.post(f"{S}/declarations", json=body, headers=facility)

    # Bad declarations: another facility's, a month not ended, totals that do not match the bills, negative amounts.
    today = business_today()
    for bad, code in (
        (declare(first, "1.00", facility_code="H12010100002"), "not_own_facility"),
        (declare(f"{today:%Y-%m}", "1.00"), "period_not_ended"),
        (
            declare(
                first,
                "1.00",
                bills=[{"bill_no": "X1", "care_type": "inpatient", "origin": "local", "pooled_fund": "2.00"}],
            ),
            "totals_mismatch",
        ),
        (declare(first, "-1.00"), "validation_failed"),
    ):
        assert 400 <= bad.status_code < 500 and bad.headers["content-type"].startswith(
            "application/problem+json"
        ), bad.text
        assert bad.json()["code"] == code and bad.json()["title"]
    mine = [
        d
        for d in gateway.get(f"{S}/declarations", headers=facility).json()["items"]
        if d["insurance_type"] == "employee" and d["period"] in (first, second)
    ]
    assert mine == []

    bills = [{"bill_no": "ZY0001", "care_type": "inpatient", "origin": "local", "pooled_fund": "90000.00", "personal_account": "200.00"},
             {"bill_no": "ZY0002", "care_type": "inpatient", "origin": "cross_province", "pooled_fund": "40000.00"}]  # fmt: skip
    one = declare(first, "90000.00", bills=bills, lines=[
        {"care_type": "inpatient", "origin": "local", "pooled_fund": "90000.00", "personal_account": "200.00"},
        {"care_type": "inpatient", "origin": "cross_province", "pooled_fund": "40000.00"}])  # fmt: skip
    assert one.status_code == 201, one.text
    assert declare(second, "50000.00").status_code == 201

    run = gateway.post(
        f"{S}/clearings/run", json={"period": second, "facility_code": DEMO_HOSPITAL}, headers=clerk
    )
    assert run.status_code == 200 and run.json()["conflicts"] == [], run.text
    assert (
        gateway.post(
            f"{S}/clearings/run", json={"period": second, "facility_code": DEMO_HOSPITAL}, headers=clerk
        ).json()["updated"]
        == 0
    )

    def table(period: str, headers: dict) -> dict:  # type: ignore[type-arg]
        items = gateway.get(f"{S}/clearings", params={"period": period}, headers=headers).json()["items"]
        return next(i for i in items if i["facility_code"] == DEMO_HOSPITAL and i["care_type"] == "inpatient")

    def lines(t: dict, *numbers: int) -> tuple[str, ...]:
        return tuple(t["lines"][n - 1]["value"] for n in numbers)

    t1, t2 = table(first, clerk), table(second, clerk)
    assert lines(t1, 9, 14, 15, 16, 17, 19) == (
        "130000.00",
        "130000.00",
        "100000.00",
        "5000.00",
        "95000.00",
        "30000.00",
    )
    assert lines(t2, 13, 14, 15, 17, 19, 41) == (
        "30000.00",
        "80000.00",
        "80000.00",
        "76000.00",
        "0.00",
        "76200.00",
    )

    url = f"{S}/clearings/{t2['id']}"
    reviewed = gateway.post(
        f"{url}/review", json={"version": t2["version"], "note": "审核无误"}, headers=clerk
    )
    assert reviewed.status_code == 200, reviewed.text
    assert (
        gateway.post(f"{url}/approve", json={"version": reviewed.json()["version"]}, headers=clerk).json()[
            "code"
        ]
        == "city_staff_only"
    )
    approved = gateway.post(f"{url}/approve", json={"version": reviewed.json()["version"]}, headers=city)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    paid = gateway.post(
        f"{url}/pay",
        json={"version": approved.json()["version"], "account_number": "6222020000000001"},
        headers=city,
    )
    assert paid.status_code == 200 and paid.json()["payment"]["amount"] == "76200.00"

    mine = table(second, facility)
    assert mine["status"] == "paid" and mine["deadline"]["limit_working_days"] == 30

    # The facility downloads the table as a PDF; its text shows the computed lines.
    import io

    from pypdf import PdfReader

    pdf = gateway.get(f"{url}/document.pdf", headers=facility)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    text = " ".join(text.split())  # one drawn string per line in the extraction: compare in reading order
    assert f"单位编码：{DEMO_HOSPITAL}" in text and "天津市示例医院" in text
    assert (
        "上月统筹申请超标 13 30000.00" in text
        and "本月统筹支付金额 17 76000.00" in text
        and "本月支付合计 41 76200.00" in text
    )
    assert gateway.get(url, headers=bearer(tokens["staff-hexi"])).status_code == 404
