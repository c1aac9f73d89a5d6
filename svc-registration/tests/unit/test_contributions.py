"""Employee-scheme money computed by hand: base limits, rates, the mid-month rule, late fees, credits.

The policy is the data file's (average monthly wage 8,000.00 sample: floor 60% = 4,800.00, ceiling
300% = 24,000.00; unit 10%, personal 2%; the unit part's share to the account 0.5% / 0.7% / 1.0% of
the base below 35 / below 45 / from 45; flexible 9% with 2% to the account; late fee 0.05% a day).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import Invalid
from svc_registration.domain.contributions import (
    AccountEntry,
    EntryKind,
    Insured,
    PayerKind,
    balance,
    contribution_base,
    header_columns,
    last_covered_day,
    late_fee,
    lines_for_month,
    notice_total,
    parse_month,
    parse_payment_row,
    pays_for_month,
    policy_for,
    require_issuable,
)
from svc_registration.usecases.contributions import POLICIES

MARCH = date(2026, 3, 1)
POLICY = policy_for(POLICIES, MARCH)


def insured(
    base: str | None,
    birth: date | None = date(1996, 5, 1),
    start: date = date(2020, 1, 1),
    end: date | None = None,
) -> Insured:
    return Insured(uuid.uuid4(), uuid.uuid4(), start, end, birth, Decimal(base) if base else None)


def test_the_policy_file_gives_a_source_for_every_value_and_marks_itself_sample() -> None:
    assert POLICY.sample
    assert (POLICY.base_floor, POLICY.base_ceiling) == (Decimal("4800.00"), Decimal("24000.00"))
    assert "第25条" in POLICY.sources["personal_part_to_account"]
    assert "第八十六条" in POLICY.sources["late_fee_daily_rate"]
    assert all(source for source in POLICY.sources.values())


def test_a_base_below_the_floor_is_raised_above_the_ceiling_cut_and_none_declared_is_the_average_wage() -> (
    None
):
    assert contribution_base(Decimal("3000"), POLICY) == Decimal("4800.00")
    assert contribution_base(Decimal("30000"), POLICY) == Decimal("24000.00")
    assert contribution_base(Decimal("6543.21"), POLICY) == Decimal("6543.21")
    assert contribution_base(Decimal("4800.00"), POLICY) == Decimal("4800.00")
    assert contribution_base(None, POLICY) == Decimal("8000.00")


def test_an_employees_line_takes_the_unit_and_personal_rates_and_credits_by_age() -> None:
    young, middle, older = (
        insured("6543.21"),
        insured("6543.21", date(1986, 1, 1)),
        insured("6543.21", date(1976, 1, 1)),
    )
    lines = lines_for_month([young, middle, older], POLICY, MARCH, PayerKind.unit)
    # 6543.21 × 10% = 654.321 → 654.32; × 2% = 130.8642 → 130.86
    assert {(line.unit_part, line.personal_part) for line in lines} == {
        (Decimal("654.32"), Decimal("130.86"))
    }
    # personal 130.86 in full + the unit part's share: 0.5% = 32.72, 0.7% = 45.80, 1.0% = 65.43
    assert [line.account_credit for line in lines] == [
        Decimal("163.58"),
        Decimal("176.66"),
        Decimal("196.29"),
    ]


def test_the_age_band_is_the_age_on_the_months_first_day() -> None:
    turns_35_on_the_first = insured("10000", date(1991, 3, 1))
    still_34 = insured("10000", date(1991, 3, 2))
    lines = lines_for_month([turns_35_on_the_first, still_34], POLICY, MARCH, PayerKind.unit)
    assert [line.account_credit for line in lines] == [Decimal("270.00"), Decimal("250.00")]


def test_an_employee_added_or_removed_mid_month_pays_the_whole_month() -> None:
    assert pays_for_month(date(2026, 3, 20), None, MARCH)  # added on the 20th
    assert pays_for_month(date(2020, 1, 1), date(2026, 3, 3), MARCH)  # removed on the 3rd
    assert not pays_for_month(date(2020, 1, 1), date(2026, 2, 28), MARCH)  # gone before March
    assert not pays_for_month(date(2026, 4, 1), None, MARCH)  # not yet there
    people = [insured("5000", start=date(2026, 3, 20)), insured("5000", end=date(2026, 2, 28))]
    lines = lines_for_month(people, POLICY, MARCH, PayerKind.unit)
    assert [line.enrollment_id for line in lines] == [people[0].enrollment_id]


def test_a_notice_is_the_sum_of_its_lines_to_the_fen_not_the_rate_of_the_summed_bases() -> None:
    lines = lines_for_month([insured("4800.05") for _ in range(3)], POLICY, MARCH, PayerKind.unit)
    # each line: 480.005 → 480.01 and 96.001 → 96.00; three lines 1,728.03 (the rate of 14,400.15 would give 1,728.02)
    assert notice_total(lines) == Decimal("1728.03") == sum(line.total for line in lines)


def test_a_flexible_worker_pays_the_flexible_rate_and_is_credited_their_share() -> None:
    (line,) = lines_for_month([insured("5000")], POLICY, MARCH, PayerKind.person)
    assert (line.unit_part, line.personal_part, line.account_credit) == (
        Decimal("0.00"),
        Decimal("450.00"),
        Decimal("100.00"),
    )


def test_a_late_fee_is_five_in_ten_thousand_a_day_from_the_day_after_the_due_date() -> None:
    due = date(2026, 3, 31)
    assert late_fee(Decimal("1000.00"), due, due, POLICY) == Decimal("0.00")
    assert late_fee(Decimal("1000.00"), due, date(2026, 4, 10), POLICY) == Decimal("5.00")
    # 45 days: 784.86 × 0.0005 × 45 = 17.65935 → 17.66
    assert late_fee(Decimal("784.86"), due, date(2026, 5, 15), POLICY) == Decimal("17.66")
    assert late_fee(Decimal("1000.00"), due, date(2026, 3, 20), POLICY) == Decimal("0.00")


def test_an_unpaid_month_ends_coverage_the_day_before_it() -> None:
    assert last_covered_day(MARCH, date(2020, 1, 1)) == date(2026, 2, 28)
    assert last_covered_day(MARCH, date(2026, 3, 20)) == date(2026, 3, 19)


def test_the_balance_is_the_sum_of_the_history() -> None:
    history = [
        AccountEntry(EntryKind.contribution, Decimal("163.58"), date(2026, 3, 31), "n1"),
        AccountEntry(EntryKind.transfer_in, Decimal("500.00"), date(2026, 4, 2), "t1"),
        AccountEntry(EntryKind.contribution, Decimal("163.58"), date(2026, 4, 30), "n2"),
    ]
    assert balance(history) == Decimal("827.16")
    assert balance(
        [*history, AccountEntry(EntryKind.withdrawal, Decimal("827.16"), date(2026, 5, 6), "w")]
    ) == Decimal("0.00")


def test_a_month_is_written_as_year_and_month_and_never_issued_ahead() -> None:
    assert parse_month("2026-03") == MARCH
    for bad in ("2026-3", "2026-13", "march", "2026-03-01"):
        with pytest.raises(Invalid):
            parse_month(bad)
    require_issuable(MARCH, date(2026, 3, 5))
    with pytest.raises(Invalid) as refused:
        require_issuable(date(2026, 4, 1), date(2026, 3, 5))
    assert refused.value.code == "month_in_future"


def test_a_payment_row_lists_every_problem_at_once() -> None:
    columns = header_columns(["\ufeff征缴单号", "缴费金额", "缴费日期", "银行流水号"])
    assert columns == {"notice_number": 0, "amount": 1, "paid_on": 2, "bank_reference": 3}
    assert header_columns(["notice_number", "amount"]).column == "paid_on,bank_reference"  # type: ignore[union-attr]
    today = date(2026, 3, 31)
    good = parse_payment_row(2, ["202603-X", "12.50", "2026-03-30", "B1"], columns, today)  # type: ignore[arg-type]
    assert not isinstance(good, list) and good.amount == Decimal("12.50")
    bad = parse_payment_row(3, ["", "12.505", "2026-04-01", ""], columns, today)  # type: ignore[arg-type]
    assert isinstance(bad, list)
    assert sorted(p.column for p in bad) == ["amount", "bank_reference", "notice_number", "paid_on"]
    for amount in ("-1", "0", "1e3", "abc", ""):
        assert isinstance(parse_payment_row(4, ["N", amount, "2026-03-01", "B"], columns, today), list)  # type: ignore[arg-type]


wages = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@given(st.lists(st.one_of(st.none(), wages), min_size=1, max_size=40))
def test_any_units_notice_equals_its_lines_to_the_fen_and_every_base_is_within_the_limits(
    declared: list,
) -> None:  # type: ignore[type-arg]
    lines = lines_for_month(
        [insured(str(w) if w is not None else None) for w in declared], POLICY, MARCH, PayerKind.unit
    )
    assert notice_total(lines) == sum(
        (line.unit_part + line.personal_part for line in lines), Decimal("0.00")
    )
    assert all(POLICY.base_floor <= line.base <= POLICY.base_ceiling for line in lines)
    assert all(
        line.personal_part <= line.account_credit < line.personal_part + line.unit_part for line in lines
    )


@given(st.lists(st.tuples(st.sampled_from(list(EntryKind)), wages), max_size=30))
def test_the_balance_is_always_credits_less_debits(history: list) -> None:  # type: ignore[type-arg]
    entries = [AccountEntry(kind, amount, MARCH, f"r{i}") for i, (kind, amount) in enumerate(history)]
    credits = sum((a for k, a in history if k is not EntryKind.withdrawal), Decimal("0.00"))
    debits = sum((a for k, a in history if k is EntryKind.withdrawal), Decimal("0.00"))
    assert balance(entries) == credits - debits
