"""The benefit engine: basic insurance → major-illness insurance → medical assistance / veterans' subsidy.

Pure: no I/O, no clock. ``quote(ctx, policy)`` gives one ``Bill`` whose lines explain every amount
(rule code, Chinese label, base, rate, amount) and whose shares add up to the total exactly to the fen.
Every rate is applied with ``shared.money.rate_share`` (ROUND_HALF_UP to the fen, once, where the
documents apply a rate); everything else is addition, subtraction and ``min`` on whole fen.

It is a hot path (apps quote as the user types, every settlement runs it): the context is checked
once, the year is copied once and updated in place, and each distinct label is formatted once.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import attrgetter

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
from svc_claims.domain.benefits.policy import AssistanceGroup, Policy, VeteranGroup

ONE = Decimal(1)
# Far above any medical bill; below it every product of an amount and a rate is exact in 60 digits.
MAX_AMOUNT = Decimal("1000000000000.00")
_year_values = attrgetter(*Accumulators.__dataclass_fields__)


def _take(amount: Decimal, limit: Decimal) -> Decimal:
    return amount if amount <= limit else (limit if limit > 0 else ZERO)


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
    """One computation in progress: its lines, what each payer pays so far, and its own copy of the year."""

    __slots__ = ("ctx", "policy", "lines", "paid", "year", "sample")

    def __init__(self, ctx: QuoteContext, policy: Policy) -> None:
        self.ctx, self.policy, self.sample = ctx, policy, policy.sample
        self.lines: list[Line] = []
        self.paid = {"fund": ZERO, "major_illness": ZERO, "assistance": ZERO, "veterans": ZERO, "person": ZERO}
        self.year = Accumulators(*_year_values(ctx.ytd))  # updated in place; the caller's ytd stays as it was

    def add(self, code: str, label: str, payer: Payer, base: Decimal, rate: Decimal | None, amount: Decimal,
            sample: bool = False) -> Decimal:  # fmt: skip
        if sample:
            self.sample = True  # the bill uses a sample value
        else:
            sample = self.policy.sample
        self.lines.append(Line(code, label, payer, base, rate, amount, sample))
        self.paid[payer] += amount
        return amount


def quote(ctx: QuoteContext, policy: Policy) -> Bill:
    """The bill for one claim; ``Bill.accumulators`` are ``ctx.ytd`` after it."""
    _check(ctx, policy)
    in_scope, out_of_scope = _money(ctx.in_scope, "in_scope"), _money(ctx.out_of_scope, "out_of_scope")
    q = _Quote(ctx, policy)
    if out_of_scope > 0:
        q.add("out_of_scope", "政策范围外费用（三目外），个人负担", "person", out_of_scope, None, out_of_scope)

    refusal = _refusal(ctx, policy)
    if refusal is not None:
        if in_scope > 0:
            q.add(*refusal, "person", in_scope, None, in_scope)
        return _finish(q, in_scope, out_of_scope)

    inpatient = ctx.care_type in INPATIENT_LIKE
    if inpatient:
        burden = _inpatient(q, in_scope)
        burden -= _major_illness(q, burden)
    else:
        burden = _outpatient(q, in_scope)

    rules = policy.assistance
    if rules is not None and burden > 0:
        group = rules.group_for(ctx.special_groups) if ctx.special_groups else None
        if isinstance(group, VeteranGroup):
            burden -= _veterans(q, group, inpatient, burden)
        elif isinstance(group, AssistanceGroup):
            burden -= _assistance(q, group, inpatient, burden)
        if inpatient and group is not None and rules.catastrophic is not None:
            burden -= _catastrophic(q, burden)
        ill = rules.illness_impoverished
        if inpatient and ill is not None and ill.group in ctx.special_groups:
            burden -= _illness(q, burden)
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


def _remote_points(ctx: QuoteContext, policy: Policy) -> tuple[Decimal, str]:
    """(points taken off the fund's ratio for remote care, the words for the line)."""
    if ctx.remote is None:
        return ZERO, ""
    remote = policy.basic.remote
    if ctx.remote == "referred":
        return remote.referred_extra_self_pay.value, _remote_words("referred", remote.referred_extra_self_pay.value)
    if ctx.remote == "self_referred":
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


@lru_cache(maxsize=256)
def _inpatient_labels(deductible: Decimal, care_type: str, level: int, why: str) -> tuple[str, str, str]:
    return (
        f"起付标准（{deductible}元，住院与门诊特殊病合并一个起付线）以下，个人负担",
        f"基本医疗保险统筹基金支付（{_STAY_KIND[care_type]}，{level}级医疗机构）{why}",
        f"起付标准以上个人按比例负担{why}",
    )


@lru_cache(maxsize=1024)
def _over_cap_label(cap: Decimal, carried: Decimal) -> str:
    extra = f"（含往年结转门诊额度{carried}元）" if carried else ""
    return f"超过年度最高支付限额{cap}元{extra}部分，个人负担"


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
            if excluded > 0:
                q.add("sickbed_over_days",
                      f"家庭病床全年累计超过{max_days}天部分（本次{ctx.sickbed_days}天中{ctx.sickbed_days - days}天，按天数分摊），个人负担",
                      "person", in_scope, None, excluded, basic.family_sickbed_max_days.sample)  # fmt: skip

    stay = ctx.care_type in STAYS
    crossing = continues_stay(ctx) and basic.cross_period_single_deductible.value
    second = stay and year.stays >= 1 and basic.second_stay_waives_deductible.value
    remaining = ZERO if (crossing or second) else basic.deductible.value - year.deductible_used
    deductible = _take(payable, remaining)
    points, why = _remote_points(ctx, q.policy)
    deductible_label, fund_label, coinsurance_label = _inpatient_labels(basic.deductible.value, ctx.care_type,
                                                                        ctx.facility_level, why)  # fmt: skip
    if deductible > 0:
        q.add("deductible", deductible_label, "person", payable, None, deductible, basic.deductible.sample)
    elif payable > 0 and crossing:
        q.add("deductible_waived.cross_period", "住院跨待遇享受期，起付线已在前一期负担（只负担一次）", "person", payable, None, ZERO)
    elif payable > 0 and second:
        q.add("deductible_waived.second_stay", "年度内第二次及以后住院，不再设置起付线", "person", payable, None, ZERO)

    above = payable - deductible
    table = basic.special_disease_ratios if ctx.care_type == "special_disease" else basic.inpatient_ratios
    ratio = table.by_level[ctx.facility_level][ctx.tier] - points
    if ratio < 0:
        ratio = ZERO
    fund_raw = rate_share(above, ratio)
    coinsurance = above - fund_raw
    cap = basic.annual_cap.value + year.carried_over_cap
    fund = _take(fund_raw, cap - year.fund_paid)
    over_cap = fund_raw - fund
    if above > 0:
        q.add("basic_fund", fund_label, "fund", above, ratio, fund, table.sample)
        q.add("coinsurance", coinsurance_label, "person", above, ONE - ratio, coinsurance, table.sample)
        if over_cap > 0:
            q.add("over_cap", _over_cap_label(cap, year.carried_over_cap), "person", fund_raw, None, over_cap,
                  basic.annual_cap.sample)  # fmt: skip

    year.stays += 1 if stay else 0
    year.deductible_used += deductible
    year.fund_paid += fund
    year.sickbed_days += days
    return deductible + coinsurance + over_cap


@lru_cache(maxsize=256)
def _outpatient_labels(threshold: Decimal, full: Decimal, relief_years: int, doctor: bool, why: str) -> tuple[str, str]:
    deductible = f"普通门（急）诊起付标准（{threshold}元）以下，个人负担"
    if relief_years:
        deductible += f"（连续{relief_years}年未超过起付标准，起付标准降低{full - threshold}元）"
    fund = "普通门（急）诊统筹基金支付" + ("（家庭医生签约，比例提高5个百分点、额度增加200元）" if doctor else "") + why
    return deductible, fund


@lru_cache(maxsize=64)
def _outpatient_over_cap_label(cap: Decimal) -> str:
    return f"超过门诊年度最高支付限额（{cap}元）部分，个人负担"


def _outpatient(q: _Quote, in_scope: Decimal) -> Decimal:
    """Ordinary outpatient care or a village clinic's fee; the person's burden after basic insurance."""
    ctx, op, year = q.ctx, q.policy.basic.outpatient, q.year
    doctor = family_doctor_effective(ctx)
    cap = op.cap.value + (op.family_doctor_cap_bonus.value if doctor else ZERO)
    points, why = _remote_points(ctx, q.policy)
    deductible = ZERO
    village = ctx.care_type == "village_fee"
    if village:
        ratio = max(ZERO, op.village_fee_ratio.value - points)
        fund_code, fund_label = "village_fee_fund", f"村卫生室一般诊疗费（挂号、诊查、注射），门诊最高支付限额内基金支付{why}"
    else:
        relief_years = min(year.claim_free_years, op.deductible_relief_max_years.value)
        threshold = max(ZERO, op.deductible.value - op.deductible_relief_per_year.value * relief_years)
        deductible_label, fund_label = _outpatient_labels(threshold, op.deductible.value, relief_years, doctor, why)
        deductible = _take(in_scope, threshold - year.outpatient_deductible_used)
        if deductible > 0:
            q.add("outpatient_deductible", deductible_label, "person", in_scope, None, deductible, op.deductible.sample)
        bonus = op.family_doctor_ratio_bonus.value if doctor else ZERO
        ratio = max(ZERO, min(ONE, op.ratio.value + bonus) - points)
        fund_code = "outpatient_fund"
    above = in_scope - deductible
    fund_raw = rate_share(above, ratio)
    coinsurance = above - fund_raw
    fund = _take(fund_raw, cap - year.outpatient_fund_paid)
    over_cap = fund_raw - fund
    if above > 0:
        q.add(fund_code, fund_label, "fund", above, ratio, fund, op.ratio.sample)
        q.add("outpatient_coinsurance", "门诊个人按比例负担", "person", above, ONE - ratio, coinsurance, op.ratio.sample)
        if over_cap > 0:
            q.add("outpatient_over_cap", _outpatient_over_cap_label(cap), "person", fund_raw, None, over_cap, op.cap.sample)

    year.outpatient_deductible_used += deductible
    year.outpatient_fund_paid += fund
    if village:
        year.village_fee_in_scope += in_scope
    else:
        year.outpatient_in_scope += in_scope
    year.family_doctor = year.family_doctor or doctor
    return deductible + coinsurance + over_cap


# --------------------------------------------------------------------------- major-illness insurance

_BAND_CODES = tuple(f"major_illness.band{i}" for i in range(1, 21))
_FAVOURED = "（医疗救助对象、享受定期抚恤补助的优抚对象：起付线降低50%、比例提高5个百分点、不设封顶线）"


@lru_cache(maxsize=256)
def _band_label(lo: Decimal, hi: Decimal | None, favoured: bool) -> str:
    top = "以上" if hi is None else f"至{hi}元（含）"
    return f"居民大病保险：年度政策范围内个人负担{lo}元{top}部分{_FAVOURED if favoured else ''}"


def _major_illness(q: _Quote, burden: Decimal) -> Decimal:
    """Major-illness insurance on the year's in-scope burden, band by band; what it pays."""
    rules, year = q.policy.major_illness, q.year
    if rules is None or burden <= 0:
        return ZERO
    favoured = not rules.favoured_groups.isdisjoint(q.ctx.special_groups)
    before = year.major_illness_burden
    after = before + burden
    sample = rules.threshold.sample or rules.bands.sample
    paid = ZERO
    for i, (lo, hi, rate) in enumerate(rules.segments[favoured]):
        segment = _overlap(lo, hi, before, after)
        if segment > 0:
            paid += q.add(_BAND_CODES[i], _band_label(lo, hi, favoured), "major_illness", segment, rate, rate_share(segment, rate),
                          sample)  # fmt: skip
    year.major_illness_burden = after
    year.major_illness_paid += paid
    return paid


# --------------------------------------------------------------------------- assistance and veterans


def _veterans(q: _Quote, group: VeteranGroup, inpatient: bool, burden: Decimal) -> Decimal:
    share = group.inpatient_share if inpatient else group.outpatient_share
    kind = "住院（含门特）" if inpatient else "门诊"
    paid = q.add(f"veterans.{group.code}", f"优抚对象医疗补助（{group.label}，{kind}个人负担部分补助）", "veterans", burden,
                 share, rate_share(burden, share), group.sample)  # fmt: skip
    q.year.veterans_paid += paid
    return paid


@lru_cache(maxsize=256)
def _assistance_label(group: str, band: Decimal, high: bool) -> str:
    part = f"{band}元（含）以上部分" if high else f"{band}元以下部分"
    return f"住院（含门特）医疗救助（{group}）：年度政策范围内个人负担{part}"


def _assistance(q: _Quote, group: AssistanceGroup, inpatient: bool, burden: Decimal) -> Decimal:
    assert q.policy.assistance is not None
    year = q.year
    paid = ZERO
    if inpatient:
        band = q.policy.assistance.inpatient_band.value
        before = year.assistance_inpatient_burden
        after = before + burden
        for code, lo, hi, rate in (("low", ZERO, band, group.inpatient_low_rate), ("high", band, None, group.inpatient_high_rate)):
            segment = _overlap(lo, hi, before, after)
            if segment > 0:
                paid += q.add(f"assistance.inpatient_{code}", _assistance_label(group.label, band, hi is None), "assistance",
                              segment, rate, rate_share(segment, rate), group.sample)  # fmt: skip
        year.assistance_inpatient_burden = after
    else:
        paid = q.add("assistance.outpatient", f"门诊医疗救助（{group.label}，政策范围内个人自付部分，每年最高{group.outpatient_cap}元）",
                     "assistance", burden, group.outpatient_share,
                     _take(rate_share(burden, group.outpatient_share), group.outpatient_cap - year.assistance_outpatient_paid),
                     group.sample)  # fmt: skip
        year.assistance_outpatient_paid += paid
    year.assistance_paid += paid
    return paid


def _catastrophic(q: _Quote, burden: Decimal) -> Decimal:
    assert q.policy.assistance is not None and q.policy.assistance.catastrophic is not None
    rules, year = q.policy.assistance.catastrophic, q.year
    before = year.catastrophic_burden
    segment = _overlap(rules.threshold, None, before, before + burden)
    paid = ZERO
    if segment > 0:
        paid = q.add("assistance.catastrophic",
                     f"重特大疾病医疗救助：年度个人负担{rules.threshold}元（含）以上部分，每年最高{rules.annual_cap}元",
                     "assistance", segment, rules.rate,
                     _take(rate_share(segment, rules.rate), rules.annual_cap - year.catastrophic_paid), rules.sample)  # fmt: skip
    year.catastrophic_burden = before + burden
    year.catastrophic_paid += paid
    year.assistance_paid += paid
    return paid


def _illness(q: _Quote, burden: Decimal) -> Decimal:
    assert q.policy.assistance is not None and q.policy.assistance.illness_impoverished is not None
    rules, year = q.policy.assistance.illness_impoverished, q.year
    family_used = year.illness_paid if q.ctx.family_illness_paid is None else q.ctx.family_illness_paid
    paid = q.add("assistance.illness_impoverished",
                 f"因病支出型困难家庭医疗救助：个人负担部分，家庭每年最高{rules.family_cap}元", "assistance", burden, rules.rate,
                 _take(rate_share(burden, rules.rate), rules.family_cap - family_used), rules.sample)  # fmt: skip
    year.illness_burden += burden
    year.illness_paid += paid
    year.assistance_paid += paid
    return paid


# --------------------------------------------------------------------------- the bill


def _finish(q: _Quote, in_scope: Decimal, out_of_scope: Decimal) -> Bill:
    paid = q.paid
    total = in_scope + out_of_scope
    person = total - paid["fund"] - paid["major_illness"] - paid["assistance"] - paid["veterans"]
    if person < 0:  # pragma: no cover - guarded by construction (every rate ≤ 1 applies to what is left)
        raise AssertionError("个人负担为负")
    return Bill(total, in_scope, out_of_scope, paid["fund"], paid["major_illness"], paid["assistance"], paid["veterans"],
                person, tuple(q.lines), q.year, q.policy.key, q.sample)  # fmt: skip
