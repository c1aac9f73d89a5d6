"""Monthly declarations (月结申报): what a facility declares for a month, and the checks on it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.errors import Invalid

CARE_TYPES = {"inpatient": "住院", "outpatient": "门诊", "special_disease": "门特"}
ORIGINS = {"local": "本地", "in_province": "省内异地", "cross_province": "跨省异地"}
INSURANCE_TYPES = {"employee": "城镇职工基本医疗保险", "resident": "城乡居民基本医疗保险"}
# The funds of a declaration line and the clearing input each one feeds.
FUNDS: dict[str, tuple[str, str]] = {
    "pooled_fund": ("统筹基金", "pooled_claims"),
    "large_amount_relief": ("大额救助", "relief_claims"),
    "major_illness_subsidy": ("城职大病补助", "subsidy_claims"),
    "civil_servant_subsidy": ("公务员补助", "civil_servant_subsidy"),
    "disabled_soldier_subsidy": ("军残补助", "disabled_soldier_subsidy"),
    "medical_assistance": ("医疗救助", "medical_assistance"),
    "civil_affairs_relief": ("民政优抚", "civil_affairs_relief"),
    "personal_account": ("个人账户", "personal_account"),
}


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            year, month = (int(p) for p in text.split("-"))
            if len(text) != 7 or not 1 <= month <= 12 or not 2000 <= year <= 2100:
                raise ValueError
        except ValueError:
            raise Invalid("invalid_period", "结算月份格式错误", "应为 YYYY-MM，例如 2026-03",
                          errors=[{"field": "period", "message": "应为 YYYY-MM"}]) from None  # fmt: skip
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next().first_day.toordinal() - 1)

    def next(self) -> Period:
        return Period(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


@dataclass(frozen=True)
class DeclaredLine:
    care_type: str
    origin: str
    amounts: dict[str, Decimal]  # fund → amount


@dataclass(frozen=True)
class Bill:
    bill_no: str
    care_type: str
    origin: str
    amounts: dict[str, Decimal]


def check_period_ended(period: Period, today: date) -> None:
    """A facility declares only a month that has ended (the business date is after its last day)."""
    if today <= period.last_day:
        raise Invalid("period_not_ended", "结算月份尚未结束，不能申报", f"{period} 月结申报最早于 {period.next().first_day} 提交",
                      errors=[{"field": "body.period", "message": "只能申报已结束的月份"}])  # fmt: skip


def check_lines(lines: Sequence[DeclaredLine]) -> None:
    seen = set()
    for index, line in enumerate(lines):
        key = (line.care_type, line.origin)
        if key in seen:
            raise Invalid("duplicate_line", "申报明细重复", f"{CARE_TYPES[line.care_type]}·{ORIGINS[line.origin]} 出现了两次",
                          errors=[{"field": f"body.lines.{index}", "message": "同一就医方式和来源只能申报一行"}])  # fmt: skip
        seen.add(key)


def check_bills_match(lines: Sequence[DeclaredLine], bills: Iterable[Bill]) -> int:
    """With per-bill detail, every line's every fund must equal the sum of its bills; returns the bill count."""
    sums: dict[tuple[str, str], dict[str, Decimal]] = {}
    numbers: set[str] = set()
    count = 0
    for bill in bills:
        if bill.bill_no in numbers:
            raise Invalid("duplicate_bill", "单据号重复", f"单据 {bill.bill_no} 出现了两次",
                          errors=[{"field": "body.bills", "message": f"单据号 {bill.bill_no} 重复"}])  # fmt: skip
        numbers.add(bill.bill_no)
        count += 1
        key = (bill.care_type, bill.origin)
        bucket = sums.setdefault(key, dict.fromkeys(FUNDS, Decimal(0)))
        for fund, amount in bill.amounts.items():
            bucket[fund] += amount
    if count == 0:
        return 0
    declared = {(line.care_type, line.origin): line for line in lines}
    errors = []
    for key in sorted(set(declared) | set(sums)):
        line_amounts = declared[key].amounts if key in declared else {}
        bill_amounts = sums.get(key, {})
        for fund in FUNDS:
            want, got = line_amounts.get(fund, Decimal(0)), bill_amounts.get(fund, Decimal(0))
            if want != got:
                errors.append({"field": f"body.lines[{key[0]},{key[1]}].{fund}",
                               "message": f"{CARE_TYPES[key[0]]}·{ORIGINS[key[1]]}·{FUNDS[fund][0]} 申报 {want:.2f}，明细合计 {got:.2f}"})  # fmt: skip
    if errors:
        raise Invalid("totals_mismatch", "申报合计与明细不符", errors[0]["message"], errors=errors[:50])
    return count


def totals_by_care_type(lines: Iterable[DeclaredLine]) -> dict[str, dict[str, Decimal]]:
    """Per care type, the clearing inputs the declaration feeds (all origins added up)."""
    totals: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        bucket = totals.setdefault(line.care_type, {})
        for fund, amount in line.amounts.items():
            name = FUNDS[fund][1]
            bucket[name] = bucket.get(name, Decimal("0.00")) + amount
    return totals
