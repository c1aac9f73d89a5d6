"""Documents offices print and open in Excel, through the gateway: the clearing table as a PDF with its
CJK font embedded, its formula column in words, a document number made of the table's keys and Beijing
time; and as xlsx, single and in bulk, with months as text and amounts as two-decimal numbers; the
enrollment drive takes a department's list as xlsx as it takes a CSV, and gives its coverage as xlsx."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from shared import spreadsheets
from shared.spreadsheets import XLSX, Sheet
from shared.testing.e2e import assert_problem, bearer, business_today, new_resident_id, poll

pytestmark = pytest.mark.e2e

S = "/api/v1/settlement"
DEMO_HOSPITAL = "H12010100001"


def _last_month() -> tuple[int, int]:
    today = business_today()
    index = today.year * 12 + today.month - 2
    return divmod(index, 12)  # (year, month-1)


@pytest.fixture(scope="module")
def clearing(gateway: httpx.Client, tokens: dict[str, str]) -> dict:
    """Last month's resident outpatient table of the demo hospital (other tests use employee inpatient)."""
    facility, clerk = bearer(tokens["facility-demo"]), bearer(tokens["staff-heping"])
    year, month0 = _last_month()
    period = f"{year:04d}-{month0 + 1:02d}"
    body = {"facility_code": DEMO_HOSPITAL, "year": year, "insurance_type": "resident", "care_type": "outpatient",
            "total": "120000.00", "weights": [1 if m == month0 else 0 for m in range(12)], "reason": "年度总额指标下达（文档测试）"}  # fmt: skip
    poll(
        lambda: gateway.post(f"{S}/budgets", json=body, headers=clerk).status_code == 200,
        what="the registry to reach settlement",
    )
    declared = gateway.post(f"{S}/declarations", headers=facility, json={
        "period": period, "insurance_type": "resident",
        "lines": [{"care_type": "outpatient", "origin": "local", "pooled_fund": "150000.00", "personal_account": "0.00"}]})  # fmt: skip
    assert declared.status_code == 201, declared.text
    run = gateway.post(
        f"{S}/clearings/run", json={"period": period, "facility_code": DEMO_HOSPITAL}, headers=clerk
    )
    assert run.status_code == 200, run.text
    items = gateway.get(f"{S}/clearings", params={"period": period}, headers=clerk).json()["items"]
    return next(
        i
        for i in items
        if i["facility_code"] == DEMO_HOSPITAL
        and i["insurance_type"] == "resident"
        and i["care_type"] == "outpatient"
    )


def test_the_clearing_pdf_embeds_its_chinese_font(
    gateway: httpx.Client, tokens: dict[str, str], clearing: dict
) -> None:
    pdf = gateway.get(f"{S}/clearings/{clearing['id']}/document.pdf", headers=bearer(tokens["facility-demo"]))
    assert pdf.status_code == 200
    for font in PdfReader(io.BytesIO(pdf.content)).pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object(), f"{font['/BaseFont']} not embedded"


def test_the_clearing_pdf_reads_its_formulas_in_words_with_a_document_number_and_beijing_time(
    gateway: httpx.Client, tokens: dict[str, str], clearing: dict
) -> None:
    pdf = gateway.get(f"{S}/clearings/{clearing['id']}/document.pdf", headers=bearer(tokens["facility-demo"]))
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert (
        "第14行与第8行中较小者" in text and "上月第18行（1月为0）" in text and "第15行×考核预留比例" in text
    )
    assert "prev_" not in text and "L14" not in text and "quota" not in text
    period = clearing["period"].replace("-", "")
    assert f"号：津医保支字 {period}{DEMO_HOSPITAL}22 号" in text  # resident (2), outpatient (2)
    assert not re.search(r"津医保支字 \S*[a-f]", text.split("号：", 1)[1][:40])  # no hex from an internal id
    assert re.search(r"计算于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）", text)


def test_one_clearing_as_xlsx_keeps_the_month_as_text_and_amounts_as_numbers(
    gateway: httpx.Client, tokens: dict[str, str], clearing: dict
) -> None:
    answer = gateway.get(
        f"{S}/clearings/{clearing['id']}/table.xlsx", headers=bearer(tokens["facility-demo"])
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = [c for c in sheet[2]]
    assert header[0] == "结算月份" and header[7] == "1 本月指标" and header[-1] == "本月拨付金额"
    assert row[0].value == clearing["period"] and isinstance(row[0].value, str)
    line15 = row[header.index("15 本月统筹应支付金额")]
    assert line15.value == 120000.0 and line15.number_format == "#,##0.00"
    assert f"{line15.value:.2f}" == clearing["lines"][14]["value"]


def test_the_bulk_xlsx_has_a_row_per_clearing_of_the_month_and_is_refused_for_a_bad_month(
    gateway: httpx.Client, tokens: dict[str, str], clearing: dict
) -> None:
    clerk = bearer(tokens["staff-heping"])
    csv_rows = (
        gateway.get(f"{S}/clearings/export.csv", params={"period": clearing["period"]}, headers=clerk)
        .content.decode("utf-8-sig")
        .splitlines()
    )
    answer = gateway.get(f"{S}/clearings/export.xlsx", params={"period": clearing["period"]}, headers=clerk)
    assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(answer.content)).worksheets[0]
    assert sheet.max_row == len(csv_rows)
    assert any(r[1].value == DEMO_HOSPITAL and r[5].value == "门诊" for r in sheet.iter_rows(min_row=2))
    bad = gateway.get(f"{S}/clearings/export.xlsx", params={"period": "2026-1"}, headers=clerk)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


R = "/api/v1/registration"
OFFICE = "120101"


def upload(gateway: httpx.Client, token: str, filename: str, content: bytes) -> httpx.Response:
    form = {
        "kind": "subsistence",
        "source_department": "和平区民政局",
        "office_code": OFFICE,
        "as_of": business_today().isoformat(),
    }
    return gateway.post(
        f"{R}/drive/lists", data=form, files={"file": (filename, content, XLSX)}, headers=bearer(token)
    )


def test_a_department_list_in_xlsx_is_compared_like_the_same_list_in_csv(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    staff = tokens["staff-heping"]
    # An ID number typed into Excel as text; the second person is on no enrollment.
    rows = [[new_resident_id(OFFICE), "名单甲"], [new_resident_id(OFFICE), "名单乙"]]
    as_xlsx = upload(
        gateway, staff, "低保名单.xlsx", spreadsheets.workbook(Sheet("名单", ["id_number", "name"], rows))
    )
    assert as_xlsx.status_code == 201, as_xlsx.text
    csv_text = "id_number,name\n" + "".join(f"{i},{n}\n" for i, n in rows)
    as_csv = upload(gateway, staff, "低保名单.csv", csv_text.encode())
    assert as_csv.status_code == 201, as_csv.text
    assert as_xlsx.json()["row_count"] == as_csv.json()["row_count"] == 2
    assert as_xlsx.json()["counts"] == as_csv.json()["counts"]


def test_a_bad_row_in_an_xlsx_list_is_named_by_its_sheet_row(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    rows = [[new_resident_id(OFFICE), "名单丙"], ["", ""], ["12345", "号码不对"]]
    refused = upload(
        gateway,
        tokens["staff-heping"],
        "名单.xlsx",
        spreadsheets.workbook(Sheet("名单", ["id_number", "name"], rows)),
    )
    problem = assert_problem(refused, 422)
    assert [e.get("row") for e in problem["errors"]] == [4]  # Excel's row 4: header 1, data 2, empty 3
    damaged = upload(gateway, tokens["staff-heping"], "名单.xlsx", b"PK\x03\x04 damaged")
    assert assert_problem(damaged, 422, "list_unreadable")["title"] == "名单文件无法读取"


def test_the_coverage_report_as_xlsx_matches_the_csv(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    staff = bearer(tokens["staff-heping"])
    params = {"year": business_today().year, "office_code": OFFICE}
    as_xlsx = gateway.get(f"{R}/drive/coverage.xlsx", params=params, headers=staff)
    assert as_xlsx.status_code == 200 and as_xlsx.headers["content-type"] == XLSX
    as_csv = gateway.get(f"{R}/drive/coverage.csv", params=params, headers=staff).content.decode("utf-8-sig")
    sheet_rows = spreadsheets.read_rows(as_xlsx.content)
    import csv as csv_module

    assert sheet_rows == [row for row in csv_module.reader(io.StringIO(as_csv)) if row]


# --------------------------------------------------------------------------- 参保凭证 verification


def test_a_certificates_code_is_checked_by_anyone_through_the_gateway_without_personal_data(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    """A clerk issues the 参保凭证 after 中止参保; whoever holds it (the incoming office, the person's new
    employer) checks its code without signing in: validity, issuer and date, never whom it names.
    A forged code is 404."""
    clerk = bearer(tokens["staff-heping"])
    id_number = new_resident_id("120101")
    year = business_today().year
    enrolled = gateway.post("/api/v1/registration/enrollments/residents", headers=clerk, json={
        "person": {"id_number": id_number, "name": "核验人"}, "office_code": "120101", "tier": "adult_middle",
        "coverage_year": year, "paid_on": f"{year - 1}-10-15", "materials": {"id_document": "original"},
    })  # fmt: skip
    assert enrolled.status_code == 201, enrolled.text
    approved = gateway.post(
        f"/api/v1/registration/enrollments/{enrolled.json()['id']}/approve",
        json={"version": 1},
        headers=clerk,
    )
    assert approved.status_code == 200, approved.text
    stopped = gateway.post(
        f"/api/v1/registration/enrollments/{approved.json()['id']}/stop",
        json={"version": approved.json()["version"], "reason": "调往外省工作"},
        headers=clerk,
    )
    assert stopped.status_code == 200, stopped.text

    def issued() -> dict | None:
        answer = gateway.post(
            "/api/v1/transfer/certificates", json={"person": {"id_number": id_number, "name": "核验人"}},
            headers=clerk,
        )  # fmt: skip
        assert answer.status_code in (201, 404, 409), answer.text  # until the stop event reaches transfer
        return answer.json() if answer.status_code == 201 else None

    certificate = poll(issued, what="the certificate after registration's stop event")
    assert certificate["office_address"] and certificate["office_phone"] and certificate["clerk"]
    assert certificate["sex"] in ("male", "female")

    with httpx.Client(base_url=str(gateway.base_url), timeout=30) as anyone:  # no token at all
        checked = anyone.get(f"/api/v1/transfer/public/certificates/{certificate['verification_code']}")
        assert checked.status_code == 200, checked.text
        assert checked.json()["validity"] == "valid" and checked.json()["number"] == certificate["number"]
        assert (
            checked.json()["office_code"] == "120101"
            and checked.json()["issued_on"] == certificate["issued_on"]
        )
        assert id_number not in checked.text and "核验人" not in checked.text
        code = certificate["verification_code"].replace("-", "")
        forged = code[:-1] + ("2" if code[-1] != "2" else "3")
        assert_problem(anyone.get(f"/api/v1/transfer/public/certificates/{forged}"), 404, "not_found")
        # Only the public page is open: the certificate itself still needs a token.
        closed = anyone.get(f"/api/v1/transfer/certificates/{certificate['number']}")
        assert closed.status_code == 401
