"""The universal-enrollment drive (全民参保计划), seed 001: departments deliver lists, the office matches
them against enrollment to find the unenrolled, duplicates and the dead, and watches coverage against
each township's yearly targets.

Pure: parsing and checking a list's rows, classifying a person from their enrollments, and the
coverage arithmetic. Cross-province duplicates cannot be seen here (there is no national data): a
person enrolled at two offices of this city, or under two schemes at once, is a duplicate.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from shared.errors import Problem
from shared.identity import IdType, InvalidIdentifier, normalize_id
from svc_registration.domain.enrollment import Enrollment

MAX_ROWS = 200_000


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


SPECIAL_LISTS = frozenset({ListKind.subsistence, ListKind.extreme_poverty, ListKind.low_income, ListKind.severe_disability, ListKind.veterans})
CATEGORY_OF: Mapping[ListKind, Category] = {
    ListKind.resident_population: Category.general,
    ListKind.students: Category.students,
    **{kind: Category.special for kind in SPECIAL_LISTS},
}
# A person on several lists counts once, in the most specific category.
CATEGORY_PRIORITY = (Category.special, Category.students, Category.general)
NEEDS_TOWNSHIP = frozenset({ListKind.resident_population, ListKind.students})


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


def parse_list(kind: ListKind, text: str) -> list[ListRow]:
    """Every row checked; a file with bad rows is refused as a whole, naming each (never its ID number)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    required = {"id_number", "name"} | ({"death_date"} if kind is ListKind.deaths else set()) | (
        {"township_code", "township_name"} if kind in NEEDS_TOWNSHIP else set())  # fmt: skip
    missing_columns = sorted(required - set(reader.fieldnames or []))
    if missing_columns:
        raise Problem(422, "list_columns_missing", "名单缺少必填列", "、".join(missing_columns),
                      errors=[{"field": f"file.{c}", "message": "缺少此列"} for c in missing_columns])  # fmt: skip
    rows, errors = [], []
    for number, record in enumerate(reader, start=2):  # row 1 is the header
        if number - 1 > MAX_ROWS:
            raise Problem(413, "list_too_long", "名单行数超过上限", f"每个文件最多 {MAX_ROWS} 行")
        row, problems = _row(kind, number, {k: (v or "").strip() for k, v in record.items() if k})
        rows.extend([row] if row else [])
        errors.extend(problems)
    if errors:
        raise Problem(422, "list_rows_invalid", "名单中有不合格的行，整份未导入", f"共 {len(errors)} 处错误", errors=errors[:200])
    if not rows:
        raise Problem(422, "list_empty", "名单为空", errors=[{"field": "file", "message": "没有数据行"}])
    return rows


def _row(kind: ListKind, number: int, r: dict[str, str]) -> tuple[ListRow | None, list[dict]]:
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
    if not r.get("name"):
        bad("name", "姓名不能为空")
    death_date = None
    if kind is ListKind.deaths:
        try:
            death_date = date.fromisoformat(r.get("death_date", ""))
        except ValueError:
            bad("death_date", "死亡日期格式应为 YYYY-MM-DD")
    if kind in NEEDS_TOWNSHIP and not (r.get("township_code") and r.get("township_name")):
        bad("township_code", "须填写乡镇（街道）代码和名称")
    if problems:
        return None, problems
    return ListRow(number, id_type, id_number, r["name"], r.get("township_code") or None, r.get("township_name") or None,
                   death_date, r.get("school") or None), []  # fmt: skip


def classify(kind: ListKind, enrollments: Iterable[Enrollment], as_of: date) -> Finding:
    """What the list says of the person against their enrollments on the list's date."""
    if kind is ListKind.deaths:
        return Finding.dead
    covering = [e for e in enrollments if e.covers(as_of)]
    if not covering:
        return Finding.unenrolled
    if len(covering) > 1 or len({e.office_code for e in enrollments if e.status.value in ("submitted", "approved")}) > 1:
        return Finding.duplicate
    return Finding.enrolled


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


def coverage(targets: list[dict], listed: Iterable[ListedPerson], covered: set[uuid.UUID]) -> tuple[list[TownshipCoverage], dict[Category, CoverageCell]]:
    """Per township and category: the target, the persons listed, those of them covered; and totals."""
    townships = {t["code"]: TownshipCoverage(t["code"], t["name"]) for t in targets}
    for t in targets:
        for category, target in t["targets"].items():
            townships[t["code"]].cells[Category(category)].target = target
    for person in listed:
        township = townships.setdefault(person.township_code, TownshipCoverage(person.township_code, "（指标外）"))
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


def listed_persons(rows_by_kind: Mapping[ListKind, Iterable[tuple[uuid.UUID, str | None]]]) -> list[ListedPerson]:
    """One entry per person: the most specific category they are listed in, with the township given there
    (else the one of the population register)."""
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
    return [ListedPerson(p, c, township_of[p]) for p, c in category_of.items() if p in township_of]
