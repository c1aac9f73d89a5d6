"""Employee-scheme money (职工医保征缴): contribution bases and rates, monthly notices (征缴单), late
fees and the personal account's monthly credit. Pure rules; the policy values come from the data file
`data/contributions/*.json`, each with its source (values the seeds do not give are marked sample).

- **Base** (缴费基数): the wage the unit declared for the employee, held between the floor and ceiling
  (a share of the city's average monthly wage); an employee without a declared base is assessed at the
  average wage. Rounded to the fen.
- **Month** (mid-month rule): contributions are monthly; an enrollment whose coverage has a day in the
  month pays the whole month (added on the 20th: the month is due; removed on the 3rd: still due).
- **Line** per employee: unit part = base × unit rate, personal part = base × personal rate, each
  rounded half-up to the fen; the notice's total is the sum of its lines, so it equals them to the fen.
  A flexible worker has a notice of their own: base × the flexible rate.
- **Account credit**: the personal part in full (seed 000, 《天津市基本医疗保险条例》第25条) plus the
  unit part's share by age (a share of the base, sample); flexible workers their share of the base.
  Credited when the notice is paid, never before.
- **Late fee** (滞纳金, 社会保险法 art. 86): 0.05% of the amount due per day, counted from the day
  after the due date up to the payment day inclusive, rounded to the fen.
- **Coverage follows payment**: a notice still unpaid `interrupt_after_days` after its due date
  interrupts its employees' coverage from the first day of its month.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.errors import Invalid
from shared.money import rate_share, to_money

ZERO = Decimal("0.00")


# ------------------------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class AgeShare:
    below_age: int | None  # None: every age from the previous band on
    share_of_base: Decimal


@dataclass(frozen=True)
class ContributionPolicy:
    effective_from: date
    average_monthly_wage: Decimal
    base_floor_ratio: Decimal
    base_ceiling_ratio: Decimal
    unit_rate: Decimal
    personal_rate: Decimal
    unit_part_to_account_by_age: tuple[AgeShare, ...]
    flexible_rate: Decimal
    flexible_account_share_of_base: Decimal
    retiree_monthly_credit: Decimal  # a retiree pays nothing: the pooled fund credits this each month
    late_fee_daily_rate: Decimal
    interrupt_after_days: int
    sample: bool  # any value of the version is sample data
    sources: Mapping[str, str]

    @property
    def base_floor(self) -> Decimal:
        return to_money(self.average_monthly_wage * self.base_floor_ratio)

    @property
    def base_ceiling(self) -> Decimal:
        return to_money(self.average_monthly_wage * self.base_ceiling_ratio)


def policy_from_data(version: Mapping[str, Any]) -> ContributionPolicy:
    """One version of the data file; every value carries `value`, `sample` and `source`."""

    def value(name: str) -> Any:
        return version[name]["value"]

    shares = tuple(
        AgeShare(band["below_age"], Decimal(band["share_of_base"]))
        for band in value("unit_part_to_account_by_age")
    )
    return ContributionPolicy(
        effective_from=date.fromisoformat(version["effective_from"]),
        average_monthly_wage=Decimal(value("average_monthly_wage")),
        base_floor_ratio=Decimal(value("base_floor_ratio")),
        base_ceiling_ratio=Decimal(value("base_ceiling_ratio")),
        unit_rate=Decimal(value("unit_rate")),
        personal_rate=Decimal(value("personal_rate")),
        unit_part_to_account_by_age=shares,
        flexible_rate=Decimal(value("flexible_rate")),
        flexible_account_share_of_base=Decimal(value("flexible_account_share_of_base")),
        retiree_monthly_credit=Decimal(value("retiree_monthly_credit")),
        late_fee_daily_rate=Decimal(value("late_fee_daily_rate")),
        interrupt_after_days=int(value("interrupt_after_days")),
        sample=any(isinstance(v, dict) and v.get("sample") for v in version.values()),
        sources={k: v["source"] for k, v in version.items() if isinstance(v, dict) and "source" in v},
    )


def policy_for(policies: Iterable[ContributionPolicy], month: date) -> ContributionPolicy:
    """The version in force on the month's first day."""
    in_force = [p for p in policies if p.effective_from <= month]
    if not in_force:
        raise Invalid(
            "no_contribution_policy",
            "该月份没有缴费政策",
            f"{month:%Y-%m} 之前没有生效的缴费基数和费率",
            errors=[{"field": "month", "message": "没有生效的缴费政策"}],
        )
    return max(in_force, key=lambda p: p.effective_from)


# ------------------------------------------------------------------------------------------- months


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def parse_month(text: str, field: str = "month") -> date:
    """`2026-03` → 2026-03-01."""
    try:
        year, number = text.split("-")
        if len(year) != 4 or len(number) != 2:
            raise ValueError(text)
        return date(int(year), int(number), 1)
    except ValueError:
        raise Invalid(
            "validation_failed", "请求参数不合法", errors=[{"field": field, "message": "月份格式为 YYYY-MM"}]
        ) from None


def require_issuable(month: date, today: date) -> None:
    """A notice is made for the current month or an earlier one, never ahead of time."""
    if month > month_start(today):
        raise Invalid(
            "month_in_future",
            "不能为以后的月份生成征缴单",
            f"{month:%Y-%m} 尚未开始",
            errors=[{"field": "month", "message": f"不得晚于 {today:%Y-%m}"}],
        )


def pays_for_month(start: date, end: date | None, month: date) -> bool:
    """Mid-month rule: coverage with a day in the month pays the whole month."""
    return start <= month_end(month) and (end is None or end >= month)


def due_on(month: date) -> date:
    """当月费款当月缴清 (sample): the month's last day."""
    return month_end(month)


# --------------------------------------------------------------------------------------- the lines


def contribution_base(declared: Decimal | None, policy: ContributionPolicy) -> Decimal:
    """The declared wage between the floor and the ceiling; none declared: the average wage."""
    if declared is None:
        return to_money(policy.average_monthly_wage)
    return min(max(to_money(declared), policy.base_floor), policy.base_ceiling)


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def unit_share_for_age(policy: ContributionPolicy, age: int | None) -> Decimal:
    """The unit part's share credited to the account, by the age band on the month's first day (unknown
    age: the youngest band, the smallest share)."""
    for band in policy.unit_part_to_account_by_age:
        if age is None or band.below_age is None or age < band.below_age:
            return band.share_of_base
    return policy.unit_part_to_account_by_age[-1].share_of_base


class PayerKind(StrEnum):
    unit = "unit"  # an employer's notice for its employees
    person = "person"  # a flexible worker's own notice


@dataclass(frozen=True)
class Insured:
    """One enrollment that may pay for a month, as the notice needs it."""

    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    benefit_start: date
    benefit_end: date | None
    birth_date: date | None
    declared_base: Decimal | None


@dataclass(frozen=True)
class Line:
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    base: Decimal
    unit_part: Decimal
    personal_part: Decimal
    account_credit: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_part + self.personal_part


def employee_line(insured: Insured, policy: ContributionPolicy, month: date) -> Line:
    base = contribution_base(insured.declared_base, policy)
    personal = rate_share(base, policy.personal_rate)
    unit_credit = rate_share(base, unit_share_for_age(policy, age_on(insured.birth_date, month)))
    return Line(
        insured.enrollment_id,
        insured.person_id,
        base,
        rate_share(base, policy.unit_rate),
        personal,
        personal + unit_credit,
    )


def flexible_line(insured: Insured, policy: ContributionPolicy) -> Line:
    base = contribution_base(insured.declared_base, policy)
    return Line(
        insured.enrollment_id,
        insured.person_id,
        base,
        ZERO,
        rate_share(base, policy.flexible_rate),
        rate_share(base, policy.flexible_account_share_of_base),
    )


def lines_for_month(
    insured: Iterable[Insured], policy: ContributionPolicy, month: date, kind: PayerKind
) -> list[Line]:
    """The month's lines of one payer: every enrollment whose coverage touches the month."""
    paying = [i for i in insured if pays_for_month(i.benefit_start, i.benefit_end, month)]
    if kind is PayerKind.unit:
        return [employee_line(i, policy, month) for i in paying]
    return [flexible_line(i, policy) for i in paying]


def notice_total(lines: Iterable[Line]) -> Decimal:
    return sum((line.total for line in lines), ZERO)


# ---------------------------------------------------------------------------------------- late fees


def days_late(due: date, paid_on: date) -> int:
    return max((paid_on - due).days, 0)


def late_fee(amount: Decimal, due: date, paid_on: date, policy: ContributionPolicy) -> Decimal:
    """滞纳金: amount × 0.05% × the days from the day after the due date to the payment day."""
    return to_money(amount * policy.late_fee_daily_rate * days_late(due, paid_on))


def interrupts_on(due: date, policy: ContributionPolicy) -> date:
    """The first day on which an unpaid notice interrupts its employees' coverage."""
    return due + timedelta(days=policy.interrupt_after_days + 1)


def last_covered_day(month: date, benefit_start: date) -> date:
    """Unpaid from `month`: coverage ends the day before it (or the day before it began, if it began in it)."""
    return max(month, benefit_start) - timedelta(days=1)


# ------------------------------------------------------------------------------------ the account


class EntryKind(StrEnum):
    contribution = "contribution"  # 按月划入
    transfer_in = "transfer_in"  # 转入余额 (transfer.completed)
    withdrawal = "withdrawal"  # 一次性支取 (paid by claims)
    retiree_allocation = "retiree_allocation"  # 退休人员按月划入 (from the pooled fund, no contribution)


CREDITS = frozenset({EntryKind.contribution, EntryKind.transfer_in, EntryKind.retiree_allocation})


def retiree_credit_reference(month: date) -> str:
    """The natural key of a retiree's monthly credit: one per person and month."""
    return f"retiree:{month:%Y-%m}"


@dataclass(frozen=True)
class AccountEntry:
    kind: EntryKind
    amount: Decimal  # always positive; the kind says which way it goes
    on: date
    reference: str  # the natural key: one entry per notice and person, transfer, withdrawal


def signed(entry: AccountEntry) -> Decimal:
    return entry.amount if entry.kind in CREDITS else -entry.amount


def balance(entries: Iterable[AccountEntry]) -> Decimal:
    return to_money(sum((signed(e) for e in entries), ZERO))


# --------------------------------------------------------------------------- the bank's payment file


def notice_number(month: date, kind: PayerKind, payer_code: str, sequence: int = 1) -> str:
    """The number printed on the notice and quoted by the bank or tax system: month and payer, and the
    sequence of a supplementary notice (补收) of the same month."""
    number = f"{month:%Y%m}-{payer_code}" if kind is PayerKind.unit else f"{month:%Y%m}-P{payer_code}"
    return number if sequence == 1 else f"{number}-{sequence}"


# The file's columns, with the Chinese headers a bank's export may carry.
COLUMNS = {
    "notice_number": "征缴单号",
    "amount": "缴费金额",
    "paid_on": "缴费日期",
    "bank_reference": "银行流水号",
}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class PaymentRow:
    line: int  # the file's line (the header is line 1)
    notice_number: str
    amount: Decimal
    paid_on: date
    bank_reference: str  # the natural key of a payment: the same file twice applies once


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


def header_columns(header: list[str]) -> dict[str, int] | RowProblem:
    """Where each column is; English or Chinese names, a BOM tolerated."""
    names = [h.strip().lstrip("\ufeff") for h in header]
    found: dict[str, int] = {}
    for column, chinese in COLUMNS.items():
        for position, name in enumerate(names):
            if name in (column, chinese):
                found[column] = position
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        return RowProblem(
            1, ",".join(missing), "缺少列：" + "、".join(f"{c}（{COLUMNS[c]}）" for c in missing)
        )
    return found


def parse_payment_row(
    line: int, cells: list[str], columns: dict[str, int], today: date
) -> PaymentRow | list[RowProblem]:
    """One row, every problem of it at once."""

    def cell(name: str) -> str:
        position = columns[name]
        return cells[position].strip() if position < len(cells) else ""

    problems: list[RowProblem] = []
    number, reference = cell("notice_number"), cell("bank_reference")
    if not number:
        problems.append(RowProblem(line, "notice_number", "征缴单号不能为空"))
    if not reference or len(reference) > 60:
        problems.append(RowProblem(line, "bank_reference", "银行流水号不能为空，且不超过60个字符"))
    amount: Decimal | None = None
    try:
        amount = to_money(cell("amount")) if _is_money_text(cell("amount")) else None
    except ValueError:
        amount = None
    if amount is None or amount <= 0:
        problems.append(RowProblem(line, "amount", "缴费金额须为大于0、最多两位小数的数字"))
    paid: date | None = None
    try:
        paid = date.fromisoformat(cell("paid_on"))
    except ValueError:
        problems.append(RowProblem(line, "paid_on", "缴费日期格式为 YYYY-MM-DD"))
    if paid is not None and paid > today:
        problems.append(RowProblem(line, "paid_on", f"缴费日期不得晚于今天 {today}"))
    if problems or amount is None or paid is None:
        return problems
    return PaymentRow(line, number, amount, paid, reference)


def _is_money_text(text: str) -> bool:
    head, _, tail = text.partition(".")
    return head.isdigit() and (not tail or (tail.isdigit() and len(tail) <= 2))
