"""The benefit engine: basic insurance → major-illness insurance → medical assistance / veterans' subsidy.

Pure: no I/O, no clock. ``quote(ctx, policy)`` gives one ``Bill`` whose lines explain every amount
(rule code, Chinese label, base, rate, amount) and whose shares add up to the total exactly to the fen.
Every rate is applied with ``shared.money.rate_share`` (ROUND_HALF_UP to the fen, once, where the
documents apply a rate); everything else is addition, subtraction and ``min`` on whole fen.

It is a hot path (apps quote as the user types, every settlement runs it): the context is checked
once, the year is copied once and updated in place, what a policy alone decides (a cell's ratio after
remote-care points, the bands, the lines' words) is worked out once per policy (``_derived``), and
each payer's total is added up by the stage that pays it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from shared.money import CENT, rate_share
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
)  # fmt: skip
from svc_claims.domain.benefits.policy import (
    AssistanceGroup,
    CatastrophicRules,
    IllnessImpoverishedRules,
    MajorIllnessRules,
    Policy,
    VeteranGroup,
)

ONE = Decimal(1)
# Far above any medical bill; below it every product of an amount and a rate is exact in 60 digits.
MAX_AMOUNT = Decimal("1000000000000.00")
_year_values = attrgetter(*Accumulators.__dataclass_fields__)
_T = TypeVar("_T")
# Amounts are compared with ZERO, not 0: comparing a Decimal with an int costs a conversion each time.


def _take(amount: Decimal, limit: Decimal) -> Decimal:
    return amount if amount <= limit else (limit if limit > ZERO else ZERO)


def _overlap(lo: Decimal, hi: Decimal | None, before: Decimal, after: Decimal) -> Decimal:
    """The part of [before, after) that lies in the band [lo, hi)."""
    start = lo if lo > before else before
    end = after if hi is None or hi > after else hi
    return end - start if end > start else ZERO


def _money(value: Decimal, name: str) -> Decimal:
    """A non-negative amount in whole fen, as two-decimal money; QuoteError otherwise."""
    if type(value) is Decimal and value.is_finite() and ZERO <= value < MAX_AMOUNT:
        money = value.quantize(CENT, ROUND_HALF_UP)
        if money == value:
            return money
    raise QuoteError(f"{name} 必须是非负金额，最多两位小数")


def _derived(policy: Policy, key: tuple[Any, ...], work_out: Callable[..., _T], *args: Any) -> _T:
    """``work_out(*args)``, worked out once per policy and ``key``, which names everything it depends on."""
    try:
        return policy.derived[key]  # type: ignore[return-value]
    except KeyError:
        value = policy.derived[key] = work_out(*args)
        return value


def _check(ctx: QuoteContext, policy: Policy) -> None:
    if ctx.scheme != policy.scheme:
        raise QuoteError(f"险种 {ctx.scheme} 与政策 {policy.scheme} 不符")
    if ctx.tier not in policy.tier_codes:
        raise QuoteError(f"档次 {ctx.tier} 不在该政策的档次中（{'、'.join(policy.tier_codes)}）")
    if ctx.facility_level not in (1, 2, 3):
        raise QuoteError("医疗机构级别只能是1、2、3")
    if ctx.family_illness_paid is not None:
        _money(ctx.family_illness_paid, "family_illness_paid")
    if ctx.sickbed_days < 0:
        raise QuoteError("天数不能为负数")
    if ctx.care_type == "family_sickbed" and ctx.sickbed_days <= 0:
        raise QuoteError("家庭病床须填写天数")
    if ctx.care_type not in INPATIENT_LIKE and ctx.care_type not in OUTPATIENT_LIKE:
        raise QuoteError(f"未知的就医类型: {ctx.care_type}")
    if ctx.remote is not None and ctx.remote not in ("referred", "self_referred") \
            and ctx.remote not in policy.basic.remote.as_local_classes.value:  # fmt: skip
        raise QuoteError(f"未知的异地就医类别: {ctx.remote}")
    if ctx.not_payable is not None and ctx.not_payable not in policy.not_payable_labels:
        raise QuoteError(f"未知的不予支付情形: {ctx.not_payable}")
    if ctx.admission_date is not None and ctx.service_date is not None and ctx.admission_date > ctx.service_date:
        raise QuoteError("入院日期不能晚于出院（就医）日期")
    if ctx.family_doctor_signed_on is not None and ctx.service_date is None:
        raise QuoteError("填写家庭医生签约日期时须同时填写就医日期")


class _Quote:
    """One computation in progress: its lines, what each payer other than the person pays, its own copy of the year."""

    __slots__ = ("ctx", "policy", "lines", "year", "sample", "fund", "major_illness", "assistance", "veterans")

    def __init__(self, ctx: QuoteContext, policy: Policy) -> None:
        self.ctx, self.policy, self.sample = ctx, policy, policy.sample
        self.lines: list[Line] = []
        self.fund = self.major_illness = self.assistance = self.veterans = ZERO  # each stage adds what its payer pays
        self.year = Accumulators(*_year_values(ctx.ytd))  # updated in place; the caller's ytd stays as it was

    def add(self, code: str, label: str, payer: Payer, base: Decimal, rate: Decimal | None, amount: Decimal,
            sample: bool = False) -> Decimal:  # fmt: skip
        if sample:
            self.sample = True  # the bill uses a sample value
        else:
            sample = self.policy.sample
        self.lines.append(Line(code, label, payer, base, rate, amount, sample))
        return amount


def quote(ctx: QuoteContext, policy: Policy) -> Bill:
    """The bill for one claim; ``Bill.accumulators`` are ``ctx.ytd`` after it."""
    _check(ctx, policy)
    in_scope, out_of_scope = _money(ctx.in_scope, "in_scope"), _money(ctx.out_of_scope, "out_of_scope")
    q = _Quote(ctx, policy)
    if out_of_scope > ZERO:
        q.add("out_of_scope", "政策范围外费用（三目外），个人负担", "person", out_of_scope, None, out_of_scope)

    refusal = _refusal(ctx, policy)
    if refusal is not None:
        if in_scope > ZERO:
            q.add(*refusal, "person", in_scope, None, in_scope)
        return _finish(q, in_scope, out_of_scope)

    inpatient = ctx.care_type in INPATIENT_LIKE
    if inpatient:
        burden = _inpatient(q, in_scope)
        burden -= _major_illness(q, burden)
    else:
        burden = _outpatient(q, in_scope)

    rules = policy.assistance
    if rules is not None and burden > ZERO:
        groups = ctx.special_groups
        group = _derived(policy, ("group", groups), rules.group_for, groups) if groups else None
        if isinstance(group, AssistanceGroup):
            burden -= _assistance(q, group, rules.inpatient_band.value, inpatient, burden)
        elif isinstance(group, VeteranGroup):
            burden -= _veterans(q, group, inpatient, burden)
        if inpatient and group is not None and rules.catastrophic is not None:
            burden -= _catastrophic(q, rules.catastrophic, burden)
        ill = rules.illness_impoverished
        if inpatient and ill is not None and ill.group in ctx.special_groups:
            burden -= _illness(q, ill, burden)
    return _finish(q, in_scope, out_of_scope)


# --------------------------------------------------------------------------- basic insurance


def _refusal(ctx: QuoteContext, policy: Policy) -> tuple[str, str] | None:
    if ctx.not_payable is not None:
        return f"not_payable.{ctx.not_payable}", f"不予支付：{policy.not_payable_labels[ctx.not_payable]}，个人负担"
    remote = policy.basic.remote
    if ctx.remote == "self_referred" and ctx.facility_level not in remote.self_referred_levels.value:
        return "not_payable.remote_self_referred", "未办理转外就医自行到异地二、三级以外医疗机构就医，医保基金不予报销"
    if ctx.care_type == "outpatient":
        levels = policy.basic.outpatient.eligible_levels.value
        if ctx.facility_level not in levels and not (ctx.facility_level == 2 and ctx.reformed_level2):
            return "not_payable.outpatient_level", "普通门（急）诊限一级定点医疗机构、定点零售药店及已登记的取消药品加成的二级定点医疗机构"
    return None


def _remote_points(remote_class: str | None, policy: Policy) -> tuple[Decimal, str]:
    """(points taken off the fund's ratio for remote care, the words for the line)."""
    if remote_class is None:
        return ZERO, ""
    remote = policy.basic.remote
    if remote_class == "referred":
        return remote.referred_extra_self_pay.value, _remote_words("referred", remote.referred_extra_self_pay.value)
    if remote_class == "self_referred":
        return remote.self_referred_extra_self_pay.value, _remote_words("self_referred", remote.self_referred_extra_self_pay.value)
    return ZERO, _remote_words("as_local", ZERO)


@lru_cache(maxsize=64)
def _remote_words(kind: str, points: Decimal) -> str:
    if kind == "referred":
        return f"（转外就医，个人自负比例提高{points * 100:.0f}个百分点）"
    if kind == "self_referred":
        return f"（未办理转外就医自行到异地二、三级医疗机构，个人自负比例提高{points * 100:.0f}个百分点）"
    return "（异地就医，报销比例按本市规定执行）"


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


_STAY_KIND = {"special_disease": "门诊特殊病", "family_sickbed": "家庭病床", "inpatient": "住院"}


class _StayTerms(NamedTuple):
    ratio: Decimal
    person_rate: Decimal
    sample: bool
    deductible_label: str
    fund_label: str
    coinsurance_label: str


def _stay_terms(policy: Policy, care_type: str, level: int, tier: str, remote: str | None) -> _StayTerms:
    """The fund's ratio for one cell of the table after remote-care points, the person's rate and the lines' words."""
    basic = policy.basic
    points, why = _remote_points(remote, policy)
    table = basic.special_disease_ratios if care_type == "special_disease" else basic.inpatient_ratios
    ratio = max(ZERO, table.by_level[level][tier] - points)
    return _StayTerms(
        ratio, ONE - ratio, table.sample,
        f"起付标准（{basic.deductible.value}元，住院与门诊特殊病合并一个起付线）以下，个人负担",
        f"基本医疗保险统筹基金支付（{_STAY_KIND[care_type]}，{level}级医疗机构）{why}",
        f"起付标准以上个人按比例负担{why}",
    )  # fmt: skip


@lru_cache(maxsize=1024)
def _over_cap_label(annual_cap: Decimal, carried: Decimal) -> str:
    # Keyed by the policy's own cap (its hash is computed once), not by the sum, a new Decimal each time.
    extra = f"（含往年结转门诊额度{carried}元）" if carried else ""
    return f"超过年度最高支付限额{annual_cap + carried}元{extra}部分，个人负担"


def _inpatient(q: _Quote, in_scope: Decimal) -> Decimal:
    """Basic insurance for a stay, special-disease care or a family sickbed; the person's burden after it."""
    ctx, basic, year = q.ctx, q.policy.basic, q.year
    payable = in_scope
    days = 0
    if ctx.care_type == "family_sickbed":
        max_days = basic.family_sickbed_max_days.value
        days = min(ctx.sickbed_days, max(0, max_days - year.sickbed_days))
        if days < ctx.sickbed_days:
            payable = (in_scope * days / ctx.sickbed_days).quantize(CENT, ROUND_HALF_UP)
            excluded = in_scope - payable
            if excluded > ZERO:
                q.add("sickbed_over_days",
                      f"家庭病床全年累计超过{max_days}天部分（本次{ctx.sickbed_days}天中{ctx.sickbed_days - days}天，按天数分摊），个人负担",
                      "person", in_scope, None, excluded, basic.family_sickbed_max_days.sample)  # fmt: skip

    stay = ctx.care_type in STAYS
    crossing = continues_stay(ctx) and basic.cross_period_single_deductible.value
    second = stay and year.stays >= 1 and basic.second_stay_waives_deductible.value
    remaining = ZERO if (crossing or second) else basic.deductible.value - year.deductible_used
    deductible = _take(payable, remaining)
    key = ("stay", ctx.care_type, ctx.facility_level, ctx.tier, ctx.remote)
    terms = _derived(q.policy, key, _stay_terms, q.policy, *key[1:])
    if deductible > ZERO:
        q.add("deductible", terms.deductible_label, "person", payable, None, deductible, basic.deductible.sample)
    elif payable > ZERO and crossing:
        q.add("deductible_waived.cross_period", "住院跨待遇享受期，起付线已在前一期负担（只负担一次）", "person", payable, None, ZERO)
    elif payable > ZERO and second:
        q.add("deductible_waived.second_stay", "年度内第二次及以后住院，不再设置起付线", "person", payable, None, ZERO)

    above = payable - deductible
    fund_raw = rate_share(above, terms.ratio)
    coinsurance = above - fund_raw
    cap = basic.annual_cap.value + year.carried_over_cap
    fund = _take(fund_raw, cap - year.fund_paid)
    over_cap = fund_raw - fund
    if above > ZERO:
        q.fund += q.add("basic_fund", terms.fund_label, "fund", above, terms.ratio, fund, terms.sample)
        q.add("coinsurance", terms.coinsurance_label, "person", above, terms.person_rate, coinsurance, terms.sample)
        if over_cap > ZERO:
            q.add("over_cap", _over_cap_label(basic.annual_cap.value, year.carried_over_cap), "person", fund_raw, None, over_cap,
                  basic.annual_cap.sample)  # fmt: skip

    year.stays += 1 if stay else 0
    year.deductible_used += deductible
    year.fund_paid += fund
    year.sickbed_days += days
    return deductible + coinsurance + over_cap


class _OutpatientTerms(NamedTuple):
    ratio: Decimal
    person_rate: Decimal
    cap: Decimal  # the year's outpatient cap (with the family doctor's bonus)
    threshold: Decimal  # the deductible after the claim-free years' relief (none for a village clinic's fee)
    fund_code: str
    deductible_label: str
    fund_label: str
    over_cap_label: str


def _outpatient_terms(policy: Policy, village: bool, doctor: bool, relief_years: int, remote: str | None) -> _OutpatientTerms:
    op = policy.basic.outpatient
    points, why = _remote_points(remote, policy)
    cap = op.cap.value + (op.family_doctor_cap_bonus.value if doctor else ZERO)
    over_cap_label = f"超过门诊年度最高支付限额（{cap}元）部分，个人负担"
    if village:
        ratio = max(ZERO, op.village_fee_ratio.value - points)
        return _OutpatientTerms(ratio, ONE - ratio, cap, ZERO, "village_fee_fund", "",
                                f"村卫生室一般诊疗费（挂号、诊查、注射），门诊最高支付限额内基金支付{why}", over_cap_label)  # fmt: skip
    threshold = max(ZERO, op.deductible.value - op.deductible_relief_per_year.value * relief_years)
    deductible_label = f"普通门（急）诊起付标准（{threshold}元）以下，个人负担"
    if relief_years:
        deductible_label += f"（连续{relief_years}年未超过起付标准，起付标准降低{op.deductible.value - threshold}元）"
    bonus = op.family_doctor_ratio_bonus.value if doctor else ZERO
    ratio = max(ZERO, min(ONE, op.ratio.value + bonus) - points)
    doctor_words = (f"（家庭医生签约，比例提高{bonus * 100:.0f}个百分点、额度增加{op.family_doctor_cap_bonus.value:.0f}元）"
                    if doctor else "")  # fmt: skip
    return _OutpatientTerms(ratio, ONE - ratio, cap, threshold, "outpatient_fund", deductible_label,
                            f"普通门（急）诊统筹基金支付{doctor_words}{why}", over_cap_label)  # fmt: skip


def _outpatient(q: _Quote, in_scope: Decimal) -> Decimal:
    """Ordinary outpatient care or a village clinic's fee; the person's burden after basic insurance."""
    ctx, op, year = q.ctx, q.policy.basic.outpatient, q.year
    doctor = family_doctor_effective(ctx)
    village = ctx.care_type == "village_fee"
    relief_years = 0 if village else min(year.claim_free_years, op.deductible_relief_max_years.value)
    key = ("outpatient", village, doctor, relief_years, ctx.remote)
    terms = _derived(q.policy, key, _outpatient_terms, q.policy, *key[1:])
    deductible = ZERO if village else _take(in_scope, terms.threshold - year.outpatient_deductible_used)
    if deductible > ZERO:
        q.add("outpatient_deductible", terms.deductible_label, "person", in_scope, None, deductible, op.deductible.sample)
    above = in_scope - deductible
    fund_raw = rate_share(above, terms.ratio)
    coinsurance = above - fund_raw
    fund = _take(fund_raw, terms.cap - year.outpatient_fund_paid)
    over_cap = fund_raw - fund
    if above > ZERO:
        q.fund += q.add(terms.fund_code, terms.fund_label, "fund", above, terms.ratio, fund, op.ratio.sample)
        q.add("outpatient_coinsurance", "门诊个人按比例负担", "person", above, terms.person_rate, coinsurance, op.ratio.sample)
        if over_cap > ZERO:
            q.add("outpatient_over_cap", terms.over_cap_label, "person", fund_raw, None, over_cap, op.cap.sample)

    year.outpatient_deductible_used += deductible
    year.outpatient_fund_paid += fund
    if village:
        year.village_fee_in_scope += in_scope
    else:
        year.outpatient_in_scope += in_scope
    year.family_doctor = year.family_doctor or doctor
    return deductible + coinsurance + over_cap


# --------------------------------------------------------------------------- major-illness insurance

_FAVOURED = "（医疗救助对象、享受定期抚恤补助的优抚对象：起付线降低50%、比例提高5个百分点、不设封顶线）"


class _Band(NamedTuple):
    """One band of a cumulative burden, [lo, hi) (hi None: no top), paid at ``rate``, with its line's code and words."""

    code: str
    label: str
    lo: Decimal
    hi: Decimal | None
    rate: Decimal


def _major_illness_bands(rules: MajorIllnessRules, favoured: bool) -> tuple[_Band, ...]:
    return tuple(
        _Band(f"major_illness.band{i}",
              f"居民大病保险：年度政策范围内个人负担{lo}元{'以上' if hi is None else f'至{hi}元（含）'}部分{_FAVOURED if favoured else ''}",
              lo, hi, rate)
        for i, (lo, hi, rate) in enumerate(rules.segments[favoured], start=1)
    )  # fmt: skip


def _pay_bands(q: _Quote, bands: tuple[_Band, ...], payer: Payer, before: Decimal, after: Decimal, sample: bool) -> Decimal:
    """Each band's part of the cumulative burden going from ``before`` to ``after``, at its rate; the total paid."""
    paid = ZERO
    for code, label, lo, hi, rate in bands:
        if lo >= after:
            break  # the bands go upwards: none above this one is reached
        segment = _overlap(lo, hi, before, after)
        if segment > ZERO:
            paid += q.add(code, label, payer, segment, rate, rate_share(segment, rate), sample)
    return paid


def _major_illness(q: _Quote, burden: Decimal) -> Decimal:
    """Major-illness insurance on the year's in-scope burden, band by band; what it pays."""
    rules, year = q.policy.major_illness, q.year
    if rules is None or burden <= ZERO:
        return ZERO
    favoured = not rules.favoured_groups.isdisjoint(q.ctx.special_groups)
    bands = _derived(q.policy, ("major_illness", favoured), _major_illness_bands, rules, favoured)
    before = year.major_illness_burden
    after = before + burden
    paid = _pay_bands(q, bands, "major_illness", before, after, rules.threshold.sample or rules.bands.sample)
    year.major_illness_burden = after
    year.major_illness_paid += paid
    q.major_illness += paid
    return paid


# --------------------------------------------------------------------------- assistance and veterans


def _veterans(q: _Quote, group: VeteranGroup, inpatient: bool, burden: Decimal) -> Decimal:
    share = group.inpatient_share if inpatient else group.outpatient_share
    label = _derived(q.policy, ("veterans", group.code, inpatient), _veterans_label, group, inpatient)
    paid = q.add(f"veterans.{group.code}", label, "veterans", burden, share, rate_share(burden, share), group.sample)
    q.year.veterans_paid += paid
    q.veterans += paid
    return paid


def _veterans_label(group: VeteranGroup, inpatient: bool) -> str:
    return f"优抚对象医疗补助（{group.label}，{'住院（含门特）' if inpatient else '门诊'}个人负担部分补助）"


def _assistance_bands(group: AssistanceGroup, band: Decimal) -> tuple[_Band, ...]:
    words = f"住院（含门特）医疗救助（{group.label}）：年度政策范围内个人负担"
    return (
        _Band("assistance.inpatient_low", f"{words}{band}元以下部分", ZERO, band, group.inpatient_low_rate),
        _Band("assistance.inpatient_high", f"{words}{band}元（含）以上部分", band, None, group.inpatient_high_rate),
    )


def _assistance(q: _Quote, group: AssistanceGroup, band: Decimal, inpatient: bool, burden: Decimal) -> Decimal:
    year = q.year
    if inpatient:
        before = year.assistance_inpatient_burden
        after = before + burden
        bands = _derived(q.policy, ("assistance", group.code), _assistance_bands, group, band)
        paid = _pay_bands(q, bands, "assistance", before, after, group.sample)
        year.assistance_inpatient_burden = after
    else:
        paid = q.add("assistance.outpatient", f"门诊医疗救助（{group.label}，政策范围内个人自付部分，每年最高{group.outpatient_cap}元）",
                     "assistance", burden, group.outpatient_share,
                     _take(rate_share(burden, group.outpatient_share), group.outpatient_cap - year.assistance_outpatient_paid),
                     group.sample)  # fmt: skip
        year.assistance_outpatient_paid += paid
    year.assistance_paid += paid
    q.assistance += paid
    return paid


def _catastrophic_label(rules: CatastrophicRules) -> str:
    return f"重特大疾病医疗救助：年度个人负担{rules.threshold}元（含）以上部分，每年最高{rules.annual_cap}元"


def _catastrophic(q: _Quote, rules: CatastrophicRules, burden: Decimal) -> Decimal:
    year = q.year
    before = year.catastrophic_burden
    segment = _overlap(rules.threshold, None, before, before + burden)
    paid = ZERO
    if segment > ZERO:
        paid = q.add("assistance.catastrophic", _derived(q.policy, ("catastrophic",), _catastrophic_label, rules), "assistance", segment,
                     rules.rate, _take(rate_share(segment, rules.rate), rules.annual_cap - year.catastrophic_paid), rules.sample)  # fmt: skip
    year.catastrophic_burden = before + burden
    year.catastrophic_paid += paid
    year.assistance_paid += paid
    q.assistance += paid
    return paid


def _illness(q: _Quote, rules: IllnessImpoverishedRules, burden: Decimal) -> Decimal:
    year = q.year
    family_used = year.illness_paid if q.ctx.family_illness_paid is None else q.ctx.family_illness_paid
    paid = q.add("assistance.illness_impoverished",
                 f"因病支出型困难家庭医疗救助：个人负担部分，家庭每年最高{rules.family_cap}元", "assistance", burden, rules.rate,
                 _take(rate_share(burden, rules.rate), rules.family_cap - family_used), rules.sample)  # fmt: skip
    year.illness_burden += burden
    year.illness_paid += paid
    year.assistance_paid += paid
    q.assistance += paid
    return paid


# --------------------------------------------------------------------------- the bill


def _finish(q: _Quote, in_scope: Decimal, out_of_scope: Decimal) -> Bill:
    total = in_scope + out_of_scope
    person = total - q.fund - q.major_illness - q.assistance - q.veterans
    if person < ZERO:  # pragma: no cover - guarded by construction (every rate ≤ 1 applies to what is left)
        raise AssertionError("个人负担为负")
    return Bill(total, in_scope, out_of_scope, q.fund, q.major_illness, q.assistance, q.veterans, person, tuple(q.lines), q.year,
                q.policy.key, q.sample)  # fmt: skip
