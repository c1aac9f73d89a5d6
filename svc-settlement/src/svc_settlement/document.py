"""The clearing table as a document: a PDF laid out like the seed's 基金清算表 (header fields, the 41
numbered lines, signatures and approval block) and spreadsheet exports, xlsx (typed cells) and CSV (UTF-8
with BOM), for one facility-month or in bulk.

The PDF is drawn with shared.pdf (reportlab, its CJK font embedded). The formula column reads in words
(第9行＋第10行…, 上月第18行, the inputs by their Chinese names), the document number is made of the
table's own keys (month, facility, insurance and care type), and times are Beijing time.
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from shared import spreadsheets
from shared.clock import SHANGHAI
from shared.pdf import HEIGHT, WIDTH, Document
from svc_settlement.domain.approval import STATUSES
from svc_settlement.domain.clearing import CARRIES, INPUTS, LINES
from svc_settlement.domain.declaration import CARE_TYPES, INSURANCE_TYPES

TITLE = "天津市基本医疗保险定点机构基金清算表"
ACTIONS = {"review": "分中心审核", "approve": "市中心核准", "pay": "拨付", "reset": "重新清算"}
# Digits of the document number for the insurance and care type (the seed's number is all digits).
INSURANCE_DIGITS = {"employee": "1", "resident": "2"}
CARE_DIGITS = {"inpatient": "1", "outpatient": "2", "special_disease": "3"}
OPERATORS = {ast.Add: "＋", ast.Sub: "－", ast.Mult: "×"}


def _input_in_words(name: str) -> str:
    """`pooled_adjustments` → 统筹调整支付: the Chinese name without its source or remark."""
    words = INPUTS.get(name, name)
    return words.split("：", 1)[-1].split("（", 1)[0]


def _in_words(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Name):
        if node.id.startswith("prev_L"):
            return f"上月第{node.id[6:]}行"
        if node.id[5:] in CARRIES:  # what last month handed on: 本月… of last month
            return "上月" + CARRIES[node.id[5:]][0].split("（", 1)[0].removeprefix("本月")
        if node.id[0] == "L" and node.id[1:].isdigit():
            return f"第{node.id[1:]}行"
        return _input_in_words(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return f"{_in_words(node.left)}{OPERATORS[type(node.op)]}{_in_words(node.right)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        # A sum inside a function reads in brackets: （第17行＋第20行）
        args = [f"（{_in_words(a)}）" if isinstance(a, ast.BinOp) else _in_words(a) for a in node.args]
        match node.func.id, args:
            case "min", [a, b]:
                return f"{a}与{b}中较小者"
            case "max", ["0", x]:
                return f"{x}（不小于0）"
            case "reserve", [x]:
                return f"{x}×考核预留比例"
            case "within_year", [x]:
                return f"{x}（1月为0）"
    raise ValueError(f"no words for {ast.unparse(node)}")


def formula_in_words(formula: str) -> str:
    """`min(L14, L8)` → 第14行与第8行中较小者: the formula column as an office reads it."""
    return _in_words(ast.parse(formula, mode="eval").body)


def document_number(clearing: dict) -> str:
    """津医保支字 <YYYYMM><facility><insurance digit><care digit> 号: one table, one number, no internal id."""
    period = clearing["period"].replace("-", "")
    return f"津医保支字 {period}{clearing['facility_code']}{INSURANCE_DIGITS[clearing['insurance_type']]}{CARE_DIGITS[clearing['care_type']]} 号"


def beijing(moment: datetime | str) -> str:
    """An instant as Beijing time, `2026-03-05 09:30`."""
    instant = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _draw(page: Document, clearing: dict, facility_name: str) -> None:
    page.new_page()
    left, right = 40, WIDTH - 40
    y = HEIGHT - 50
    page.centered(y, TITLE, 14)
    y -= 24
    period = clearing["period"]
    header = [
        (
            f"汇总批号：{clearing['office_code']}{period.replace('-', '')}",
            f"险种类别：{INSURANCE_TYPES[clearing['insurance_type']]}",
        ),
        (f"就医方式：{CARE_TYPES[clearing['care_type']]}", f"号：{document_number(clearing)}"),
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
            for k, part in enumerate(section[i : i + 11] for i in range(0, len(section), 11)):
                page.text(columns[0] + 3, y + 3 - k * 9, part, 7.5)
        page.text(columns[1] + 3, y + 3, line.name, 8.5)
        page.right(columns[3] - 8, y + 3, str(line.number), 8.5)
        page.right(columns[4] - 6, y + 3, clearing["lines"][str(line.number)], 8.5)
        page.fitted(columns[4] + 4, y + 3, formula_in_words(line.formula), columns[5] - columns[4] - 6, 7)
    y -= 3
    page.line(left, y, right, y, 0.8)
    for x in columns:
        page.line(x, y, x, y + row_h * len(LINES) + 21, 0.4)
    for adjustment in (
        clearing.get("adjustments") or []
    ):  # what an earlier, paid month now lacks or was overpaid
        y -= 12
        page.text(
            left + 3,
            y,
            f"更正顺延调整（{adjustment['period']}）  {adjustment['amount']}  {adjustment['reason']}",
            7.5,
        )
    y -= 12
    page.text(
        left + 3, y, f"本月拨付金额（第41行加调整）  {clearing.get('payable', clearing['lines']['41'])}", 8.5
    )
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
        page.text(
            left + 20,
            y,
            f"{ACTIONS.get(step['action'], step['action'])}  {step['by']}  {beijing(step['at'])}  {step.get('note') or ''}",
            8,
        )
    if clearing.get("payment"):
        y -= 12
        p = clearing["payment"]
        page.text(
            left + 20,
            y,
            f"拨付单 {p['order_no']}  金额 {p['amount']}  拨付日 {p['paid_on']}  时限 {p['due_on']}",
            8,
        )
    page.text(
        left,
        30,
        f"考核预留比例 {clearing['reserve_rate']}（样例值，文件未规定）   计算于 {beijing(clearing['computed_at'])}（北京时间）",
        7,
    )


def clearing_pdf(items: Sequence[tuple[dict, str]]) -> bytes:
    """One page per clearing: (clearing row, facility name) pairs."""
    document = Document(TITLE)
    for clearing, name in items:
        _draw(document, clearing, name)
    return document.bytes()


CLEARING_HEADER = ["结算月份", "单位编码", "单位名称", "分中心", "险种类别", "就医方式", "状态"]


def _clearing_rows(
    items: Iterable[tuple[dict, str]], money: Callable[[str], Any] = str
) -> tuple[list[str], list[list[Any]]]:
    """The spreadsheet of clearings: one row per clearing, one column per line (header: 行次+名称)."""
    header = (
        CLEARING_HEADER + [f"{line.number} {line.name}" for line in LINES] + ["更正顺延调整", "本月拨付金额"]
    )
    rows = [
        [clearing["period"], clearing["facility_code"], name, clearing["office_code"], INSURANCE_TYPES[clearing["insurance_type"]],
         CARE_TYPES[clearing["care_type"]], STATUSES[clearing["status"]]] + [money(clearing["lines"][str(line.number)]) for line in LINES]
        + ["; ".join(f"{a['period']} {a['amount']}" for a in clearing.get("adjustments") or []), money(str(clearing.get("payable", clearing["lines"]["41"])))]
        for clearing, name in items
    ]  # fmt: skip
    return header, rows


def clearing_csv(items: Iterable[tuple[dict, str]]) -> bytes:
    """For a facility-month or a district, UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    header, rows = _clearing_rows(items)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def clearing_xlsx(items: Iterable[tuple[dict, str]]) -> bytes:
    """The same table as xlsx: months and codes as text, amounts as numbers with two decimals."""
    header, rows = _clearing_rows(items, spreadsheets.money)
    return spreadsheets.workbook(spreadsheets.Sheet("基金清算表", header, rows))
