"""Amounts office staff enter against a facility-month (rejections, adjustments, year-end results),
each recorded with who and why, never changed afterwards: the clearing adds them up per input."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

# kind → (clearing input it adds to, Chinese name)
ENTRY_KINDS: dict[str, tuple[str, str]] = {
    "smart_audit_rejection": ("smart_rejections", "智能审核拒付"),
    "smart_audit_adjustment": ("smart_rejection_adjustments", "智能审核拒付调整"),
    "screening_rejection": ("screening_rejections", "筛查审核拒付"),
    "screening_adjustment": ("screening_adjustments", "上月筛查审核拒付调整"),
    "pooled_adjustment": ("pooled_adjustments", "统筹调整支付"),
    "relief_adjustment": ("relief_adjustments", "大额救助调整支付"),
    "relief_rejection": ("relief_rejections", "大额救助审核拒付"),
    "relief_rejection_adjustment": ("relief_rejection_adjustments", "大额救助拒付调整"),
    "subsidy_adjustment": ("subsidy_adjustments", "城职大病补助调整支付"),
    "subsidy_rejection": ("subsidy_rejections", "城职大病补助审核拒付"),
    "subsidy_rejection_adjustment": ("subsidy_rejection_adjustments", "城职大病补助拒付调整"),
    "other_payment": ("other_payments", "其他支付"),
    "recovery_due": ("recovery_due", "上年度清算应收回"),
    "reserve_release": ("reserve_release", "考核预留返还（统筹）"),
    "relief_reserve_release": ("relief_reserve_release", "考核预留返还（大额救助）"),
}


def inputs_from_entries(entries: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """(kind, amount) pairs → clearing inputs."""
    totals: dict[str, Decimal] = {}
    for kind, amount in entries:
        name = ENTRY_KINDS[kind][0]
        totals[name] = totals.get(name, Decimal("0.00")) + amount
    return totals
