"""Maternity benefits (生育保险), pure: files 000 and 001 (DOMAIN.md, svc-claims → Maternity).

- Residents (seed 001): prenatal checks are paid up to a limit by the weeks of pregnancy at its end;
  deliveries and family-planning operations at fixed amounts (by level for induced labour); delivery
  complications, a referral's sending-hospital costs and some operations at 60% of the items; a
  delivery with a severe comorbidity at the resident inpatient ratio.
  Interpretation: a fixed amount (定额) or a limit (限额) is paid up to the cost of the bill — a cash
  reimbursement never pays back more than was paid.
- Employees: bills the person paid in advance (垫付) are paid as the documents say (限额、定额和按项目
  支付相结合, 津人社规字〔2017〕1号 第14条), but no amount is given: the employee table is a labelled
  sample of the same shape as the residents'. The allowance (生育津贴) is the unit's average monthly
  wage of last year ÷ 30 × leave days (policy data; the seeds give no leave days, so a labelled sample
  too) and needs a pregnancy registration, and a maternity remote-care registration when the care was
  in another region. The unit files both together.
- Filing window: by the unit within 12 months counted from the month after the birth or the end of
  the pregnancy (seed 000, 津人社规字〔2017〕1号 第18条). Payment within 20 working days of acceptance.
- Who and how often (seed 001's table read per row): each item is the mother's, the father's or
  either's (family-planning operations name the sex); the prenatal limit and the delivery (or the
  termination) are per pregnancy, each delivery item once per pregnancy, an operation once a day; the
  prenatal checks, deliveries and their items rest on the pregnancy registration (seed 000: maternity
  hospitalisation and the allowance need it), whose start gives the weeks. The sex is the person's
  record's, never what a filer types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.money import split_ratio, to_money

PAYMENT_DAYS = 20  # working days from acceptance to payment
FILING_MONTHS = 12


class MaternityError(ValueError):
    """The claim cannot be computed (unknown item, amount not in the documents …): a 422 at the API."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PrenatalLimit(_Frozen):
    below_weeks: int | None  # None: from the last band's start, or a delivery
    limit: Decimal
    label: str


class ItemRule(_Frozen):
    label: str
    payment: Literal["fixed", "fixed_by_level", "limit", "items", "inpatient_ratio"]
    amount: Decimal | None = None
    ratio: Decimal | None = None
    by_level: dict[int, Decimal] | None = None


class MaternityTable(_Frozen):
    """The items of one scheme's maternity benefits for a year: prenatal limits by weeks, items and how each is
    paid. A policy version like the benefit policy's: in force from ``effective_from`` (default 1 January) until
    the next version of its year starts; the release ships version 1, admins publish the later ones."""

    source: str
    region: str = Field(pattern=r"^[0-9]{6}$")
    scheme: Literal["resident", "employee"]
    year: int = Field(ge=2000, le=2100)
    version: int = Field(1, ge=1)  # given when published (the release's files carry theirs)
    effective_from: date | None = None
    title: str = ""
    sample: bool = False  # values not in the documents
    prenatal_limits: tuple[PrenatalLimit, ...] = Field(min_length=1)
    items: dict[str, ItemRule]

    @model_validator(mode="after")
    def _starts_in_its_year(self) -> MaternityTable:
        if self.effective_from is not None and self.effective_from.year != self.year:
            raise ValueError(f"生效日期 {self.effective_from} 不在政策年度 {self.year} 内")
        return self

    @property
    def starts(self) -> date:
        return self.effective_from or date(self.year, 1, 1)

    @property
    def key(self) -> str:
        """What a payment names: ``120000/maternity/resident/2021/v1``."""
        return f"{self.region}/maternity/{self.scheme}/{self.year}/v{self.version}"


ALLOWANCE_LEAVE_KEYS = frozenset(
    {
        "delivery",
        "delivery_difficult_extra",
        "each_additional_baby",
        "miscarriage_before_4_months",
        "miscarriage_from_4_months",
    }
)


class AllowancePolicy(_Frozen):
    """生育津贴's leave days of a region. Not a yearly table: a version is in force from its ``effective_from``
    until a later version starts, whatever the year (leave days change when the regulation does)."""

    source: str
    region: str = Field(pattern=r"^[0-9]{6}$")
    version: int = Field(1, ge=1)
    effective_from: date
    title: str = ""
    sample: bool
    divisor_days: int = Field(gt=0)
    leave_days: dict[str, int]

    @model_validator(mode="after")
    def _every_case_has_its_days(self) -> AllowancePolicy:
        missing = sorted(ALLOWANCE_LEAVE_KEYS - set(self.leave_days))
        if missing:
            raise ValueError(f"缺少产假天数: {', '.join(missing)}")
        if any(days < 0 for days in self.leave_days.values()):
            raise ValueError("产假天数不能为负数")
        return self

    @property
    def starts(self) -> date:
        return self.effective_from

    @property
    def year(self) -> int:
        return self.effective_from.year

    @property
    def scheme(self) -> str:
        return "employee"

    @property
    def key(self) -> str:
        """What a payment names: ``120000/maternity_allowance/2021-01-01/v1``."""
        return f"{self.region}/maternity_allowance/{self.effective_from.isoformat()}/v{self.version}"


@dataclass(frozen=True)
class MaternityBenefit:
    item: str
    label: str
    cost: Decimal
    fund: Decimal
    person: Decimal
    rule: str  # how it was paid, in words


def prenatal_limit(policy: MaternityTable, weeks: int | None, delivered: bool) -> PrenatalLimit:
    """The band of the weeks at the end of the pregnancy; a delivery takes the last band."""
    if delivered or weeks is None:
        return policy.prenatal_limits[-1]
    if weeks < 0 or weeks > 45:
        raise MaternityError("孕周须在0至45周之间")
    return next(
        band for band in policy.prenatal_limits if band.below_weeks is None or weeks < band.below_weeks
    )


def prenatal(policy: MaternityTable, cost: Decimal, weeks: int | None, delivered: bool) -> MaternityBenefit:
    band = prenatal_limit(policy, weeks, delivered)
    return _up_to(
        "prenatal",
        f"产前检查费（{band.label}）",
        cost,
        band.limit,
        _rule(policy, f"限额支付 {band.limit} 元"),
    )


def _rule(policy: MaternityTable, words: str) -> str:
    return f"{words}（示例数据）" if policy.sample else words


def maternity_item(
    policy: MaternityTable,
    item: str,
    cost: Decimal,
    facility_level: int,
    inpatient_ratio: Decimal | None = None,
) -> MaternityBenefit:
    """One delivery or family-planning item of the table."""
    rule = policy.items.get(item)
    if rule is None:
        raise MaternityError(f"未知的生育项目: {item}")
    if rule.payment == "fixed_by_level":
        amount = (rule.by_level or {}).get(facility_level)
        if amount is None:
            raise MaternityError(f"{rule.label}：没有 {facility_level} 级医疗机构的定额")
        return _up_to(
            item, rule.label, cost, amount, _rule(policy, f"{facility_level}级医院定额 {amount} 元")
        )
    if rule.payment in ("fixed", "limit"):
        if rule.amount is None:
            raise MaternityError(f"{rule.label}的支付标准文件未载明，不能计算")
        kind = "定额" if rule.payment == "fixed" else "限额"
        return _up_to(item, rule.label, cost, rule.amount, _rule(policy, f"{kind}支付 {rule.amount} 元"))
    ratio = rule.ratio if rule.payment == "items" else inpatient_ratio
    if ratio is None:
        raise MaternityError(f"{rule.label}按基本医保住院比例支付，须提供该比例")
    fund, person = split_ratio(to_money(cost), ratio)
    return MaternityBenefit(
        item, rule.label, to_money(cost), fund, person, _rule(policy, f"按项目付费 {ratio:.0%}")
    )


def _up_to(item: str, label: str, cost: Decimal, amount: Decimal, rule: str) -> MaternityBenefit:
    cost = to_money(cost)
    if cost < 0:
        raise MaternityError("费用不能为负数")
    fund = min(cost, amount)
    return MaternityBenefit(item, label, cost, fund, cost - fund, rule)


def allowance(
    policy: AllowancePolicy,
    average_monthly_wage: Decimal,
    case: str,
    extra_babies: int = 0,
    difficult: bool = False,
) -> tuple[int, Decimal]:
    """生育津贴: (leave days, amount) = days × the unit's average monthly wage of last year ÷ 30."""
    if case not in ("delivery", "miscarriage_before_4_months", "miscarriage_from_4_months"):
        raise MaternityError(f"未知的生育津贴情形: {case}")
    if average_monthly_wage <= 0 or extra_babies < 0:
        raise MaternityError("月平均工资须为正数，多胞胎数不能为负")
    days = policy.leave_days[case]
    if case == "delivery":
        days += extra_babies * policy.leave_days["each_additional_baby"] + (
            policy.leave_days["delivery_difficult_extra"] if difficult else 0
        )
    return days, to_money(average_monthly_wage * days / policy.divisor_days)


def filing_window(event_day: date) -> tuple[date, date]:
    """申报期: 12 months from the 1st of the month after the birth or end of pregnancy."""
    opens = date(event_day.year + event_day.month // 12, event_day.month % 12 + 1, 1)
    closes_year, closes_month = (
        opens.year + (opens.month - 1 + FILING_MONTHS) // 12,
        (opens.month - 1 + FILING_MONTHS) % 12 + 1,
    )
    return opens, date(closes_year, closes_month, 1) - timedelta(days=1)


def require_in_filing_window(event_day: date, filed_on: date) -> None:
    opens, closes = filing_window(event_day)
    if filed_on > closes:
        raise MaternityError(
            f"超过申报期限：应于 {opens} 至 {closes} 期间申报（生育或终止妊娠次月起12个月内）"
        )


# ------------------------------------------------------------------------------- who and how often

Sex = Literal["male", "female"]
SEX_WORDS = {"male": "男性", "female": "女性"}
MALE_ITEMS = frozenset({"male_sterilisation"})  # 男性绝育术
EITHER_SEX = frozenset(
    {"sterilisation_reversal", "family_planning_complication"}
)  # 复通手术、计划生育手术并发症: either's
DELIVERIES = frozenset({"natural_delivery", "assisted_delivery", "caesarean", "caesarean_with_surgery"})
TERMINATIONS = frozenset({"induced_labour", "abortion", "high_risk_abortion", "spontaneous_or_drug_abortion"})
DELIVERY_ITEMS = frozenset({"delivery_complication", "severe_comorbidity", "referral_sending_hospital"})
# What rests on a registered pregnancy: its checks, its delivery and the delivery's items, a late termination.
NEEDS_PREGNANCY = frozenset({"prenatal", "induced_labour"}) | DELIVERIES | DELIVERY_ITEMS
ALLOWANCE = "maternity_allowance"


def item_sex(item: str) -> Sex | None:
    """Whose item it is: the father's, either's (None) or — prenatal checks, deliveries, the rest — the mother's."""
    if item in MALE_ITEMS:
        return "male"
    return None if item in EITHER_SEX else "female"


def paid_event(item: str) -> str:
    """The event an item pays for: a pregnancy ends once (a delivery or a termination), its checks are one
    limit, each other item is its own event."""
    if item in DELIVERIES or item in TERMINATIONS:
        return "end"
    return item


@dataclass(frozen=True)
class Pregnancy:
    """The pregnancy registration valid on the event day: its id names the pregnancy, its start gives the weeks."""

    registration_id: str
    started_on: date

    def weeks_on(self, day: date) -> int:
        return max(0, (day - self.started_on).days // 7)


def event_key(item: str, event_day: date, pregnancy: Pregnancy | None) -> str:
    """The natural key an item is paid once under (per person): the pregnancy's when it has one, else the day's."""
    event = paid_event(item)
    if pregnancy is not None and (item in NEEDS_PREGNANCY or item in TERMINATIONS or item == ALLOWANCE):
        return f"pregnancy:{pregnancy.registration_id}:{event}"
    return f"{event}:{event_day.isoformat()}"


def item_problems(items: Sequence[str], sex: Sex | None, pregnancy: Pregnancy | None) -> list[dict[str, str]]:
    """Every reason the items cannot be paid to this person for this event, all at once (field, code, message)."""
    problems: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where, whose = f"items[{i}]", item_sex(item)
        if whose is not None and sex is None:
            problems.append(
                {
                    "field": where,
                    "code": "sex_not_recorded",
                    "message": "参保记录中没有性别，须核验身份证号码",
                }
            )
        elif whose is not None and whose != sex:
            problems.append(
                {
                    "field": where,
                    "code": "maternity_item_sex",
                    "message": f"该项目仅限{SEX_WORDS[whose]}参保人",
                }
            )
        if item in NEEDS_PREGNANCY and pregnancy is None:
            problems.append(
                {
                    "field": where,
                    "code": "pregnancy_registration_required",
                    "message": "须有该日期有效的生育保险妊娠登记",
                }
            )
        event = paid_event(item)
        if event != "prenatal" and event in seen:
            problems.append({"field": where, "code": "maternity_event_repeated",
                             "message": f"与第 {seen[event] + 1} 项为同一事件（一次妊娠只有一次分娩或终止妊娠，每项只支付一次）"})  # fmt: skip
        seen.setdefault(event, i)
    return problems


def prenatal_band_weeks(
    pregnancy: Pregnancy | None, event_day: date, stated_weeks: Sequence[int | None]
) -> int | None:
    """The weeks at the end of the pregnancy: from its registration when there is one, else as filed."""
    if pregnancy is not None:
        return pregnancy.weeks_on(event_day)
    known = [w for w in stated_weeks if w is not None]
    return max(known) if known else None
