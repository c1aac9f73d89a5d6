"""The benefit engine: basic insurance → major-illness insurance → medical assistance / veterans' subsidy.

Pure: no I/O, no clock. ``quote(ctx, policy)`` gives one ``Bill`` whose lines explain every amount
(rule code, Chinese label, base, rate, amount) and whose shares add up to the total exactly to the fen.
It runs in money's decimal context (``shared.money.in_money_context``): every rate is applied by
``_share``, exact and then rounded ROUND_HALF_UP to the fen once, where the documents apply a rate;
everything else is addition, subtraction and ``min`` on whole fen.

It is a hot path (apps quote as the user types, every settlement runs it), so what a policy alone
decides is worked out once per policy and kept in ``Policy.derived``: for each kind of claim (care
type, level, tier, remote-care class, refusal) a ``_Kind`` — the fund's ratio after remote-care points,
the deductible and cap, the rules its lines apply — and for each set of special groups a ``_People``
— the major-illness bands, the assistance or veterans' group and their bands. A quote looks up those
two, copies the year once, updates it in place, and each stage adds up what its payer pays. The
terms are slotted dataclasses rather than the policy's pydantic models, whose attributes cost five
times as much to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from shared.money import CENT, in_money_context
from svc_claims.domain.benefits.model import (
    INPATIENT_LIKE,
    OUTPATIENT_LIKE,
    STAYS,
    ZERO,
    Accumulators,
    Bill,
    Line,
    Payer,
    QuoteContext,
    QuoteError,
    Rule,
)  # fmt: skip
from svc_claims.domain.benefits.policy import AssistanceGroup, MajorIllnessRules, Policy, VeteranGroup

ONE = Decimal(1)
# Far above any medical bill; below it every product of an amount and a rate is exact in 60 digits.
MAX_AMOUNT = Decimal("1000000000000.00")
_year_values = attrgetter(*Accumulators.__dataclass_fields__)
_new = object.__new__
_T = TypeVar("_T")
# Amounts are compared with ZERO, not 0: comparing a Decimal with an int costs a conversion each time.


def _share(amount: Decimal, rate: Decimal | None) -> Decimal:
    # A rule's rate (set on every rule a share applies). Exact product (at most 14 + 6 digits, policy rates
    # have at most 6 decimals), one rounding to the fen.
    return (amount * rate).quantize(CENT)  # type: ignore[operator]


def _take(amount: Decimal, limit: Decimal) -> Decimal:
    return amount if amount <= limit else (limit if limit > ZERO else ZERO)


def _remembered(memo: dict[Any, Any], key: tuple[Any, ...], work_out: Callable[..., _T], *args: Any) -> _T:
    """``work_out(*args)``, worked out once per ``key`` (which names everything it depends on); a refusal is not kept."""
    try:
        return memo[key]  # type: ignore[no-any-return]
    except KeyError:
        value = memo[key] = work_out(*args)
        return value


def _money(value: Decimal, name: str) -> Decimal:
    """A non-negative amount in whole fen, as two-decimal money; QuoteError otherwise."""
    if type(value) is Decimal and value.is_finite() and ZERO <= value < MAX_AMOUNT:
        money = value.quantize(CENT)
        if money == value:
            return money
    raise QuoteError(f"{name} 必须是非负金额，最多两位小数")


class _Quote:
    """One computation in progress: its lines, what each payer other than the person pays, its own copy of the year."""

    __slots__ = ("assistance", "ctx", "fund", "lines", "major_illness", "sample", "veterans", "year")

    def __init__(self, ctx: QuoteContext, sample: bool) -> None:
        self.ctx, self.sample = ctx, sample
        self.lines: list[Line] = []
        self.fund = self.major_illness = self.assistance = self.veterans = (
            ZERO  # each stage adds what its payer pays
        )
        self.year = Accumulators(*_year_values(ctx.ytd))  # updated in place; the caller's ytd stays as it was

    def add(self, rule: Rule, base: Decimal, amount: Decimal) -> Decimal:
        if rule.sample:
            self.sample = True  # the bill uses a sample value
        # Its three slots set here: the dataclass's __init__, called through the type, costs twice as much.
        line = _new(Line)
        line.rule, line.base, line.amount = rule, base, amount
        self.lines.append(line)
        return amount


@in_money_context
def quote(ctx: QuoteContext, policy: Policy) -> Bill:
    """The bill for one claim; ``Bill.accumulators`` are ``ctx.ytd`` after it."""
    derived = policy.derived
    key = (
        "kind",
        ctx.scheme,
        ctx.care_type,
        ctx.facility_level,
        ctx.tier,
        ctx.remote,
        ctx.not_payable,
        ctx.reformed_level2,
    )
    kind = _remembered(
        derived, key, _kind, policy, *key[1:]
    )  # QuoteError for a kind the policy does not know
    _check(ctx)
    in_scope, out_of_scope = _money(ctx.in_scope, "in_scope"), _money(ctx.out_of_scope, "out_of_scope")
    q = _Quote(ctx, kind.sample)
    if out_of_scope > ZERO:
        q.add(kind.out_of_scope, out_of_scope, out_of_scope)

    if kind.refusal is not None:
        if in_scope > ZERO:
            q.add(kind.refusal, in_scope, in_scope)
        return _finish(q, kind, in_scope, out_of_scope)

    people = _remembered(derived, ("people", ctx.special_groups), _people, policy, ctx.special_groups)
    stay = kind.stay
    if stay is not None:
        burden = _inpatient(q, stay, in_scope)
        if people.major_illness is not None and burden > ZERO:
            burden -= _major_illness(q, people.major_illness, burden)
    else:
        burden = _outpatient(q, kind.outpatient, in_scope)  # type: ignore[arg-type]

    if burden > ZERO:
        if people.assistance is not None:
            burden -= _assistance(q, people.assistance, stay is not None, burden)
        elif people.veterans is not None:
            burden -= _veterans(q, people.veterans, stay is not None, burden)
        if stay is not None and people.catastrophic is not None:
            burden -= _catastrophic(q, people.catastrophic, burden)
        if stay is not None and people.illness is not None:
            burden -= _illness(q, people.illness, burden)
    return _finish(q, kind, in_scope, out_of_scope)


def _check(ctx: QuoteContext) -> None:
    """What a kind of claim does not fix: the days, the dates, the family's assistance so far."""
    if ctx.family_illness_paid is not None:
        _money(ctx.family_illness_paid, "family_illness_paid")
    if ctx.sickbed_days < 0:
        raise QuoteError("天数不能为负数")
    if ctx.care_type == "family_sickbed" and ctx.sickbed_days <= 0:
        raise QuoteError("家庭病床须填写天数")
    if (
        ctx.admission_date is not None
        and ctx.service_date is not None
        and ctx.admission_date > ctx.service_date
    ):
        raise QuoteError("入院日期不能晚于出院（就医）日期")
    if ctx.family_doctor_signed_on is not None and ctx.service_date is None:
        raise QuoteError("填写家庭医生签约日期时须同时填写就医日期")


def _rule(
    policy: Policy, code: str, label: str, payer: Payer, rate: Decimal | None = None, sample: bool = False
) -> Rule:
    return Rule(code, label, payer, rate, policy.sample or sample)


# --------------------------------------------------------------------------- what a policy decides per kind of claim


@dataclass(frozen=True, slots=True)
class _StayTerms:
    """A stay, special-disease care or a family sickbed in one cell of the table: its ratio, limits and rules."""

    stay: bool  # counts towards the year's stays (from the second one no deductible)
    family_sickbed: bool
    sickbed_max_days: int
    sickbed_sample: bool
    deductible_amount: Decimal
    single_deductible_across_periods: bool
    second_stay_waives_deductible: bool
    annual_cap: Decimal
    over_cap_sample: bool
    ratio: Decimal
    deductible: Rule
    cross_period: Rule
    second_stay: Rule
    fund: Rule
    coinsurance: Rule


@dataclass(frozen=True, slots=True)
class _OutpatientTerms:
    """Ordinary outpatient care or a village clinic's fee, with or without a family doctor, after relief years."""

    ratio: Decimal
    cap: Decimal  # the year's outpatient cap (with the family doctor's bonus)
    threshold: Decimal  # the deductible after the claim-free years' relief (none for a village clinic's fee)
    deductible: Rule
    fund: Rule
    coinsurance: Rule
    over_cap: Rule


@dataclass(frozen=True, slots=True)
class _Outpatient:
    village: bool
    relief_max_years: int
    terms: dict[tuple[bool, int], _OutpatientTerms]  # by (family doctor, claim-free years relieved)


@dataclass(frozen=True, slots=True)
class _Kind:
    """What the policy decides for one kind of claim; ``stay`` for inpatient-like care, ``outpatient`` otherwise."""

    policy_key: tuple[str, str, int, str]
    sample: bool  # the policy as a whole is sample data
    out_of_scope: Rule
    refusal: Rule | None  # the fund pays nothing in scope
    stay: _StayTerms | None
    outpatient: _Outpatient | None


def _kind(policy: Policy, scheme: str, care_type: str, level: int, tier: str, remote: str | None, not_payable: str | None,
          reformed_level2: bool) -> _Kind:  # fmt: skip
    if scheme != policy.scheme:
        raise QuoteError(f"险种 {scheme} 与政策 {policy.scheme} 不符")
    if tier not in policy.tier_codes:
        raise QuoteError(f"档次 {tier} 不在该政策的档次中（{'、'.join(policy.tier_codes)}）")
    if level not in (1, 2, 3):
        raise QuoteError("医疗机构级别只能是1、2、3")
    if care_type not in INPATIENT_LIKE and care_type not in OUTPATIENT_LIKE:
        raise QuoteError(f"未知的就医类型: {care_type}")
    if (
        remote is not None
        and remote not in ("referred", "self_referred")
        and remote not in policy.basic.remote.as_local_classes.value
    ):
        raise QuoteError(f"未知的异地就医类别: {remote}")
    if not_payable is not None and not_payable not in policy.not_payable_labels:
        raise QuoteError(f"未知的不予支付情形: {not_payable}")
    inpatient = care_type in INPATIENT_LIKE
    return _Kind(
        policy.key, policy.sample,
        _rule(policy, "out_of_scope", "政策范围外费用（三目外），个人负担", "person"),
        _refusal(policy, care_type, level, remote, not_payable, reformed_level2),
        _stay_terms(policy, care_type, level, tier, remote) if inpatient else None,
        None if inpatient else _outpatient_kind(policy, care_type == "village_fee", remote),
    )  # fmt: skip


def _refusal(policy: Policy, care_type: str, level: int, remote: str | None, not_payable: str | None,
             reformed_level2: bool) -> Rule | None:  # fmt: skip
    if not_payable is not None:
        return _rule(
            policy,
            f"not_payable.{not_payable}",
            f"不予支付：{policy.not_payable_labels[not_payable]}，个人负担",
            "person",
        )
    if remote == "self_referred" and level not in policy.basic.remote.self_referred_levels.value:
        return _rule(
            policy,
            "not_payable.remote_self_referred",
            "未办理转外就医自行到异地二、三级以外医疗机构就医，医保基金不予报销",
            "person",
        )
    if care_type == "outpatient":
        levels = policy.basic.outpatient.eligible_levels.value
        if level not in levels and not (level == 2 and reformed_level2):
            return _rule(policy, "not_payable.outpatient_level",
                         "普通门（急）诊限一级定点医疗机构、定点零售药店及已登记的取消药品加成的二级定点医疗机构", "person")  # fmt: skip
    return None


def _remote_points(remote_class: str | None, policy: Policy) -> tuple[Decimal, str]:
    """(points taken off the fund's ratio for remote care, the words for the line)."""
    if remote_class is None:
        return ZERO, ""
    remote = policy.basic.remote
    if remote_class == "referred":
        points = remote.referred_extra_self_pay.value
        return points, f"（转外就医，个人自负比例提高{points * 100:.0f}个百分点）"
    if remote_class == "self_referred":
        points = remote.self_referred_extra_self_pay.value
        return (
            points,
            f"（未办理转外就医自行到异地二、三级医疗机构，个人自负比例提高{points * 100:.0f}个百分点）",
        )
    return ZERO, "（异地就医，报销比例按本市规定执行）"


_STAY_KIND = {"special_disease": "门诊特殊病", "family_sickbed": "家庭病床", "inpatient": "住院"}


def _stay_terms(policy: Policy, care_type: str, level: int, tier: str, remote: str | None) -> _StayTerms:
    basic = policy.basic
    points, why = _remote_points(remote, policy)
    table = basic.special_disease_ratios if care_type == "special_disease" else basic.inpatient_ratios
    ratio = max(ZERO, table.by_level[level][tier] - points)
    return _StayTerms(
        care_type in STAYS, care_type == "family_sickbed", basic.family_sickbed_max_days.value,
        policy.sample or basic.family_sickbed_max_days.sample, basic.deductible.value, basic.cross_period_single_deductible.value,
        basic.second_stay_waives_deductible.value, basic.annual_cap.value, policy.sample or basic.annual_cap.sample, ratio,
        _rule(policy, "deductible", f"起付标准（{basic.deductible.value}元，住院与门诊特殊病合并一个起付线）以下，个人负担", "person",
              sample=basic.deductible.sample),
        _rule(policy, "deductible_waived.cross_period", "住院跨待遇享受期，起付线已在前一期负担（只负担一次）", "person"),
        _rule(policy, "deductible_waived.second_stay", "年度内第二次及以后住院，不再设置起付线", "person"),
        _rule(policy, "basic_fund", f"基本医疗保险统筹基金支付（{_STAY_KIND[care_type]}，{level}级医疗机构）{why}", "fund", ratio,
              table.sample),
        _rule(policy, "coinsurance", f"起付标准以上个人按比例负担{why}", "person", ONE - ratio, table.sample),
    )  # fmt: skip


def _outpatient_kind(policy: Policy, village: bool, remote: str | None) -> _Outpatient:
    most = policy.basic.outpatient.deductible_relief_max_years.value
    return _Outpatient(village, most, {(doctor, years): _outpatient_terms(policy, village, doctor, years, remote)
                                       for doctor in (False, True) for years in range(most + 1)})  # fmt: skip


def _outpatient_terms(
    policy: Policy, village: bool, doctor: bool, relief_years: int, remote: str | None
) -> _OutpatientTerms:
    op = policy.basic.outpatient
    points, why = _remote_points(remote, policy)
    cap = op.cap.value + (op.family_doctor_cap_bonus.value if doctor else ZERO)
    over_cap = _rule(
        policy,
        "outpatient_over_cap",
        f"超过门诊年度最高支付限额（{cap}元）部分，个人负担",
        "person",
        sample=op.cap.sample,
    )
    if village:
        ratio = max(ZERO, op.village_fee_ratio.value - points)
        fund_code, fund_words, threshold, deductible_words = (
            "village_fee_fund",
            f"村卫生室一般诊疗费（挂号、诊查、注射），门诊最高支付限额内基金支付{why}",
            ZERO,
            "",
        )
    else:
        threshold = max(ZERO, op.deductible.value - op.deductible_relief_per_year.value * relief_years)
        deductible_words = f"普通门（急）诊起付标准（{threshold}元）以下，个人负担"
        if relief_years:
            deductible_words += (
                f"（连续{relief_years}年未超过起付标准，起付标准降低{op.deductible.value - threshold}元）"
            )
        bonus = op.family_doctor_ratio_bonus.value if doctor else ZERO
        ratio = max(ZERO, min(ONE, op.ratio.value + bonus) - points)
        doctor_words = (f"（家庭医生签约，比例提高{bonus * 100:.0f}个百分点、额度增加{op.family_doctor_cap_bonus.value:.0f}元）"
                        if doctor else "")  # fmt: skip
        fund_code, fund_words = "outpatient_fund", f"普通门（急）诊统筹基金支付{doctor_words}{why}"
    return _OutpatientTerms(
        ratio, cap, threshold,
        _rule(policy, "outpatient_deductible", deductible_words, "person", sample=op.deductible.sample),
        _rule(policy, fund_code, fund_words, "fund", ratio, op.ratio.sample),
        _rule(policy, "outpatient_coinsurance", "门诊个人按比例负担", "person", ONE - ratio, op.ratio.sample),
        over_cap,
    )  # fmt: skip


# --------------------------------------------------------------------------- basic insurance


def continues_stay(ctx: QuoteContext) -> bool:
    """The later-period part of a stay that crossed into this benefit period (its deductible was paid before)."""
    if ctx.continues_stay:
        return True
    if ctx.admission_date is None or ctx.care_type not in STAYS:
        return False
    if ctx.benefit_period_start is not None:
        return ctx.admission_date < ctx.benefit_period_start
    # By default the period is the service date's calendar year.
    return ctx.service_date is not None and ctx.admission_date.year < ctx.service_date.year


def family_doctor_effective(ctx: QuoteContext) -> bool:
    """家庭医生签约：从签约次月起享受."""
    signed = ctx.family_doctor_signed_on
    if signed is None or ctx.service_date is None:
        return False
    first = date(signed.year + 1, 1, 1) if signed.month == 12 else date(signed.year, signed.month + 1, 1)
    return ctx.service_date >= first


@lru_cache(maxsize=1024)
def _over_cap(annual_cap: Decimal, carried: Decimal, sample: bool) -> Rule:
    # Keyed by the policy's own cap (its hash is computed once), not by the sum, a new Decimal each time.
    extra = f"（含往年结转门诊额度{carried}元）" if carried else ""
    return Rule(
        "over_cap",
        f"超过年度最高支付限额{annual_cap + carried}元{extra}部分，个人负担",
        "person",
        None,
        sample,
    )


def _sickbed_over_days(terms: _StayTerms, days: int, paid_days: int) -> Rule:
    return Rule("sickbed_over_days", f"家庭病床全年累计超过{terms.sickbed_max_days}天部分（本次{days}天中{days - paid_days}天，按天数分摊），个人负担",
                "person", None, terms.sickbed_sample)  # fmt: skip


def _inpatient(q: _Quote, terms: _StayTerms, in_scope: Decimal) -> Decimal:
    """Basic insurance for a stay, special-disease care or a family sickbed; the person's burden after it."""
    ctx, year = q.ctx, q.year
    payable = in_scope
    days = 0
    if terms.family_sickbed:
        days = min(ctx.sickbed_days, max(0, terms.sickbed_max_days - year.sickbed_days))
        if days < ctx.sickbed_days:
            payable = (in_scope * days / ctx.sickbed_days).quantize(CENT)
            if in_scope > payable:
                q.add(_sickbed_over_days(terms, ctx.sickbed_days, days), in_scope, in_scope - payable)

    crossing = terms.single_deductible_across_periods and continues_stay(ctx)
    second = terms.stay and year.stays >= 1 and terms.second_stay_waives_deductible
    deductible = (
        ZERO if (crossing or second) else _take(payable, terms.deductible_amount - year.deductible_used)
    )
    if deductible > ZERO:
        q.add(terms.deductible, payable, deductible)
    elif payable > ZERO and crossing:
        q.add(terms.cross_period, payable, ZERO)
    elif payable > ZERO and second:
        q.add(terms.second_stay, payable, ZERO)

    above = payable - deductible
    fund_raw = _share(above, terms.ratio)
    coinsurance = above - fund_raw
    fund = _take(fund_raw, terms.annual_cap + year.carried_over_cap - year.fund_paid)
    over_cap = fund_raw - fund
    if above > ZERO:
        q.fund += q.add(terms.fund, above, fund)
        q.add(terms.coinsurance, above, coinsurance)
        if over_cap > ZERO:
            q.add(
                _over_cap(terms.annual_cap, year.carried_over_cap, terms.over_cap_sample), fund_raw, over_cap
            )

    if terms.stay:
        year.stays += 1
    year.deductible_used += deductible
    year.fund_paid += fund
    year.sickbed_days += days
    return deductible + coinsurance + over_cap


def _outpatient(q: _Quote, kind: _Outpatient, in_scope: Decimal) -> Decimal:
    """Ordinary outpatient care or a village clinic's fee; the person's burden after basic insurance."""
    ctx, year = q.ctx, q.year
    doctor = family_doctor_effective(ctx)
    village = kind.village
    relief_years = 0 if village else min(year.claim_free_years, kind.relief_max_years)
    terms = kind.terms[doctor, relief_years]
    deductible = ZERO if village else _take(in_scope, terms.threshold - year.outpatient_deductible_used)
    if deductible > ZERO:
        q.add(terms.deductible, in_scope, deductible)
    above = in_scope - deductible
    fund_raw = _share(above, terms.ratio)
    coinsurance = above - fund_raw
    fund = _take(fund_raw, terms.cap - year.outpatient_fund_paid)
    over_cap = fund_raw - fund
    if above > ZERO:
        q.fund += q.add(terms.fund, above, fund)
        q.add(terms.coinsurance, above, coinsurance)
        if over_cap > ZERO:
            q.add(terms.over_cap, fund_raw, over_cap)

    year.outpatient_deductible_used += deductible
    year.outpatient_fund_paid += fund
    if village:
        year.village_fee_in_scope += in_scope
    else:
        year.outpatient_in_scope += in_scope
    year.family_doctor = year.family_doctor or doctor
    return deductible + coinsurance + over_cap


# --------------------------------------------------------------------------- what a policy decides per set of special groups


@dataclass(frozen=True, slots=True)
class _Band:
    """One band of a cumulative burden, [lo, hi) (hi None: no top), paid at its rule's rate."""

    rule: Rule
    lo: Decimal
    hi: Decimal | None


@dataclass(frozen=True, slots=True)
class _Assistance:
    outpatient_cap: Decimal
    outpatient: Rule
    inpatient_bands: tuple[_Band, ...]


@dataclass(frozen=True, slots=True)
class _Veterans:
    inpatient: Rule
    outpatient: Rule


@dataclass(frozen=True, slots=True)
class _CappedShare:
    """Catastrophic-illness or illness-impoverished assistance: a share of the burden, capped per year (or family)."""

    threshold: Decimal  # of the year's burden, from which catastrophic assistance pays
    cap: Decimal
    rule: Rule


@dataclass(frozen=True, slots=True)
class _People:
    """For one set of special groups: the major-illness bands (None: no such insurance) and the assistance that follows."""

    major_illness: tuple[_Band, ...] | None
    assistance: _Assistance | None
    veterans: _Veterans | None
    catastrophic: _CappedShare | None  # only for a group above
    illness: _CappedShare | None


_FAVOURED = "（医疗救助对象、享受定期抚恤补助的优抚对象：起付线降低50%、比例提高5个百分点、不设封顶线）"


def _people(policy: Policy, special_groups: frozenset[str]) -> _People:
    mi, rules = policy.major_illness, policy.assistance
    major_illness = (
        None
        if mi is None
        else _major_illness_bands(policy, mi, not mi.favoured_groups.isdisjoint(special_groups))
    )
    if rules is None:
        return _People(major_illness, None, None, None, None)
    group = rules.group_for(special_groups) if special_groups else None
    catastrophic = illness = None
    if group is not None and (c := rules.catastrophic) is not None:
        catastrophic = _CappedShare(c.threshold, c.annual_cap, _rule(
            policy, "assistance.catastrophic", f"重特大疾病医疗救助：年度个人负担{c.threshold}元（含）以上部分，每年最高{c.annual_cap}元",
            "assistance", c.rate, c.sample))  # fmt: skip
    if (ill := rules.illness_impoverished) is not None and ill.group in special_groups:
        illness = _CappedShare(ZERO, ill.family_cap, _rule(
            policy, "assistance.illness_impoverished", f"因病支出型困难家庭医疗救助：个人负担部分，家庭每年最高{ill.family_cap}元",
            "assistance", ill.rate, ill.sample))  # fmt: skip
    assistance = (
        _assistance_terms(policy, group, rules.inpatient_band.value)
        if isinstance(group, AssistanceGroup)
        else None
    )
    veterans = _veterans_terms(policy, group) if isinstance(group, VeteranGroup) else None
    return _People(major_illness, assistance, veterans, catastrophic, illness)


def _major_illness_bands(policy: Policy, rules: MajorIllnessRules, favoured: bool) -> tuple[_Band, ...]:
    return tuple(
        _Band(_rule(policy, f"major_illness.band{i}",
                    f"居民大病保险：年度政策范围内个人负担{lo}元{'以上' if hi is None else f'至{hi}元（含）'}部分{_FAVOURED if favoured else ''}",
                    "major_illness", rate, rules.threshold.sample or rules.bands.sample), lo, hi)
        for i, (lo, hi, rate) in enumerate(rules.segments[favoured], start=1)
    )  # fmt: skip


def _assistance_terms(policy: Policy, group: AssistanceGroup, band: Decimal) -> _Assistance:
    words = f"住院（含门特）医疗救助（{group.label}）：年度政策范围内个人负担"
    low, high = group.inpatient_low_rate, group.inpatient_high_rate
    return _Assistance(group.outpatient_cap, _rule(
        policy, "assistance.outpatient", f"门诊医疗救助（{group.label}，政策范围内个人自付部分，每年最高{group.outpatient_cap}元）",
        "assistance", group.outpatient_share, group.sample), (
        _Band(_rule(policy, "assistance.inpatient_low", f"{words}{band}元以下部分", "assistance", low, group.sample), ZERO, band),
        _Band(_rule(policy, "assistance.inpatient_high", f"{words}{band}元（含）以上部分", "assistance", high, group.sample), band, None),
    ))  # fmt: skip


def _veterans_terms(policy: Policy, group: VeteranGroup) -> _Veterans:
    def rule(where: str, share: Decimal) -> Rule:
        return _rule(
            policy,
            f"veterans.{group.code}",
            f"优抚对象医疗补助（{group.label}，{where}个人负担部分补助）",
            "veterans",
            share,
            group.sample,
        )

    return _Veterans(rule("住院（含门特）", group.inpatient_share), rule("门诊", group.outpatient_share))


def _pay_bands(q: _Quote, bands: tuple[_Band, ...], before: Decimal, after: Decimal) -> Decimal:
    """Each band's part of the cumulative burden going from ``before`` to ``after``, at its rate; the total paid."""
    paid = ZERO
    for band in bands:
        lo, hi = band.lo, band.hi
        if lo >= after:
            break  # the bands go upwards: none above this one is reached
        start = lo if lo > before else before
        end = after if hi is None or hi > after else hi
        if end > start:
            segment = end - start
            paid += q.add(band.rule, segment, _share(segment, band.rule.rate))
    return paid


# --------------------------------------------------------------------------- major-illness insurance


def _major_illness(q: _Quote, bands: tuple[_Band, ...], burden: Decimal) -> Decimal:
    """Major-illness insurance on the year's in-scope burden, band by band; what it pays."""
    year = q.year
    before = year.major_illness_burden
    year.major_illness_burden = after = before + burden
    paid = _pay_bands(q, bands, before, after)
    year.major_illness_paid += paid
    q.major_illness += paid
    return paid


# --------------------------------------------------------------------------- assistance and veterans


def _veterans(q: _Quote, terms: _Veterans, inpatient: bool, burden: Decimal) -> Decimal:
    rule = terms.inpatient if inpatient else terms.outpatient
    paid = q.add(rule, burden, _share(burden, rule.rate))
    q.year.veterans_paid += paid
    q.veterans += paid
    return paid


def _assistance(q: _Quote, terms: _Assistance, inpatient: bool, burden: Decimal) -> Decimal:
    year = q.year
    if inpatient:
        before = year.assistance_inpatient_burden
        year.assistance_inpatient_burden = after = before + burden
        paid = _pay_bands(q, terms.inpatient_bands, before, after)
    else:
        share = _take(
            _share(burden, terms.outpatient.rate), terms.outpatient_cap - year.assistance_outpatient_paid
        )
        paid = q.add(terms.outpatient, burden, share)
        year.assistance_outpatient_paid += paid
    year.assistance_paid += paid
    q.assistance += paid
    return paid


def _catastrophic(q: _Quote, terms: _CappedShare, burden: Decimal) -> Decimal:
    year = q.year
    before = year.catastrophic_burden
    year.catastrophic_burden = after = before + burden
    start = terms.threshold if terms.threshold > before else before
    paid = ZERO
    if after > start:
        segment = after - start
        paid = q.add(
            terms.rule, segment, _take(_share(segment, terms.rule.rate), terms.cap - year.catastrophic_paid)
        )
    year.catastrophic_paid += paid
    year.assistance_paid += paid
    q.assistance += paid
    return paid


def _illness(q: _Quote, terms: _CappedShare, burden: Decimal) -> Decimal:
    year = q.year
    family_used = year.illness_paid if q.ctx.family_illness_paid is None else q.ctx.family_illness_paid
    paid = q.add(terms.rule, burden, _take(_share(burden, terms.rule.rate), terms.cap - family_used))
    year.illness_burden += burden
    year.illness_paid += paid
    year.assistance_paid += paid
    q.assistance += paid
    return paid


# --------------------------------------------------------------------------- the bill


def _finish(q: _Quote, kind: _Kind, in_scope: Decimal, out_of_scope: Decimal) -> Bill:
    total = in_scope + out_of_scope
    person = total - q.fund - q.major_illness - q.assistance - q.veterans
    if person < ZERO:  # pragma: no cover - guarded by construction (every rate ≤ 1 applies to what is left)
        raise AssertionError("个人负担为负")
    return Bill(total, in_scope, out_of_scope, q.fund, q.major_illness, q.assistance, q.veterans, person, tuple(q.lines), q.year,
                kind.policy_key, q.sample)  # fmt: skip
