"""The universal-enrollment drive (全民参保计划), seed 001: departments deliver lists, the office matches
them against enrollment to find the unenrolled, duplicates and the dead, and watches coverage against
each township's yearly targets.

Pure: parsing and checking a list's rows, classifying a person from their enrollments, and the
coverage arithmetic. Cross-province duplicates cannot be seen here (there is no national data): a
person enrolled at two offices of this city, or under two schemes at once, is a duplicate.

A list's rows are checked whole: every bad row is named (line, column, message; never the ID number)
and nothing of the file is kept. The same person twice in one list is a bad row too (the counts and, for
deaths, the date would be ambiguous).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from shared.errors import DomainError, Invalid
from shared.identity import IdType, InvalidIdentifier, normalize_id
from svc_registration.domain.enrollment import HOLDS_COVERAGE, Enrollment

MAX_ROWS = 200_000
MAX_ERRORS_SHOWN = 200
# Column lengths of registration.drive_rows: longer values are bad rows, not database errors.
MAX_NAME, MAX_TOWNSHIP_NAME, MAX_SCHOOL = 100, 100, 200
TOWNSHIP_CODE = re.compile(r"[0-9A-Za-z]{1,20}")  # also keeps spreadsheet formulas out of the report


class ListTooLong(DomainError):
    """The list has more rows than one upload takes (answered 413, as a body too large)."""

    status = 413


class ListKind(StrEnum):
    students = "students"  # 教育部门：学生
    subsistence = "subsistence"  # 民政：低保
    extreme_poverty = "extreme_poverty"  # 民政：特困
    low_income = "low_income"  # 民政：低收入
    deaths = "deaths"  # 民政：死亡
    tax_payments = "tax_payments"  # 税务：缴费
    resident_population = "resident_population"  # 公安：常住人口
    severe_disability = "severe_disability"  # 残联：重度残疾
    veterans = "veterans"  # 退役军人事务局：优抚对象


class Finding(StrEnum):
    enrolled = "enrolled"
    unenrolled = "unenrolled"
    duplicate = "duplicate"
    dead = "dead"


class Category(StrEnum):
    general = "general"  # 一般居民
    students = "students"  # 高中以下学生儿童（含高校）
    special = "special"  # 特殊群体


SPECIAL_LISTS = frozenset(
    {
        ListKind.subsistence,
        ListKind.extreme_poverty,
        ListKind.low_income,
        ListKind.severe_disability,
        ListKind.veterans,
    }
)
CATEGORY_OF: Mapping[ListKind, Category] = {
    ListKind.resident_population: Category.general,
    ListKind.students: Category.students,
    **{kind: Category.special for kind in SPECIAL_LISTS},
}
# A person on several lists counts once, in the most specific category.
CATEGORY_PRIORITY = (Category.special, Category.students, Category.general)
NEEDS_TOWNSHIP = frozenset({ListKind.resident_population, ListKind.students})
UNKNOWN_TOWNSHIP = ""  # special groups the population register does not place in a township
OUTSIDE_TARGETS = "（指标外）"
TOWNSHIP_UNKNOWN = "（乡镇不详）"


@dataclass(frozen=True)
class ListRow:
    row: int
    id_type: IdType
    id_number: str
    name: str
    township_code: str | None = None
    township_name: str | None = None
    death_date: date | None = None
    school: str | None = None


def parse_list(kind: ListKind, text: str, as_of: date | None = None) -> list[ListRow]:
    """Every row checked; a file with bad rows is refused as a whole, naming each (never its ID number).

    Row numbers are the file's line numbers (the header is line 1). A death after the list's date
    (`as_of`) is a bad row.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        columns = [c.strip() for c in reader.fieldnames or []]
    except csv.Error:
        raise _unreadable(1) from None
    reader.fieldnames = columns
    required = {"id_number", "name"} | ({"death_date"} if kind is ListKind.deaths else set()) | (
        {"township_code", "township_name"} if kind in NEEDS_TOWNSHIP else set()) | (
        {"school"} if kind is ListKind.students else set())  # fmt: skip
    missing_columns = sorted(required - set(columns))
    if missing_columns:
        raise Invalid("list_columns_missing", "名单缺少必填列", "、".join(missing_columns),
                      errors=[{"field": f"file.{c}", "message": "缺少此列"} for c in missing_columns])  # fmt: skip
    rows: list[ListRow] = []
    errors: list[dict[str, Any]] = []
    first_line: dict[tuple[IdType, str], int] = {}
    read = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            raise _unreadable(reader.line_num) from None
        read += 1
        if read > MAX_ROWS:
            raise ListTooLong("list_too_long", "名单行数超过上限", f"每个文件最多 {MAX_ROWS} 行，请分成几份上传",
                              errors=[{"field": "file", "message": f"最多 {MAX_ROWS} 行"}])  # fmt: skip
        number = reader.line_num
        row, problems = _row(kind, number, {k: (v or "").strip() for k, v in record.items() if k}, as_of)
        if row is not None:
            key = (row.id_type, row.id_number)
            if key in first_line:
                problems = [
                    {"row": number, "field": "id_number", "message": f"与第 {first_line[key]} 行为同一人"}
                ]
                row = None
            else:
                first_line[key] = number
        rows.extend([row] if row else [])
        errors.extend(problems)
    if errors:
        raise Invalid("list_rows_invalid", "名单中有不合格的行，整份未导入",
                      f"共 {len(errors)} 处错误" + (f"，仅列出前 {MAX_ERRORS_SHOWN} 处" if len(errors) > MAX_ERRORS_SHOWN else ""),
                      errors=errors[:MAX_ERRORS_SHOWN], error_count=len(errors))  # fmt: skip
    if not rows:
        raise Invalid("list_empty", "名单为空", errors=[{"field": "file", "message": "没有数据行"}])
    return rows


def _unreadable(line: int) -> Invalid:
    return Invalid("list_unreadable", "名单文件无法按 CSV 读取", f"第 {line} 行格式错误",
                   errors=[{"row": line, "field": "file", "message": "CSV 格式错误（引号不配对或字段过长）"}])  # fmt: skip


def _row(
    kind: ListKind, number: int, r: dict[str, str], as_of: date | None = None
) -> tuple[ListRow | None, list[dict[str, Any]]]:
    problems = []

    def bad(column: str, message: str) -> None:
        problems.append({"row": number, "field": column, "message": message})

    try:
        id_type = IdType(r.get("id_type") or IdType.resident_id.value)
    except ValueError:
        bad("id_type", "证件类型不正确")
        id_type = IdType.resident_id
    try:
        id_number = normalize_id(id_type, r.get("id_number", ""))
    except InvalidIdentifier as exc:
        bad("id_number", exc.message)
        id_number = ""
    name = r.get("name", "")
    if not name:
        bad("name", "姓名不能为空")
    elif len(name) > MAX_NAME:
        bad("name", f"姓名不能超过 {MAX_NAME} 个字")
    death_date = None
    if kind is ListKind.deaths:
        try:
            death_date = date.fromisoformat(r.get("death_date", ""))
        except ValueError:
            bad("death_date", "死亡日期格式应为 YYYY-MM-DD")
        else:
            if as_of is not None and death_date > as_of:
                bad("death_date", f"死亡日期晚于名单日期 {as_of}")
    township_code, township_name = r.get("township_code", ""), r.get("township_name", "")
    if kind in NEEDS_TOWNSHIP and not township_code:
        bad("township_code", "须填写乡镇（街道）代码")
    if kind in NEEDS_TOWNSHIP and not township_name:
        bad("township_name", "须填写乡镇（街道）名称")
    if township_code and not TOWNSHIP_CODE.fullmatch(township_code):
        bad("township_code", "乡镇（街道）代码只能是 1 至 20 位数字或字母")
    if len(township_name) > MAX_TOWNSHIP_NAME:
        bad("township_name", f"乡镇（街道）名称不能超过 {MAX_TOWNSHIP_NAME} 个字")
    school = r.get("school", "")
    if kind is ListKind.students and not school:
        bad("school", "须填写学校")
    elif len(school) > MAX_SCHOOL:
        bad("school", f"学校名称不能超过 {MAX_SCHOOL} 个字")
    if problems:
        return None, problems
    return ListRow(
        number,
        id_type,
        id_number,
        name,
        township_code or None,
        township_name or None,
        death_date,
        school or None,
    ), []


def classify(kind: ListKind, enrollments: Iterable[Enrollment], as_of: date) -> Finding:
    """What the list says of the person against their enrollments on the list's date.

    Enrolled: one approved enrollment covers `as_of`. Duplicate: two approved enrollments cover it
    (resident and employee at once), or the enrollments holding coverage on that day (approved, or
    filed and not yet decided) are at two offices of the city. An enrollment of an earlier year at
    another office (the person moved) is no duplicate.
    """
    if kind is ListKind.deaths:
        return Finding.dead
    enrollments = list(enrollments)
    covering = [e for e in enrollments if e.covers(as_of)]
    if not covering:
        return Finding.unenrolled
    holding = [e for e in enrollments if e.status in HOLDS_COVERAGE and _in_period(e, as_of)]
    if len(covering) > 1 or len({e.office_code for e in holding}) > 1:
        return Finding.duplicate
    return Finding.enrolled


def _in_period(e: Enrollment, day: date) -> bool:
    return e.benefit_start <= day and (e.benefit_end is None or day <= e.benefit_end)


@dataclass
class CoverageCell:
    target: int = 0
    listed: int = 0
    covered: int = 0

    @property
    def rate(self) -> Decimal | None:
        """Coverage against the target (None without a target), in percent to one decimal."""
        if self.target == 0:
            return None
        return (Decimal(self.covered) * 100 / self.target).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class TownshipCoverage:
    code: str
    name: str
    cells: dict[Category, CoverageCell] = field(default_factory=lambda: {c: CoverageCell() for c in Category})


@dataclass(frozen=True)
class ListedPerson:
    person_id: uuid.UUID
    category: Category
    township_code: str


def coverage(
    targets: list[dict[str, Any]], listed: Iterable[ListedPerson], covered: set[uuid.UUID]
) -> tuple[list[TownshipCoverage], dict[Category, CoverageCell]]:
    """Per township and category: the target, the persons listed, those of them covered; and totals."""
    townships = {t["code"]: TownshipCoverage(t["code"], t["name"]) for t in targets}
    for t in targets:
        for category, target in t["targets"].items():
            townships[t["code"]].cells[Category(category)].target = target
    for person in listed:
        name = TOWNSHIP_UNKNOWN if person.township_code == UNKNOWN_TOWNSHIP else OUTSIDE_TARGETS
        township = townships.setdefault(person.township_code, TownshipCoverage(person.township_code, name))
        cell = township.cells[person.category]
        cell.listed += 1
        cell.covered += person.person_id in covered
    totals = {c: CoverageCell() for c in Category}
    for township in townships.values():
        for category, cell in township.cells.items():
            totals[category].target += cell.target
            totals[category].listed += cell.listed
            totals[category].covered += cell.covered
    return list(townships.values()), totals


def listed_persons(
    rows_by_kind: Mapping[ListKind, Iterable[tuple[uuid.UUID, str | None]]],
) -> list[ListedPerson]:
    """One entry per person: the most specific category they are listed in, with the township given there
    (else the one of the population register, else UNKNOWN_TOWNSHIP: a person listed is never dropped)."""
    township_of: dict[uuid.UUID, str] = {}
    category_of: dict[uuid.UUID, Category] = {}
    for category in reversed(CATEGORY_PRIORITY):  # general first, so the more specific lists overwrite
        for kind, rows in rows_by_kind.items():
            if CATEGORY_OF.get(kind) is not category:
                continue
            for person_id, township in rows:
                category_of[person_id] = category
                if township:
                    township_of[person_id] = township
    return [ListedPerson(p, c, township_of.get(p, UNKNOWN_TOWNSHIP)) for p, c in category_of.items()]
