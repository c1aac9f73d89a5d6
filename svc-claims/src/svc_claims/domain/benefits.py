"""The benefit engine: basic insurance → major-illness insurance → medical assistance, in one bill.

Pure: no I/O, no clock. Input a ``QuoteContext`` (the bill, the person's groups and the year-to-date
accumulators) and a ``Policy``; output a ``Bill`` whose lines explain every amount and whose shares
add up to the total exactly to the fen. Every multiplication is rounded ROUND_HALF_UP to the fen
(``shared.money.split_ratio``), once, where the documents apply a rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from shared.money import split_ratio, to_money
from svc_claims.policy import AssistanceGroup, Policy, Tier, VeteranGroup

CareType = Literal["inpatient", "special_disease", "family_sickbed", "outpatient", "village_fee"]
RemoteClass = Literal["referred", "self_referred"]
Payer = Literal["fund", "major_illness", "assistance", "person"]

ZERO = Decimal("0.00")
INPATIENT_LIKE: frozenset[str] = frozenset({"inpatient", "special_disease", "family_sickbed"})
STAYS: frozenset[str] = frozenset({"inpatient", "family_sickbed"})
OUTPATIENT_LIKE: frozenset[str] = frozenset({"outpatient", "village_fee"})


class QuoteError(ValueError):
    """The context cannot be computed (unknown level, negative amounts …): a 422 at the API."""


@dataclass(frozen=True)
class Accumulators:
    """Per person and benefit year: what earlier claims already used."""

    stays: int = 0  # 住院次数（含家庭病床）
    deductible_used: Decimal = ZERO  # 住院+门特合并起付线已负担
    fund_paid: Decimal = ZERO  # 统筹基金已支付（住院+门特，计入18万）
    outpatient_deductible_used: Decimal = ZERO  # 普通门诊起付线已负担
    outpatient_fund_paid: Decimal = ZERO  # 普通门诊基金已支付（计入4000）
    outpatient_in_scope: Decimal = ZERO  # 普通门诊政策范围内费用（次年降低起付线、结转额度用）
    sickbed_days: int = 0  # 家庭病床天数
    major_illness_burden: Decimal = ZERO  # 计入大病保险的政策范围内个人负担
    major_illness_paid: Decimal = ZERO
    assistance_inpatient_burden: Decimal = ZERO  # 住院（含门特）救助已计入的个人负担
    assistance_outpatient_paid: Decimal = ZERO  # 门诊救助已支付
    assistance_paid: Decimal = ZERO  # 医疗救助（含优抚）已支付


@dataclass(frozen=True)
class QuoteContext:
    scheme: str
    tier: Tier
    facility_level: int
    care_type: CareType
    in_scope: Decimal  # 政策范围内费用（三目内）
    out_of_scope: Decimal = ZERO  # 政策范围外费用，个人负担
    special_groups: frozenset[str] = frozenset()
    ytd: Accumulators = field(default_factory=Accumulators)
    remote: RemoteClass | None = None
    family_doctor: bool = False  # 家庭医生签约（签约次月起）
    reformed_level2: bool = False  # 取消药品加成、理顺价格的二级定点医疗机构
    claim_free_years: int = 0  # 连续未超过门诊起付标准的年数
    carried_over_cap: Decimal = ZERO  # 往年结转的门诊额度，加入住院最高支付限额
    sickbed_days: int = 0  # 本次家庭病床天数
    continues_stay: bool = False  # 跨待遇享受期住院的后一期部分：起付线已在前一期负担
    not_payable: str | None = None  # 不予支付情形代码（非定点、第三方负担……）


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    payer: Payer
    base: Decimal
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class Bill:
    total: Decimal
    in_scope: Decimal
    out_of_scope: Decimal
    fund: Decimal
    major_illness: Decimal
    assistance: Decimal
    person: Decimal
    lines: tuple[Line, ...]
    accumulators: Accumulators
    policy: tuple[str, str, int]


# --------------------------------------------------------------------------- helpers


def _take(amount: Decimal, limit: Decimal) -> Decimal:
    return min(amount, max(ZERO, limit))


def _overlap(lo: Decimal, hi: Decimal | None, before: Decimal, after: Decimal) -> Decimal:
    """The part of [before, after) that lies in the band [lo, hi)."""
    start = max(lo, before)
    end = after if hi is None else min(hi, after)
    return max(ZERO, end - start)


def _check(ctx: QuoteContext, policy: Policy) -> None:
    if ctx.scheme != policy.scheme:
        raise QuoteError(f"险种 {ctx.scheme} 与政策 {policy.scheme} 不符")
    if ctx.facility_level not in (1, 2, 3):
        raise QuoteError("医疗机构级别只能是1、2、3")
    for name in ("in_scope", "out_of_scope", "carried_over_cap"):
        value = getattr(ctx, name)
        if value < 0 or to_money(value) != value:
            raise QuoteError(f"{name} 必须是非负金额，最多两位小数")
    if ctx.claim_free_years < 0 or ctx.sickbed_days < 0:
        raise QuoteError("年数、天数不能为负数")
    if ctx.care_type == "family_sickbed" and ctx.sickbed_days <= 0:
        raise QuoteError("家庭病床须填写天数")
    codes = {n.code for n in policy.basic.not_payable}
    if ctx.not_payable is not None and ctx.not_payable not in codes:
        raise QuoteError(f"未知的不予支付情形: {ctx.not_payable}")


# --------------------------------------------------------------------------- the engine


class _Builder:
    def __init__(self) -> None:
        self.lines: list[Line] = []

    def add(self, code: str, label: str, payer: Payer, base: Decimal, rate: Decimal | None, amount: Decimal) -> Decimal:
        self.lines.append(Line(code, label, payer, base, rate, amount))
        return amount

    def total(self, payer: Payer) -> Decimal:
        return to_money(sum((ln.amount for ln in self.lines if ln.payer == payer), ZERO))


def quote(ctx: QuoteContext, policy: Policy) -> Bill:
    """The bill for one claim; ``Bill.accumulators`` are ``ctx.ytd`` after it."""
    _check(ctx, policy)
    b = _Builder()
    ytd = ctx.ytd
    in_scope, out_of_scope = to_money(ctx.in_scope), to_money(ctx.out_of_scope)
    total = to_money(in_scope + out_of_scope)
    if out_of_scope > 0:
        b.add("out_of_scope", "政策范围外费用（三目外），个人负担", "person", out_of_scope, None, out_of_scope)

    refusal = _refusal(ctx, policy)
    if refusal is not None:
        code, label = refusal
        if in_scope > 0:
            b.add(code, label, "person", in_scope, None, in_scope)
        return _finish(b, ctx, policy, total, in_scope, out_of_scope, ytd)

    if ctx.care_type in OUTPATIENT_LIKE:
        burden, ytd = _outpatient(ctx, policy, b, in_scope, ytd)
    else:
        burden, ytd = _inpatient(ctx, policy, b, in_scope, ytd)
        mi, ytd = _major_illness(ctx, policy, b, burden, ytd)
        burden = burden - mi
    ytd = _assistance(ctx, policy, b, burden, ytd)
    return _finish(b, ctx, policy, total, in_scope, out_of_scope, ytd)


def _refusal(ctx: QuoteContext, policy: Policy) -> tuple[str, str] | None:
    if ctx.not_payable is not None:
        [np] = [n for n in policy.basic.not_payable if n.code == ctx.not_payable]
        return f"not_payable.{np.code}", f"不予支付：{np.label}，个人负担"
    remote = policy.basic.remote
    if ctx.remote == "self_referred" and ctx.facility_level not in remote.self_referred_levels.value:
        return "not_payable.remote_self_referred", "未办理转外就医自行到异地二、三级以外医疗机构就医，医保基金不予报销"
    if ctx.care_type == "outpatient":
        levels = policy.basic.outpatient.eligible_levels.value
        if ctx.facility_level not in levels and not (ctx.facility_level == 2 and ctx.reformed_level2):
            return "not_payable.outpatient_level", "普通门（急）诊限一级定点医疗机构、定点零售药店及取消药品加成的二级定点医疗机构"
    return None


def _ratio_adjusted(ctx: QuoteContext, policy: Policy, ratio: Decimal) -> tuple[Decimal, Decimal]:
    """(ratio after remote-care points, the points taken)."""
    remote = policy.basic.remote
    extra = ZERO
    if ctx.remote == "referred":
        extra = remote.referred_extra_self_pay.value
    elif ctx.remote == "self_referred":
        extra = remote.self_referred_extra_self_pay.value
    return max(Decimal(0), ratio - extra), extra


def _inpatient(
    ctx: QuoteContext, policy: Policy, b: _Builder, in_scope: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    basic = policy.basic
    payable = in_scope
    days = 0
    if ctx.care_type == "family_sickbed":
        left = max(0, basic.family_sickbed_max_days.value - ytd.sickbed_days)
        days = min(ctx.sickbed_days, left)
        if days < ctx.sickbed_days:
            payable = to_money(in_scope * days / ctx.sickbed_days)
            excluded = in_scope - payable
            if excluded > 0:
                b.add("sickbed_over_days", f"家庭病床全年超过{basic.family_sickbed_max_days.value}天部分，个人负担",
                      "person", in_scope, None, excluded)  # fmt: skip

    waived = ctx.continues_stay and basic.cross_period_single_deductible.value
    waived = waived or (ctx.care_type in STAYS and ytd.stays >= 1 and basic.second_stay_waives_deductible.value)
    remaining = ZERO if waived else basic.deductible.value - ytd.deductible_used
    deductible = _take(payable, remaining)
    if deductible > 0:
        b.add("deductible", "起付标准以下，个人负担（住院与门特合并一个起付线）", "person", payable, None, deductible)
    elif waived and payable > 0:
        label = "跨待遇享受期住院，起付线已在前一期负担" if ctx.continues_stay else "年度内第二次及以后住院，不设起付线"
        b.add("deductible_waived", label, "person", payable, None, ZERO)

    above = payable - deductible
    table = basic.special_disease_ratios if ctx.care_type == "special_disease" else basic.inpatient_ratios
    ratio, extra = _ratio_adjusted(ctx, policy, table.ratio(ctx.facility_level, ctx.tier))
    fund_raw, coinsurance = split_ratio(above, ratio)
    cap = basic.annual_cap.value + ctx.carried_over_cap
    fund = _take(fund_raw, cap - ytd.fund_paid)
    over_cap = fund_raw - fund
    if above > 0:
        label = "特殊病" if ctx.care_type == "special_disease" else "住院"
        b.add("basic_fund", f"基本医疗保险统筹基金支付（{label}，{ctx.facility_level}级医疗机构）", "fund", above, ratio, fund)
        b.add("coinsurance", "起付标准以上个人按比例负担" + (f"（异地就医自付提高{extra * 100:.0f}个百分点）" if extra else ""),
              "person", above, 1 - ratio, coinsurance)  # fmt: skip
        if over_cap > 0:
            b.add("over_cap", "超过年度最高支付限额部分，个人负担", "person", fund_raw, None, over_cap)

    burden = deductible + coinsurance + over_cap
    ytd = replace(
        ytd,
        stays=ytd.stays + (1 if ctx.care_type in STAYS else 0),
        deductible_used=ytd.deductible_used + deductible,
        fund_paid=ytd.fund_paid + fund,
        sickbed_days=ytd.sickbed_days + days,
    )
    return burden, ytd


def _outpatient(
    ctx: QuoteContext, policy: Policy, b: _Builder, in_scope: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    op = policy.basic.outpatient
    cap = op.cap.value + (op.family_doctor_cap_bonus.value if ctx.family_doctor else ZERO)
    deductible = ZERO
    if ctx.care_type == "village_fee":
        ratio, extra = _ratio_adjusted(ctx, policy, op.village_fee_ratio.value)
        fund_label = "村卫生室一般诊疗费，基本医疗保险基金支付"
    else:
        relief_years = min(ctx.claim_free_years, op.deductible_relief_max_years.value)
        threshold = max(ZERO, op.deductible.value - op.deductible_relief_per_year.value * relief_years)
        deductible = _take(in_scope, threshold - ytd.outpatient_deductible_used)
        if deductible > 0:
            label = "普通门（急）诊起付标准以下，个人负担"
            if relief_years:
                label += f"（连续{relief_years}年未超起付标准，起付标准降为{threshold}元）"
            b.add("outpatient_deductible", label, "person", in_scope, None, deductible)
        base_ratio = op.ratio.value + (op.family_doctor_ratio_bonus.value if ctx.family_doctor else ZERO)
        ratio, extra = _ratio_adjusted(ctx, policy, min(Decimal(1), base_ratio))
        fund_label = "普通门（急）诊统筹基金支付" + ("（家庭医生签约提高5个百分点）" if ctx.family_doctor else "")
    above = in_scope - deductible
    fund_raw, coinsurance = split_ratio(above, ratio)
    fund = _take(fund_raw, cap - ytd.outpatient_fund_paid)
    over_cap = fund_raw - fund
    if above > 0:
        b.add("outpatient_fund", fund_label, "fund", above, ratio, fund)
        b.add("outpatient_coinsurance", "门诊个人按比例负担", "person", above, 1 - ratio, coinsurance)
        if over_cap > 0:
            b.add("outpatient_over_cap", f"超过门诊年度最高支付限额（{cap}元）部分，个人负担", "person", fund_raw, None, over_cap)
    ytd = replace(
        ytd,
        outpatient_deductible_used=ytd.outpatient_deductible_used + deductible,
        outpatient_fund_paid=ytd.outpatient_fund_paid + fund,
        outpatient_in_scope=ytd.outpatient_in_scope + in_scope,
    )
    return deductible + coinsurance + over_cap, ytd


def _major_illness(
    ctx: QuoteContext, policy: Policy, b: _Builder, burden: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    rules = policy.major_illness
    if rules is None or burden <= 0:
        return ZERO, ytd
    favoured = bool(ctx.special_groups & set(rules.favoured.groups))
    threshold = rules.threshold.value
    bonus = ZERO
    if favoured:
        threshold = to_money(threshold * rules.favoured.threshold_factor)
        bonus = rules.favoured.rate_bonus
    before, after = ytd.major_illness_burden, ytd.major_illness_burden + burden
    paid = ZERO
    lo = threshold
    rows = rules.bands.rows
    for i, band in enumerate(rows):
        last = i == len(rows) - 1
        hi: Decimal | None = None if (last and favoured and rules.favoured.no_ceiling) else band.up_to
        segment = _overlap(lo, hi, before, after)
        if segment > 0:
            rate = min(Decimal(1), band.rate + bonus)
            amount, _ = split_ratio(segment, rate)
            top = "以上" if hi is None else f"至{hi}元"
            who = "（医疗救助对象/优抚对象：起付线降低50%、比例提高5个百分点）" if favoured else ""
            b.add(f"major_illness.band{i + 1}", f"居民大病保险：年度个人负担{lo}元{top}部分{who}", "major_illness",
                  segment, rate, amount)  # fmt: skip
            paid += amount
        lo = band.up_to
    return paid, replace(ytd, major_illness_burden=after, major_illness_paid=ytd.major_illness_paid + paid)


def _assistance_group(ctx: QuoteContext, policy: Policy) -> AssistanceGroup | VeteranGroup | None:
    rules = policy.assistance
    if rules is None:
        return None
    for veteran in rules.veterans:
        if veteran.matches(ctx.special_groups):
            return veteran
    for group in rules.groups:
        if group.matches(ctx.special_groups):
            return group
    return None


def _assistance(ctx: QuoteContext, policy: Policy, b: _Builder, burden: Decimal, ytd: Accumulators) -> Accumulators:
    group = _assistance_group(ctx, policy)
    rules = policy.assistance
    if group is None or rules is None or burden <= 0:
        return ytd
    inpatient = ctx.care_type in INPATIENT_LIKE
    paid = ZERO
    if isinstance(group, VeteranGroup):
        share = group.inpatient_share if inpatient else group.outpatient_share
        paid, _ = split_ratio(burden, share)
        kind = "住院（含门特）" if inpatient else "门诊"
        b.add(f"veteran.{group.code}", f"优抚对象医疗补助（{group.label}，{kind}）", "assistance", burden, share, paid)
    elif inpatient:
        band = rules.inpatient_band.value
        before, after = ytd.assistance_inpatient_burden, ytd.assistance_inpatient_burden + burden
        for code, lo, hi, rate in (("low", ZERO, band, group.inpatient_low_rate), ("high", band, None, group.inpatient_high_rate)):
            segment = _overlap(lo, hi, before, after)
            if segment > 0:
                amount, _ = split_ratio(segment, rate)
                part = f"{band}元以下部分" if hi is not None else f"{band}元（含）以上部分"
                b.add(f"assistance.inpatient_{code}", f"医疗救助（{group.label}）：年度个人负担{part}", "assistance",
                      segment, rate, amount)  # fmt: skip
                paid += amount
        ytd = replace(ytd, assistance_inpatient_burden=after)
    else:
        raw, _ = split_ratio(burden, group.outpatient_share)
        paid = _take(raw, group.outpatient_cap - ytd.assistance_outpatient_paid)
        b.add("assistance.outpatient", f"门诊医疗救助（{group.label}，每年最高{group.outpatient_cap}元）", "assistance",
              burden, group.outpatient_share, paid)  # fmt: skip
        ytd = replace(ytd, assistance_outpatient_paid=ytd.assistance_outpatient_paid + paid)
    return replace(ytd, assistance_paid=ytd.assistance_paid + paid)


def _finish(
    b: _Builder, ctx: QuoteContext, policy: Policy, total: Decimal, in_scope: Decimal, out_of_scope: Decimal,
    ytd: Accumulators,
) -> Bill:  # fmt: skip
    fund, mi, assistance = b.total("fund"), b.total("major_illness"), b.total("assistance")
    person = total - fund - mi - assistance
    if person < 0:  # pragma: no cover - guarded by construction
        raise AssertionError("个人负担为负")
    return Bill(total, in_scope, out_of_scope, fund, mi, assistance, to_money(person), tuple(b.lines), ytd, policy.key)
