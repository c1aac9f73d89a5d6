"""The benefit engine: basic insurance → major-illness insurance → medical assistance / veterans' subsidy.

Pure: no I/O, no clock. ``quote(ctx, policy)`` gives one ``Bill`` whose lines explain every amount
(rule code, Chinese label, base, rate, amount) and whose shares add up to the total exactly to the fen.
Every rate is applied with ``shared.money.split_ratio`` (ROUND_HALF_UP to the fen, once, where the
documents apply a rate); everything else is addition, subtraction and ``min`` on whole fen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.money import split_ratio, to_money
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
_AMOUNTS = ("in_scope", "out_of_scope")


def _take(amount: Decimal, limit: Decimal) -> Decimal:
    return min(amount, max(ZERO, limit))


def _overlap(lo: Decimal, hi: Decimal | None, before: Decimal, after: Decimal) -> Decimal:
    """The part of [before, after) that lies in the band [lo, hi)."""
    start = max(lo, before)
    end = after if hi is None else min(hi, after)
    return max(ZERO, end - start)


def _money_ok(value: Decimal) -> bool:
    """A non-negative amount in whole fen (no rounding needed)."""
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        return False
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and (exponent >= -2 or to_money(value) == value)


def replace(acc: Accumulators, **changes: object) -> Accumulators:
    """``dataclasses.replace`` for the accumulators, without its per-call field introspection (hot path)."""
    values = dict(acc.__dict__)
    values.update(changes)
    return Accumulators(**values)  # type: ignore[arg-type]


def _check(ctx: QuoteContext, policy: Policy) -> None:
    if ctx.scheme != policy.scheme:
        raise QuoteError(f"险种 {ctx.scheme} 与政策 {policy.scheme} 不符")
    if ctx.tier not in policy.tier_codes:
        raise QuoteError(f"档次 {ctx.tier} 不在该政策的档次中（{'、'.join(policy.tier_codes)}）")
    if ctx.facility_level not in (1, 2, 3):
        raise QuoteError("医疗机构级别只能是1、2、3")
    for name in _AMOUNTS:
        if not _money_ok(getattr(ctx, name)):
            raise QuoteError(f"{name} 必须是非负金额，最多两位小数")
    if ctx.family_illness_paid is not None and not _money_ok(ctx.family_illness_paid):
        raise QuoteError("family_illness_paid 必须是非负金额，最多两位小数")
    for name, value in ctx.ytd.__dict__.items():
        if value is ZERO:  # the untouched default (most fields of most years): nothing to check
            continue
        if type(value) is int:
            if value < 0:
                raise QuoteError(f"年度累计 {name} 不能为负数")
        elif type(value) is not bool and not _money_ok(value):
            raise QuoteError(f"年度累计 {name} 必须是非负金额，最多两位小数")
    if ctx.sickbed_days < 0:
        raise QuoteError("天数不能为负数")
    if ctx.care_type == "family_sickbed" and ctx.sickbed_days <= 0:
        raise QuoteError("家庭病床须填写天数")
    if ctx.care_type not in INPATIENT_LIKE and ctx.care_type not in OUTPATIENT_LIKE:
        raise QuoteError(f"未知的就医类型: {ctx.care_type}")
    remote = policy.basic.remote
    if ctx.remote is not None and ctx.remote not in ("referred", "self_referred", *remote.as_local_classes.value):
        raise QuoteError(f"未知的异地就医类别: {ctx.remote}")
    codes = {n.code for n in policy.basic.not_payable}
    if ctx.not_payable is not None and ctx.not_payable not in codes:
        raise QuoteError(f"未知的不予支付情形: {ctx.not_payable}")
    if ctx.admission_date is not None and ctx.service_date is not None and ctx.admission_date > ctx.service_date:
        raise QuoteError("入院日期不能晚于出院（就医）日期")
    if ctx.family_doctor_signed_on is not None and ctx.service_date is None:
        raise QuoteError("填写家庭医生签约日期时须同时填写就医日期")


class _Builder:
    __slots__ = ("lines", "sample")

    def __init__(self, sample: bool) -> None:
        self.lines: list[Line] = []
        self.sample = sample

    def add(self, code: str, label: str, payer: Payer, base: Decimal, rate: Decimal | None, amount: Decimal,
            sample: bool = False) -> Decimal:  # fmt: skip
        self.lines.append(Line(code, label, payer, base, rate, amount, sample or self.sample))
        return amount

    def total(self, payer: Payer) -> Decimal:
        return to_money(sum((ln.amount for ln in self.lines if ln.payer == payer), ZERO))


def quote(ctx: QuoteContext, policy: Policy) -> Bill:
    """The bill for one claim; ``Bill.accumulators`` are ``ctx.ytd`` after it."""
    _check(ctx, policy)
    b = _Builder(policy.sample)
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
        return _finish(b, policy, total, in_scope, out_of_scope, ytd)

    inpatient = ctx.care_type in INPATIENT_LIKE
    if inpatient:
        burden, ytd = _inpatient(ctx, policy, b, in_scope, ytd)
        paid, ytd = _major_illness(ctx, policy, b, burden, ytd)
        burden -= paid
    else:
        burden, ytd = _outpatient(ctx, policy, b, in_scope, ytd)

    rules = policy.assistance
    if rules is not None and burden > 0:
        group = _assistance_group(ctx, policy)
        if isinstance(group, VeteranGroup):
            paid, ytd = _veterans(group, inpatient, b, burden, ytd)
            burden -= paid
        elif isinstance(group, AssistanceGroup):
            paid, ytd = _assistance(group, inpatient, policy, b, burden, ytd)
            burden -= paid
        if inpatient and group is not None and rules.catastrophic is not None:
            paid, ytd = _catastrophic(policy, b, burden, ytd)
            burden -= paid
        ill = rules.illness_impoverished
        if inpatient and ill is not None and ill.group in ctx.special_groups:
            paid, ytd = _illness(ctx, policy, b, burden, ytd)
            burden -= paid
    return _finish(b, policy, total, in_scope, out_of_scope, ytd)


# --------------------------------------------------------------------------- basic insurance


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
            return "not_payable.outpatient_level", "普通门（急）诊限一级定点医疗机构、定点零售药店及已登记的取消药品加成的二级定点医疗机构"
    return None


def _remote_points(ctx: QuoteContext, policy: Policy) -> tuple[Decimal, str]:
    """(points taken off the fund's ratio for remote care, the words for the line)."""
    remote = policy.basic.remote
    if ctx.remote == "referred":
        points = remote.referred_extra_self_pay.value
        return points, f"（转外就医，个人自负比例提高{points * 100:.0f}个百分点）"
    if ctx.remote == "self_referred":
        points = remote.self_referred_extra_self_pay.value
        return points, f"（未办理转外就医自行到异地二、三级医疗机构，个人自负比例提高{points * 100:.0f}个百分点）"
    if ctx.remote is not None:
        return ZERO, "（异地就医，报销比例按本市规定执行）"
    return ZERO, ""


def continues_stay(ctx: QuoteContext) -> bool:
    """The later-period part of a stay that crossed into this benefit period (its deductible was paid before)."""
    if ctx.continues_stay:
        return True
    if ctx.admission_date is None or ctx.care_type not in STAYS:
        return False
    start = ctx.benefit_period_start
    if start is None and ctx.service_date is not None:
        start = date(ctx.service_date.year, 1, 1)
    return start is not None and ctx.admission_date < start


def family_doctor_effective(ctx: QuoteContext) -> bool:
    """家庭医生签约：从签约次月起享受."""
    signed = ctx.family_doctor_signed_on
    if signed is None or ctx.service_date is None:
        return False
    first = date(signed.year + 1, 1, 1) if signed.month == 12 else date(signed.year, signed.month + 1, 1)
    return ctx.service_date >= first


def _inpatient(
    ctx: QuoteContext, policy: Policy, b: _Builder, in_scope: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    basic = policy.basic
    payable = in_scope
    days = 0
    if ctx.care_type == "family_sickbed":
        max_days = basic.family_sickbed_max_days.value
        days = min(ctx.sickbed_days, max(0, max_days - ytd.sickbed_days))
        if days < ctx.sickbed_days:
            payable = to_money(in_scope * days / ctx.sickbed_days)
            excluded = in_scope - payable
            if excluded > 0:
                b.add("sickbed_over_days",
                      f"家庭病床全年累计超过{max_days}天部分（本次{ctx.sickbed_days}天中{ctx.sickbed_days - days}天，按天数分摊），个人负担",
                      "person", in_scope, None, excluded, basic.family_sickbed_max_days.sample)  # fmt: skip

    crossing = continues_stay(ctx) and basic.cross_period_single_deductible.value
    second = ctx.care_type in STAYS and ytd.stays >= 1 and basic.second_stay_waives_deductible.value
    remaining = ZERO if (crossing or second) else basic.deductible.value - ytd.deductible_used
    deductible = _take(payable, remaining)
    if deductible > 0:
        b.add("deductible", f"起付标准（{basic.deductible.value}元，住院与门诊特殊病合并一个起付线）以下，个人负担",
              "person", payable, None, deductible, basic.deductible.sample)  # fmt: skip
    elif payable > 0 and (crossing or second):
        if crossing:
            b.add("deductible_waived.cross_period", "住院跨待遇享受期，起付线已在前一期负担（只负担一次）", "person", payable, None, ZERO)
        else:
            b.add("deductible_waived.second_stay", "年度内第二次及以后住院，不再设置起付线", "person", payable, None, ZERO)

    above = payable - deductible
    special = ctx.care_type == "special_disease"
    table = basic.special_disease_ratios if special else basic.inpatient_ratios
    points, why = _remote_points(ctx, policy)
    ratio = max(ZERO, table.ratio(ctx.facility_level, ctx.tier) - points)
    fund_raw, coinsurance = split_ratio(above, ratio)
    cap = basic.annual_cap.value + ytd.carried_over_cap
    fund = _take(fund_raw, cap - ytd.fund_paid)
    over_cap = fund_raw - fund
    if above > 0:
        kind = {"special_disease": "门诊特殊病", "family_sickbed": "家庭病床"}.get(ctx.care_type, "住院")
        b.add("basic_fund", f"基本医疗保险统筹基金支付（{kind}，{ctx.facility_level}级医疗机构）{why}", "fund", above, ratio,
              fund, table.sample)  # fmt: skip
        b.add("coinsurance", f"起付标准以上个人按比例负担{why}", "person", above, ONE - ratio, coinsurance, table.sample)
        if over_cap > 0:
            extra = f"（含往年结转门诊额度{ytd.carried_over_cap}元）" if ytd.carried_over_cap else ""
            b.add("over_cap", f"超过年度最高支付限额{cap}元{extra}部分，个人负担", "person", fund_raw, None, over_cap,
                  basic.annual_cap.sample)  # fmt: skip

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
    doctor = family_doctor_effective(ctx)
    cap = op.cap.value + (op.family_doctor_cap_bonus.value if doctor else ZERO)
    points, why = _remote_points(ctx, policy)
    deductible = ZERO
    if ctx.care_type == "village_fee":
        ratio = max(ZERO, op.village_fee_ratio.value - points)
        fund_code, fund_label = "village_fee_fund", f"村卫生室一般诊疗费（挂号、诊查、注射），门诊最高支付限额内基金支付{why}"
    else:
        relief_years = min(ytd.claim_free_years, op.deductible_relief_max_years.value)
        threshold = max(ZERO, op.deductible.value - op.deductible_relief_per_year.value * relief_years)
        deductible = _take(in_scope, threshold - ytd.outpatient_deductible_used)
        if deductible > 0:
            label = f"普通门（急）诊起付标准（{threshold}元）以下，个人负担"
            if relief_years:
                label += f"（连续{relief_years}年未超过起付标准，起付标准降低{op.deductible.value - threshold}元）"
            b.add("outpatient_deductible", label, "person", in_scope, None, deductible, op.deductible.sample)
        bonus = op.family_doctor_ratio_bonus.value if doctor else ZERO
        ratio = max(ZERO, min(ONE, op.ratio.value + bonus) - points)
        fund_code = "outpatient_fund"
        fund_label = "普通门（急）诊统筹基金支付" + ("（家庭医生签约，比例提高5个百分点、额度增加200元）" if doctor else "") + why
    above = in_scope - deductible
    fund_raw, coinsurance = split_ratio(above, ratio)
    fund = _take(fund_raw, cap - ytd.outpatient_fund_paid)
    over_cap = fund_raw - fund
    if above > 0:
        b.add(fund_code, fund_label, "fund", above, ratio, fund, op.ratio.sample)
        b.add("outpatient_coinsurance", "门诊个人按比例负担", "person", above, ONE - ratio, coinsurance, op.ratio.sample)
        if over_cap > 0:
            b.add("outpatient_over_cap", f"超过门诊年度最高支付限额（{cap}元）部分，个人负担", "person", fund_raw, None,
                  over_cap, op.cap.sample)  # fmt: skip
    village = ctx.care_type == "village_fee"
    ytd = replace(
        ytd,
        outpatient_deductible_used=ytd.outpatient_deductible_used + deductible,
        outpatient_fund_paid=ytd.outpatient_fund_paid + fund,
        outpatient_in_scope=ytd.outpatient_in_scope + (ZERO if village else in_scope),
        village_fee_in_scope=ytd.village_fee_in_scope + (in_scope if village else ZERO),
        family_doctor=ytd.family_doctor or doctor,
    )
    return deductible + coinsurance + over_cap, ytd


# --------------------------------------------------------------------------- major-illness insurance


def _major_illness(
    ctx: QuoteContext, policy: Policy, b: _Builder, burden: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    rules = policy.major_illness
    if rules is None or burden <= 0:
        return ZERO, ytd
    favoured = not ctx.special_groups.isdisjoint(rules.favoured.groups)
    threshold = rules.threshold.value
    bonus = ZERO
    if favoured:
        threshold = to_money(threshold * rules.favoured.threshold_factor)
        bonus = rules.favoured.rate_bonus
    before, after = ytd.major_illness_burden, ytd.major_illness_burden + burden
    sample = rules.threshold.sample or rules.bands.sample
    who = "（医疗救助对象、享受定期抚恤补助的优抚对象：起付线降低50%、比例提高5个百分点、不设封顶线）" if favoured else ""
    paid = ZERO
    lo = threshold
    rows = rules.bands.rows
    for i, band in enumerate(rows):
        last = i == len(rows) - 1
        hi: Decimal | None = None if (last and favoured and rules.favoured.no_ceiling) else band.up_to
        segment = _overlap(lo, hi, before, after)
        if segment > 0:
            rate = min(ONE, band.rate + bonus)
            amount, _ = split_ratio(segment, rate)
            top = "以上" if hi is None else f"至{hi}元（含）"
            b.add(f"major_illness.band{i + 1}", f"居民大病保险：年度政策范围内个人负担{lo}元{top}部分{who}",
                  "major_illness", segment, rate, amount, sample)  # fmt: skip
            paid += amount
        lo = band.up_to
    return paid, replace(ytd, major_illness_burden=after, major_illness_paid=ytd.major_illness_paid + paid)


# --------------------------------------------------------------------------- assistance and veterans


def _assistance_group(ctx: QuoteContext, policy: Policy) -> AssistanceGroup | VeteranGroup | None:
    rules = policy.assistance
    if rules is None or not ctx.special_groups:
        return None
    for veteran in rules.veterans:
        if veteran.matches(ctx.special_groups):
            return veteran
    for group in rules.groups:
        if group.matches(ctx.special_groups):
            return group
    return None


def _veterans(
    group: VeteranGroup, inpatient: bool, b: _Builder, burden: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    share = group.inpatient_share if inpatient else group.outpatient_share
    paid, _ = split_ratio(burden, share)
    kind = "住院（含门特）" if inpatient else "门诊"
    b.add(f"veterans.{group.code}", f"优抚对象医疗补助（{group.label}，{kind}个人负担部分补助）", "veterans", burden, share,
          paid, group.sample)  # fmt: skip
    return paid, replace(ytd, veterans_paid=ytd.veterans_paid + paid)


def _assistance(
    group: AssistanceGroup, inpatient: bool, policy: Policy, b: _Builder, burden: Decimal, ytd: Accumulators
) -> tuple[Decimal, Accumulators]:
    assert policy.assistance is not None
    paid = ZERO
    if inpatient:
        band = policy.assistance.inpatient_band.value
        before, after = ytd.assistance_inpatient_burden, ytd.assistance_inpatient_burden + burden
        for code, lo, hi, rate in (("low", ZERO, band, group.inpatient_low_rate), ("high", band, None, group.inpatient_high_rate)):
            segment = _overlap(lo, hi, before, after)
            if segment > 0:
                amount, _ = split_ratio(segment, rate)
                part = f"{band}元以下部分" if hi is not None else f"{band}元（含）以上部分"
                b.add(f"assistance.inpatient_{code}", f"住院（含门特）医疗救助（{group.label}）：年度政策范围内个人负担{part}",
                      "assistance", segment, rate, amount, group.sample)  # fmt: skip
                paid += amount
        ytd = replace(ytd, assistance_inpatient_burden=after)
    else:
        raw, _ = split_ratio(burden, group.outpatient_share)
        paid = _take(raw, group.outpatient_cap - ytd.assistance_outpatient_paid)
        b.add("assistance.outpatient", f"门诊医疗救助（{group.label}，政策范围内个人自付部分，每年最高{group.outpatient_cap}元）",
              "assistance", burden, group.outpatient_share, paid, group.sample)  # fmt: skip
        ytd = replace(ytd, assistance_outpatient_paid=ytd.assistance_outpatient_paid + paid)
    return paid, replace(ytd, assistance_paid=ytd.assistance_paid + paid)


def _catastrophic(policy: Policy, b: _Builder, burden: Decimal, ytd: Accumulators) -> tuple[Decimal, Accumulators]:
    assert policy.assistance is not None and policy.assistance.catastrophic is not None
    rules = policy.assistance.catastrophic
    before, after = ytd.catastrophic_burden, ytd.catastrophic_burden + burden
    segment = _overlap(rules.threshold, None, before, after)
    paid = ZERO
    if segment > 0:
        raw, _ = split_ratio(segment, rules.rate)
        paid = _take(raw, rules.annual_cap - ytd.catastrophic_paid)
        b.add("assistance.catastrophic",
              f"重特大疾病医疗救助：年度个人负担{rules.threshold}元（含）以上部分，每年最高{rules.annual_cap}元",
              "assistance", segment, rules.rate, paid, rules.sample)  # fmt: skip
    ytd = replace(ytd, catastrophic_burden=after, catastrophic_paid=ytd.catastrophic_paid + paid)
    return paid, replace(ytd, assistance_paid=ytd.assistance_paid + paid)


def _illness(ctx: QuoteContext, policy: Policy, b: _Builder, burden: Decimal, ytd: Accumulators) -> tuple[Decimal, Accumulators]:
    assert policy.assistance is not None and policy.assistance.illness_impoverished is not None
    rules = policy.assistance.illness_impoverished
    family_used = ytd.illness_paid if ctx.family_illness_paid is None else ctx.family_illness_paid
    raw, _ = split_ratio(burden, rules.rate)
    paid = _take(raw, rules.family_cap - family_used)
    b.add("assistance.illness_impoverished",
          f"因病支出型困难家庭医疗救助：个人负担部分，家庭每年最高{rules.family_cap}元", "assistance", burden, rules.rate,
          paid, rules.sample)  # fmt: skip
    ytd = replace(ytd, illness_burden=ytd.illness_burden + burden, illness_paid=ytd.illness_paid + paid)
    return paid, replace(ytd, assistance_paid=ytd.assistance_paid + paid)


# --------------------------------------------------------------------------- the bill


def _finish(b: _Builder, policy: Policy, total: Decimal, in_scope: Decimal, out_of_scope: Decimal, ytd: Accumulators) -> Bill:
    fund, mi, assistance, veterans = b.total("fund"), b.total("major_illness"), b.total("assistance"), b.total("veterans")
    person = total - fund - mi - assistance - veterans
    if person < 0:  # pragma: no cover - guarded by construction (every rate ≤ 1 applies to what is left)
        raise AssertionError("个人负担为负")
    sample = policy.sample or any(ln.sample for ln in b.lines)
    return Bill(total, in_scope, out_of_scope, fund, mi, assistance, veterans, to_money(person), tuple(b.lines), ytd,
                policy.key, sample)  # fmt: skip
