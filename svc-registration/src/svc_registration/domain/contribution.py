"""Resident contributions (个人缴费标准) by year and tier: seed 001 gives 2021; other years are not in
the documents and are shown as unknown rather than guessed.

Special groups (低保, 特困, 低收入, 重度残疾, 优抚, 离休干部无收入配偶) have their personal contribution
paid in full by the government (seed 001 二(三)); the assistance-only groups (困境儿童, 其他特殊困难,
物价补贴低收入家庭, 因病支出型困难家庭) are not named there and pay their own (domain.special_groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from svc_registration.domain.enrollment import ResidentTier
from svc_registration.domain.special_groups import RULES, SpecialGroup

STANDARDS: dict[int, dict[ResidentTier, Decimal]] = {
    2021: {
        ResidentTier.adult_high: Decimal("910.00"),
        ResidentTier.adult_middle: Decimal("560.00"),
        ResidentTier.adult_low: Decimal("280.00"),
        ResidentTier.student_child: Decimal("260.00"),
    },
}


@dataclass(frozen=True)
class Contribution:
    standard: Decimal
    personal: Decimal
    government: Decimal


def resident_contribution(
    year: int, tier: ResidentTier, special_groups: tuple[SpecialGroup, ...]
) -> Contribution | None:
    standard = STANDARDS.get(year, {}).get(tier)
    if standard is None:
        return None
    if any(RULES[g].contribution_by_government for g in special_groups):
        return Contribution(standard, Decimal("0.00"), standard)
    return Contribution(standard, standard, Decimal("0.00"))
