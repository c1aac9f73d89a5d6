"""Settlement in order: the months of one facility, insurance type and care type computed again from their
latest inputs, with what a paid month now lacks (or was overpaid) carried into the next open month.

Every month is computed from its inputs and the previous month *as it should be* (its fresh computation),
never from a stale paid table. A paid month keeps its table: the money has left. What it should pay now
minus what was paid for it (its own line 41 and the adjustment lines already paid for it in later tables)
is owed to or by the facility, and is booked as an adjustment line of the next open month. So once every
month is paid, what was paid for each month equals what its latest declaration computes to.

A table's payable amount is its line 41 plus its adjustment lines, never below zero: an overpayment the
month cannot absorb stays owed and goes to the next open month after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared.money import to_money
from svc_settlement.domain.clearing import INPUTS, PREVIOUS, ZERO, Carried, Clearing, compute
from svc_settlement.domain.declaration import Period


@dataclass(frozen=True)
class Adjustment:
    """Money booked in one table for an earlier, already paid month."""

    period: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class KeptTable:
    """A month whose table may not change any more (paid, or approved on the latest declaration)."""

    line_41: Decimal
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True)
class Month:
    period: Period
    clearing: Clearing  # as it should be now
    kept: bool
    adjustments: tuple[Adjustment, ...]  # booked in this table (open months only)

    @property
    def payable(self) -> Decimal:
        return self.clearing.lines[41] + sum((a.amount for a in self.adjustments), ZERO)


def restate(
    months: Sequence[tuple[Period, Mapping[str, Decimal]]],
    kept: Mapping[Period, KeptTable],
    reserve_rate: Callable[[int], Decimal],
    stored: Mapping[Period, Clearing] | None = None,
    reuse_before: Period | None = None,
) -> tuple[list[Month], list[Adjustment]]:
    """The months (ascending, with their inputs) as they should be now, and what is still owed for kept months
    that no open month after them could take yet. A `stored` computation made from the same inputs, carries
    and rate is taken as it is (the arithmetic is a pure function of them) for a kept month (a paid month stays
    under the rules it was paid by) and for an open month before `reuse_before` (the months a run or a
    correction did not ask for), so an unchanged history costs no arithmetic."""
    paid_for = _paid_for_kept_months(kept)
    out: list[Month] = []
    pending: list[Adjustment] = []
    previous: tuple[Period, Clearing] | None = None
    for period, inputs in months:
        carried = Carried.of(previous[1]) if previous and previous[0] == period.previous() else Carried()
        reusable = period in kept or (reuse_before is not None and period < reuse_before)
        earlier = (stored or {}).get(period) if reusable else None
        rate = reserve_rate(period.year)
        fresh = (
            earlier
            if earlier is not None and same_basis(earlier, inputs, carried, rate)
            else compute(inputs, carried, rate, period.month)
        )
        if period in kept:
            owed = fresh.lines[41] - paid_for[period]
            if owed:
                pending.append(Adjustment(str(period), owed, _reason(period, fresh.lines[41])))
            out.append(Month(period, fresh, True, ()))
        else:
            booked, pending = book(pending, fresh.lines[41])
            out.append(Month(period, fresh, False, tuple(booked)))
        previous = (period, fresh)
    return out, pending


def same_basis(clearing: Clearing, inputs: Mapping[str, Decimal], carried: Carried, rate: Decimal) -> bool:
    """Whether `clearing` was computed from these inputs, carries and reserve rate."""
    full = {name: to_money(inputs.get(name, ZERO)) for name in INPUTS}
    previous = {name: to_money(carried.as_dict()[source]) for name, source in PREVIOUS.items()}
    return clearing.reserve_rate == rate and clearing.inputs == full and clearing.previous == previous


def _paid_for_kept_months(kept: Mapping[Period, KeptTable]) -> dict[Period, Decimal]:
    """A kept month's own line 41 plus the adjustments for it that kept (final) tables carry."""
    paid = {period: table.line_41 for period, table in kept.items()}
    for table in kept.values():
        for adjustment in table.adjustments:
            key = Period.parse(adjustment.period)
            if key in paid:
                paid[key] += adjustment.amount
    return paid


def book(pending: Sequence[Adjustment], own_total: Decimal) -> tuple[list[Adjustment], list[Adjustment]]:
    """What a table takes of the pending adjustments: every payment owed, and overpayments as far as the table
    stays at or above zero (the rest waits for the next open month). Returns (booked, still pending)."""
    booked = [a for a in pending if a.amount > 0]
    room = own_total + sum((a.amount for a in booked), ZERO)
    left: list[Adjustment] = []
    for adjustment in (a for a in pending if a.amount < 0):
        take = max(adjustment.amount, -room)
        if take:
            booked.append(Adjustment(adjustment.period, take, adjustment.reason))
            room += take
        if take != adjustment.amount:
            left.append(Adjustment(adjustment.period, adjustment.amount - take, adjustment.reason))
    return booked, left


def _reason(period: Period, due: Decimal) -> str:
    # Only what stays put: paying another open table must not change this one's text (it would look stale).
    return f"{period} 已拨付；按最新申报与前月结转重算应付 {due:.2f}，与已付之差计入本月"
