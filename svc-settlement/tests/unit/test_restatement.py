"""Settlement in order (pure): months computed again from their latest inputs; a paid month's difference is an
adjustment line of the next open month; what is paid for each month ends equal to what it computes to."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from svc_settlement.domain.declaration import Period
from svc_settlement.domain.restatement import Adjustment, KeptTable, book, restate

RATE = Decimal("0.05")


def rate(_year: int) -> Decimal:
    return RATE


def D(text: str) -> Decimal:
    return Decimal(text)


def month(m: int, pooled: str, quota: str = "10000.00") -> tuple[Period, dict[str, Decimal]]:
    return Period(2026, m), {"quota": D(quota), "pooled_claims": D(pooled)}


def test_an_open_month_after_a_paid_one_books_what_the_paid_month_now_lacks() -> None:
    # January corrected from 8,000 to 12,000 after February (11,000) was paid at 10,450.
    kept = {Period(2026, 2): KeptTable(D("10450.00"), ())}
    months, pending = restate([month(1, "12000.00"), month(2, "11000.00"), month(3, "5000.00")], kept, rate)
    assert [m.kept for m in months] == [False, True, False]
    assert months[0].clearing.lines[41] == D("9500.00") and months[1].clearing.lines[41] == D("9500.00")
    [adjustment] = months[2].adjustments
    assert (adjustment.period, adjustment.amount) == ("2026-02", D("-950.00"))
    # March starts from February as it should be (3,000 deferred, no surplus), and pays its own less the 950.
    assert (months[2].clearing.lines[13], months[2].clearing.lines[41], months[2].payable) == (
        D("3000.00"),
        D("7600.00"),
        D("6650.00"),
    )
    assert pending == []


def test_a_paid_months_difference_already_paid_by_a_kept_table_is_not_paid_again() -> None:
    kept = {
        Period(2026, 2): KeptTable(D("10450.00"), ()),
        Period(2026, 3): KeptTable(D("7600.00"), (Adjustment("2026-02", D("-950.00"), "…"),)),
    }
    months, pending = restate(
        [month(1, "12000.00"), month(2, "11000.00"), month(3, "5000.00"), month(4, "1000.00")], kept, rate
    )
    assert months[3].adjustments == () and pending == []


def test_a_difference_with_no_open_month_after_it_waits() -> None:
    kept = {Period(2026, 2): KeptTable(D("10450.00"), ())}
    _, pending = restate([month(1, "12000.00"), month(2, "11000.00")], kept, rate)
    assert [(a.period, a.amount) for a in pending] == [("2026-02", D("-950.00"))]


def test_an_overpayment_is_taken_back_only_as_far_as_the_month_pays_and_the_rest_waits() -> None:
    owed = [
        Adjustment("2026-01", D("-300.00"), "a"),
        Adjustment("2026-02", D("200.00"), "b"),
        Adjustment("2026-03", D("-500.00"), "c"),
    ]
    booked, left = book(owed, D("400.00"))
    assert [(a.period, a.amount) for a in booked] == [
        ("2026-02", D("200.00")),
        ("2026-01", D("-300.00")),
        ("2026-03", D("-300.00")),
    ]
    assert [(a.period, a.amount) for a in left] == [("2026-03", D("-200.00"))]


amounts = st.integers(min_value=0, max_value=2_000_000).map(lambda fen: Decimal(fen).scaleb(-2))


@settings(max_examples=150, deadline=None)
@given(
    first=st.lists(amounts, min_size=4, max_size=4),
    second=st.lists(amounts, min_size=4, max_size=4),
    paid=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_paying_in_any_order_then_settling_everything_pays_each_month_what_its_latest_version_computes(
    first: list[Decimal], second: list[Decimal], paid: list[bool]
) -> None:
    """Months computed and some paid from the first declarations; then every month corrected; then the open
    months paid one after another, each taking what is owed: per month, the paid total is the fresh line 41."""
    periods = [Period(2026, m) for m in range(1, 5)] + [Period(2026, 5)]
    inputs_1 = [{"quota": D("10000.00"), "pooled_claims": a} for a in first] + [
        {"quota": D("10000.00"), "personal_account": D("1000000.00")}
    ]
    inputs_2 = [{"quota": D("10000.00"), "pooled_claims": a} for a in second] + [inputs_1[-1]]
    ledger: dict[str, Decimal] = {}
    kept: dict[Period, KeptTable] = {}

    def pay(months: list, which: set[Period]) -> None:
        for m in months:
            if m.period in which and not m.kept:
                kept[m.period] = KeptTable(m.clearing.lines[41], m.adjustments)
                ledger[str(m.period)] = ledger.get(str(m.period), Decimal(0)) + m.clearing.lines[41]
                for a in m.adjustments:
                    ledger[a.period] = ledger.get(a.period, Decimal(0)) + a.amount

    before, _ = restate(list(zip(periods, inputs_1, strict=True)), kept, rate)
    pay(before, {p for p, flag in zip(periods, paid, strict=False) if flag})
    for p in periods:  # settle the rest in order, recomputing after every payment
        after, pending = restate(list(zip(periods, inputs_2, strict=True)), kept, rate)
        pay(after, {p})
    _, pending = restate(list(zip(periods, inputs_2, strict=True)), kept, rate)
    assert pending == []
    fresh, _ = restate(list(zip(periods, inputs_2, strict=True)), {}, rate)
    assert ledger == {str(m.period): m.clearing.lines[41] for m in fresh}


def test_a_kept_months_stored_computation_is_reused_only_when_made_from_the_same_inputs_and_carries() -> None:
    kept = {Period(2026, 1): KeptTable(D("7600.00"), ())}
    first, _ = restate([month(1, "8000.00"), month(2, "11000.00")], kept, rate)
    stored = {Period(2026, 1): first[0].clearing}
    again, _ = restate([month(1, "8000.00"), month(2, "11000.00")], kept, rate, stored)
    assert again[0].clearing is first[0].clearing  # same basis: taken as it is
    corrected, pending = restate([month(1, "12000.00"), month(2, "11000.00")], kept, rate, stored)
    assert corrected[0].clearing.lines[41] == D("9500.00") and [(a.period, a.amount) for a in pending] == []
    assert corrected[1].adjustments == (
        Adjustment("2026-01", D("1900.00"), corrected[1].adjustments[0].reason),
    )
