"""Benefit policy as data: one JSON file per region, scheme and year, validated on load.

Every value carries the wording of the document it comes from (``source``); values the documents do
not give are marked ``sample: true``. The engine (``domain/benefits.py``) reads only these models.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.money import Money

POLICY_DIR = Path(__file__).parent / "data" / "policies"

Tier = Literal["student_child", "adult_high", "adult_middle", "adult_low"]
TIERS: tuple[Tier, ...] = ("student_child", "adult_high", "adult_middle", "adult_low")
LEVELS = (1, 2, 3)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _rate(value: Decimal) -> Decimal:
    if not (Decimal(0) <= value <= Decimal(1)):
        raise ValueError("比例必须在0到1之间")
    return value


class Sourced(_Model):
    source: str = Field(min_length=1)
    sample: bool = False


class AmountParam(Sourced):
    value: Money

    @field_validator("value")
    @classmethod
    def _non_negative(cls, v: Decimal) -> Decimal:
        if v < 0:
            raise ValueError("金额不能为负数")
        return v


class RateParam(Sourced):
    value: Decimal

    _check = field_validator("value")(classmethod(lambda cls, v: _rate(v)))


class IntParam(Sourced):
    value: int = Field(ge=0)


class FlagParam(Sourced):
    value: bool


class LevelsParam(Sourced):
    value: list[Literal[1, 2, 3]]


class RatioTable(Sourced):
    by_level: dict[int, dict[Tier, Decimal]]

    @model_validator(mode="after")
    def _complete(self) -> RatioTable:
        if set(self.by_level) != set(LEVELS):
            raise ValueError("比例表必须覆盖一级、二级、三级")
        for level, row in self.by_level.items():
            if set(row) != set(TIERS):
                raise ValueError(f"{level}级比例表缺少档次")
            for r in row.values():
                _rate(r)
        return self

    def ratio(self, level: int, tier: Tier) -> Decimal:
        return self.by_level[level][tier]


class OutpatientRules(_Model):
    ratio: RateParam
    deductible: AmountParam
    cap: AmountParam
    eligible_levels: LevelsParam
    family_doctor_cap_bonus: AmountParam
    family_doctor_ratio_bonus: RateParam
    village_fee_ratio: RateParam
    deductible_relief_per_year: AmountParam
    deductible_relief_max_years: IntParam
    cap_carry_over: FlagParam


class RemoteRules(_Model):
    referred_extra_self_pay: RateParam
    self_referred_extra_self_pay: RateParam
    self_referred_levels: LevelsParam


class NotPayable(Sourced):
    code: str
    label: str


class BasicRules(_Model):
    inpatient_ratios: RatioTable
    special_disease_ratios: RatioTable
    deductible: AmountParam
    second_stay_waives_deductible: FlagParam
    cross_period_single_deductible: FlagParam
    annual_cap: AmountParam
    family_sickbed_max_days: IntParam
    outpatient: OutpatientRules
    remote: RemoteRules
    not_payable: list[NotPayable]


class Band(_Model):
    up_to: Money
    rate: Decimal

    _check = field_validator("rate")(classmethod(lambda cls, v: _rate(v)))


class BandTable(Sourced):
    rows: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _increasing(self) -> BandTable:
        tops = [b.up_to for b in self.rows]
        if tops != sorted(tops) or len(set(tops)) != len(tops):
            raise ValueError("分段上限必须递增")
        return self


class Favoured(Sourced):
    groups: list[str]
    threshold_factor: Decimal
    rate_bonus: Decimal
    no_ceiling: bool


class MajorIllnessRules(_Model):
    threshold: AmountParam
    ceiling: AmountParam
    bands: BandTable
    favoured: Favoured

    @model_validator(mode="after")
    def _fits(self) -> MajorIllnessRules:
        if self.bands.rows[0].up_to <= self.threshold.value:
            raise ValueError("第一段上限必须高于起付线")
        if self.bands.rows[-1].up_to != self.ceiling.value:
            raise ValueError("最后一段上限必须等于封顶线")
        return self


class AssistanceGroup(Sourced):
    code: str
    label: str
    match: list[list[str]] = Field(min_length=1)
    outpatient_base: Money
    outpatient_share: Decimal
    outpatient_cap: Money
    inpatient_low_rate: Decimal
    inpatient_high_rate: Decimal

    def matches(self, groups: frozenset[str]) -> bool:
        return any(set(need) <= groups for need in self.match)


class VeteranGroup(Sourced):
    code: str
    label: str
    match: list[list[str]] = Field(min_length=1)
    outpatient_share: Decimal
    inpatient_share: Decimal

    def matches(self, groups: frozenset[str]) -> bool:
        return any(set(need) <= groups for need in self.match)


class AssistanceRules(_Model):
    inpatient_band: AmountParam
    groups: list[AssistanceGroup]
    veterans: list[VeteranGroup]


class Policy(_Model):
    region: str = Field(pattern=r"^[0-9]{6}$")
    region_name: str
    scheme: Literal["employee", "flexible", "resident"]
    year: int = Field(ge=2000, le=2100)
    version: int = Field(ge=1)
    title: str
    documents: list[str]
    sample: bool = False
    basic: BasicRules
    major_illness: MajorIllnessRules | None = None
    assistance: AssistanceRules | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.region, self.scheme, self.year)


class PolicyNotFound(LookupError):
    pass


def parse_policy(text: str) -> Policy:
    return Policy.model_validate_json(text)


@cache
def all_policies() -> dict[tuple[str, str, int], Policy]:
    found: dict[tuple[str, str, int], Policy] = {}
    for path in sorted(POLICY_DIR.glob("*.json")):
        policy = parse_policy(path.read_text(encoding="utf-8"))
        if policy.key in found:
            raise ValueError(f"重复的政策文件: {policy.key} ({path.name})")
        found[policy.key] = policy
    return found


def load_policy(region: str, scheme: str, year: int) -> Policy:
    """The policy for (region, scheme, year); PolicyNotFound when none is on file."""
    try:
        return all_policies()[(region, scheme, year)]
    except KeyError:
        raise PolicyNotFound(f"无 {region} {scheme} {year} 年度待遇政策") from None


__all__ = ["Policy", "PolicyNotFound", "Tier", "TIERS", "LEVELS", "load_policy", "parse_policy", "all_policies"]
