"""The clearing table as a document: a PDF laid out like the seed's 基金清算表 (header fields, the 41
numbered lines, signatures and approval block) and a CSV spreadsheet export (UTF-8 with BOM, opens in
Excel/WPS), for one facility-month or in bulk.

The PDF is drawn with shared.pdf (reportlab, the standard CJK font: nothing embedded).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from shared.pdf import HEIGHT, WIDTH, Document
from svc_settlement.domain.approval import STATUSES
from svc_settlement.domain.clearing import LINES
from svc_settlement.domain.declaration import CARE_TYPES, INSURANCE_TYPES

TITLE = "天津市基本医疗保险定点机构基金清算表"
ACTIONS = {"review": "分中心审核", "approve": "市中心核准", "pay": "拨付", "reset": "重新清算"}


def _draw(page: Document, clearing: dict, facility_name: str) -> None:
    page.new_page()
    left, right = 40, WIDTH - 40
    y = HEIGHT - 50
    page.centered(y, TITLE, 14)
    y -= 24
    period = clearing["period"]
    header = [
        (f"汇总批号：{clearing['office_code']}{period.replace('-', '')}", f"险种类别：{INSURANCE_TYPES[clearing['insurance_type']]}"),
        (f"就医方式：{CARE_TYPES[clearing['care_type']]}", f"号：津医保支字 {period.replace('-', '')}{str(clearing['id'])[:6].upper()} 号"),
        (f"单位编码：{clearing['facility_code']}", f"协议年度：{period[:4]}    结算月份：{period}"),
        (f"单位名称：{facility_name}", f"单位：元    状态：{STATUSES[clearing['status']]}"),
    ]
    for a, b in header:
        page.text(left, y, a)
        page.text(left + 270, y, b)
        y -= 13
    y -= 4
    columns = (left, left + 95, left + 245, left + 280, left + 370, right)
    page.line(left, y + 10, right, y + 10, 0.8)
    for x, title in zip(columns[:5], ("栏目", "项目", "行次", "金额", "计算公式"), strict=True):
        page.text(x + 3, y, title)
    y -= 4
    page.line(left, y, right, y, 0.8)
    section = None
    row_h = 12.6
    for line in LINES:
        y -= row_h
        if line.section != section:
            section = line.section
            page.line(left, y + row_h, right, y + row_h, 0.6)
            for k, part in enumerate((section[i:i + 11] for i in range(0, len(section), 11))):
                page.text(columns[0] + 3, y + 3 - k * 9, part, 7.5)
        page.text(columns[1] + 3, y + 3, line.name, 8.5)
        page.right(columns[3] - 8, y + 3, str(line.number), 8.5)
        page.right(columns[4] - 6, y + 3, clearing["lines"][str(line.number)], 8.5)
        page.text(columns[4] + 4, y + 3, line.formula.replace("prev_", "上月").replace(" ", ""), 7)
    y -= 3
    page.line(left, y, right, y, 0.8)
    for x in columns:
        page.line(x, y, x, y + row_h * len(LINES) + 21, 0.4)
    for adjustment in clearing.get("adjustments") or []:  # what an earlier, paid month now lacks or was overpaid
        y -= 12
        page.text(left + 3, y, f"更正顺延调整（{adjustment['period']}）  {adjustment['amount']}  {adjustment['reason']}", 7.5)
    y -= 12
    page.text(left + 3, y, f"本月拨付金额（第41行加调整）  {clearing.get('payable', clearing['lines']['41'])}", 8.5)
    y -= 10
    page.text(left, y, "定点机构")
    page.text(left + 270, y, "医保机构")
    y -= 16
    page.text(left, y, "经办人：（章）")
    page.text(left + 270, y, "经办人：（章）")
    y -= 20
    page.text(left, y, "审批情况：")
    for step in clearing.get("steps") or []:
        y -= 12
        page.text(left + 20, y, f"{ACTIONS.get(step['action'], step['action'])}  {step['by']}  {step['at'][:10]}  {step.get('note') or ''}", 8)
    if clearing.get("payment"):
        y -= 12
        p = clearing["payment"]
        page.text(left + 20, y, f"拨付单 {p['order_no']}  金额 {p['amount']}  拨付日 {p['paid_on']}  时限 {p['due_on']}", 8)
    page.text(left, 30, f"考核预留比例 {clearing['reserve_rate']}（样例值，文件未规定）   计算于 {str(clearing['computed_at'])[:19]}", 7)


def clearing_pdf(items: Sequence[tuple[dict, str]]) -> bytes:
    """One page per clearing: (clearing row, facility name) pairs."""
    document = Document(TITLE)
    for clearing, name in items:
        _draw(document, clearing, name)
    return document.bytes()


def clearing_csv(items: Iterable[tuple[dict, str]]) -> bytes:
    """One row per clearing, one column per line (header: 行次+名称), for a facility-month or a district."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["结算月份", "单位编码", "单位名称", "分中心", "险种类别", "就医方式", "状态"] + [f"{l.number} {l.name}" for l in LINES] + ["更正顺延调整", "本月拨付金额"])
    for clearing, name in items:
        writer.writerow(
            [clearing["period"], clearing["facility_code"], name, clearing["office_code"], INSURANCE_TYPES[clearing["insurance_type"]],
             CARE_TYPES[clearing["care_type"]], STATUSES[clearing["status"]]] + [clearing["lines"][str(l.number)] for l in LINES]
            + ["; ".join(f"{a['period']} {a['amount']}" for a in clearing.get("adjustments") or []), str(clearing.get("payable", clearing["lines"]["41"]))]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")
