"""A facility's yearly budget (年度总额指标) and its twelve monthly quotas (津医保局发[2019]19号 art. 27:
split evenly or by the historical monthly pattern)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

from shared.errors import Conflict, Invalid
from shared.money import CENT, to_money

MONTHS = range(1, 13)


def split_year(
    total: Decimal, weights: Sequence[Decimal] | None = None, fixed: Mapping[int, Decimal] | None = None
) -> list[Decimal]:
    """Twelve monthly quotas summing exactly to `total`.

    `weights`: twelve non-negative numbers (e.g. last years' monthly costs), or None for an even split.
    `fixed`: months whose quota may no longer change (already approved): the rest of the total is
    split over the other months by their weights. Each share is rounded ROUND_HALF_UP to the fen and
    the rounding remainder goes to the free month with the largest weight (the earliest on a tie), so
    the twelve always add up to the total.
    """
    total = to_money(total)
    fixed = {m: to_money(v) for m, v in (fixed or {}).items()}
    if total < 0:
        raise _invalid("年度指标不能为负数", "body.total")
    if weights is None:
        weights = [Decimal(1)] * 12
    weights = [Decimal(w) for w in weights]
    if len(weights) != 12 or any(w < 0 or not w.is_finite() for w in weights):
        raise _invalid("月度分配权重须为12个非负数", "body.weights")
    free = [m for m in MONTHS if m not in fixed]
    remaining = total - sum(fixed.values(), Decimal(0))
    if remaining < 0:
        raise Conflict("budget_below_approved", "年度指标低于已核准月份的指标合计",
                      f"已核准月份的指标合计 {sum(fixed.values(), Decimal(0))}，新的年度指标不能低于它")  # fmt: skip
    quotas = dict(fixed)
    if not free:
        if remaining != 0:
            raise Conflict("budget_all_months_approved", "全年各月均已核准，不能再调整指标")
        return [quotas[m] for m in MONTHS]
    free_weight = sum((weights[m - 1] for m in free), Decimal(0))
    if free_weight == 0:
        if remaining == 0:
            return [quotas.get(m, Decimal("0.00")) for m in MONTHS]
        raise _invalid("可调整月份的权重不能全为零", "body.weights")
    shares = {m: to_money(remaining * weights[m - 1] / free_weight) for m in free}
    balance = max(free, key=lambda m: (weights[m - 1], -m))
    shares[balance] = remaining - sum((v for m, v in shares.items() if m != balance), Decimal(0))
    if shares[balance] < 0:  # only for totals of a few fen: hand them out largest remainder first
        shares = _largest_remainder(remaining, {m: weights[m - 1] for m in free}, free_weight)
    quotas.update(shares)
    return [to_money(quotas[m]) for m in MONTHS]


def _largest_remainder(
    amount: Decimal, weights: Mapping[int, Decimal], total_weight: Decimal
) -> dict[int, Decimal]:
    exact = {m: amount * w / total_weight for m, w in weights.items()}
    floors = {m: v.quantize(CENT, rounding=ROUND_DOWN) for m, v in exact.items()}
    left = int((amount - sum(floors.values(), Decimal(0))) / CENT)
    for m in sorted(exact, key=lambda m: (-(exact[m] - floors[m]), m))[:left]:
        floors[m] += CENT
    return floors


def _invalid(message: str, field: str) -> Invalid:
    return Invalid("invalid_budget", "总额指标有误", message, errors=[{"field": field, "message": message}])
