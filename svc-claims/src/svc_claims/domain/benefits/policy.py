"""The shape of a benefit policy: what the engine reads, validated so a broken table never loads.

Pure (pydantic models, no I/O). The files live in ``svc_claims/data/policies/`` and are loaded by
``svc_claims.repository.policies``. Every value carries the wording of the document it comes from (``source``);
values the documents do not give are marked ``sample: true`` (and a policy that is sample data as a
whole, like the employee table, has ``sample: true`` at the top).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.money import Money, rate_share

LEVELS = (1, 2, 3)
RATE_STEP = Decimal("0.000001")
# The resident tiers of the 2021 Tianjin table (other schemes declare their own in the file).
TIERS: tuple[str, ...] = ("student_child", "adult_high", "adult_middle", "adult_low")
Scheme = Literal["employee", "flexible", "resident"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _rate(value: Decimal) -> Decimal:
    if not (Decimal(0) <= value <= Decimal(1)):
        raise ValueError("比例必须在0到1之间")
    if value != value.quantize(RATE_STEP):
        raise ValueError(
            "比例最多6位小数"
        )  # the engine's products stay exact (shared.money.in_money_context)
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


class CodesParam(Sourced):
    value: list[str]


class TierDef(_Model):
    code: str = Field(pattern=r"^[a-z_]+$")
    label: str


class RatioTable(Sourced):
    by_level: dict[int, dict[str, Decimal]]

    @model_validator(mode="after")
    def _complete(self) -> RatioTable:
        if set(self.by_level) != set(LEVELS):
            raise ValueError("比例表必须覆盖一级、二级、三级")
        for row in self.by_level.values():
            for r in row.values():
                _rate(r)
        return self

    def ratio(self, level: int, tier: str) -> Decimal:
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
    as_local_classes: CodesParam


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

    _f = field_validator("threshold_factor", "rate_bonus")(classmethod(lambda cls, v: _rate(v)))


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

    @cached_property
    def favoured_groups(self) -> frozenset[str]:
        return frozenset(self.favoured.groups)

    @cached_property
    def segments(self) -> dict[bool, tuple[tuple[Decimal, Decimal | None, Decimal], ...]]:
        """(from, to — None: no ceiling —, rate) of each band, for everyone (False) and the favoured groups (True):
        the favoured start at the threshold lowered by the factor, with the rate bonus, the last band open."""
        favoured = self.favoured

        def bands(
            start: Decimal, bonus: Decimal, open_top: bool
        ) -> tuple[tuple[Decimal, Decimal | None, Decimal], ...]:
            tops: list[Decimal | None] = [band.up_to for band in self.bands.rows]
            if open_top:
                tops[-1] = None
            starts = [start, *(band.up_to for band in self.bands.rows[:-1])]
            return tuple(
                (lo, hi, min(Decimal(1), band.rate + bonus))
                for lo, hi, band in zip(starts, tops, self.bands.rows, strict=True)
            )

        lowered = rate_share(self.threshold.value, favoured.threshold_factor)
        return {
            False: bands(self.threshold.value, Decimal(0), False),
            True: bands(lowered, favoured.rate_bonus, favoured.no_ceiling),
        }


class _Grouped(Sourced):
    code: str
    label: str
    match: list[list[str]] = Field(min_length=1)

    def matches(self, groups: frozenset[str]) -> bool:
        return any(need <= groups for need in self._match_sets)

    @cached_property
    def _match_sets(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(need) for need in self.match)


class AssistanceGroup(_Grouped):
    outpatient_base: Money  # 门诊支付标准: the in-scope personal cost counted per year (cap = base × share)
    outpatient_share: Decimal
    outpatient_cap: Money
    inpatient_low_rate: Decimal
    inpatient_high_rate: Decimal

    _r = field_validator("outpatient_share", "inpatient_low_rate", "inpatient_high_rate")(
        classmethod(lambda cls, v: _rate(v))
    )

    @model_validator(mode="after")
    def _cap_is_base_times_share(self) -> AssistanceGroup:
        if self.outpatient_base * self.outpatient_share != self.outpatient_cap:
            raise ValueError(f"{self.code}: 门诊补助支付限额应等于门诊支付标准×报销比例")
        return self


class VeteranGroup(_Grouped):
    outpatient_share: Decimal
    inpatient_share: Decimal

    _r = field_validator("outpatient_share", "inpatient_share")(classmethod(lambda cls, v: _rate(v)))


class CatastrophicRules(Sourced):
    """重特大疾病医疗救助: share of the year's remaining inpatient burden from a threshold, capped per year."""

    threshold: Money
    rate: Decimal
    annual_cap: Money

    _r = field_validator("rate")(classmethod(lambda cls, v: _rate(v)))


class IllnessImpoverishedRules(Sourced):
    """因病支出型家庭医疗救助: share of the year's remaining inpatient burden, capped per family and year."""

    group: str
    rate: Decimal
    family_cap: Money

    _r = field_validator("rate")(classmethod(lambda cls, v: _rate(v)))


class AssistanceRules(_Model):
    inpatient_band: AmountParam
    groups: list[AssistanceGroup]
    veterans: list[VeteranGroup]
    catastrophic: CatastrophicRules | None = None
    illness_impoverished: IllnessImpoverishedRules | None = None

    @model_validator(mode="after")
    def _codes_unique(self) -> AssistanceRules:
        codes = [g.code for g in (*self.groups, *self.veterans)]
        if len(set(codes)) != len(codes):
            raise ValueError("救助、优抚对象的代码重复")
        return self

    def group_for(self, special_groups: frozenset[str]) -> AssistanceGroup | VeteranGroup | None:
        """The veterans' group first, else the first assistance group the person's special groups match."""
        candidates: tuple[AssistanceGroup | VeteranGroup, ...] = (*self.veterans, *self.groups)
        return next((g for g in candidates if g.matches(special_groups)), None)


class Policy(_Model):
    """One version of a region's and scheme's rules for a benefit year, in force from ``effective_from``
    (default 1 January) until the next version of the year starts or the year ends."""

    region: str = Field(pattern=r"^[0-9]{6}$")
    region_name: str
    scheme: Scheme
    year: int = Field(ge=2000, le=2100)
    version: int = Field(1, ge=1)  # given when published (the bundled files carry theirs)
    effective_from: date | None = None
    title: str
    documents: list[str]
    sample: bool = False
    tiers: list[TierDef] = Field(min_length=1)
    basic: BasicRules
    major_illness: MajorIllnessRules | None = None
    assistance: AssistanceRules | None = None

    @model_validator(mode="after")
    def _starts_in_its_year(self) -> Policy:
        if self.effective_from is not None and self.effective_from.year != self.year:
            raise ValueError(f"生效日期 {self.effective_from} 不在政策年度 {self.year} 内")
        return self

    @model_validator(mode="after")
    def _tables_cover_the_tiers(self) -> Policy:
        codes = {t.code for t in self.tiers}
        if len(codes) != len(self.tiers):
            raise ValueError("档次代码重复")
        for name in ("inpatient_ratios", "special_disease_ratios"):
            table: RatioTable = getattr(self.basic, name)
            for level, row in table.by_level.items():
                if set(row) != codes:
                    raise ValueError(f"{name} {level}级比例表的档次与政策档次不符")
        return self

    @cached_property
    def key(self) -> tuple[str, str, int, str]:
        """What a bill names: region, scheme, benefit year and version (``120000/resident/2021/v1``)."""
        return (self.region, self.scheme, self.year, f"v{self.version}")

    @cached_property
    def starts(self) -> date:
        return self.effective_from or date(self.year, 1, 1)

    @cached_property
    def tier_codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.tiers)

    @cached_property
    def not_payable_labels(self) -> dict[str, str]:
        return {n.code: n.label for n in self.basic.not_payable}

    @cached_property
    def derived(self) -> dict[tuple[object, ...], object]:
        """What the engine derives from the policy (the terms of each kind of claim and of each set of special
        groups), remembered here so each is worked out once per policy rather than once per quote. Its keys come
        from closed sets (care types, levels, tiers, remote classes, refusals, the special groups) and a key
        the policy does not know is refused before it is stored, so it stays small."""
        return {}


__all__ = [
    "LEVELS",
    "TIERS",
    "AmountParam",
    "AssistanceGroup",
    "CatastrophicRules",
    "IllnessImpoverishedRules",
    "MajorIllnessRules",
    "Policy",
    "RateParam",
    "RatioTable",
    "VeteranGroup",
]  # fmt: skip
