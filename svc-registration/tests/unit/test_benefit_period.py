"""Benefit periods by the rules of docs/domain/registration.md (待遇享受期), with the numbers of the seeds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import DomainError
from shared.months import add_months
from svc_registration.domain.benefit_period import (
    Period,
    employee_period,
    flexible_period,
    resident_period,
)


def period(year: int, paid: str, **kw) -> tuple[date, date | None, str]:  # type: ignore[no-untyped-def]
    p = resident_period(year, date.fromisoformat(paid), covered_previous_year=kw.pop("prior", False), **kw)
    return p.start, p.end, p.rule


@pytest.mark.parametrize("paid", ["2026-09-01", "2026-10-15", "2026-12-31"])
def test_paid_in_the_enrollment_period_covers_the_whole_next_year(paid: str) -> None:
    assert period(2027, paid) == (date(2027, 1, 1), date(2027, 12, 31), "regular")


@pytest.mark.parametrize("paid", ["2026-08-31", "2027-07-01", "2027-12-31", "2025-10-01"])
def test_outside_the_enrollment_and_late_periods_is_refused(paid: str) -> None:
    with pytest.raises(DomainError) as refused:
        period(2027, paid)
    assert refused.value.status == 422 and refused.value.code == "enrollment_period_closed"


@pytest.mark.parametrize(
    ("paid", "start"),
    [("2027-01-01", "2027-02-01"), ("2027-03-15", "2027-04-01"), ("2027-06-30", "2027-07-01")],
)
def test_late_payment_with_coverage_last_year_starts_the_month_after(paid: str, start: str) -> None:
    assert period(2027, paid, prior=True) == (
        date.fromisoformat(start),
        date(2027, 12, 31),
        "late_continuing",
    )


@pytest.mark.parametrize(
    ("paid", "start"),
    # The payment month is the 1st: March → June, June → September.
    [("2027-01-01", "2027-04-01"), ("2027-03-15", "2027-06-01"), ("2027-06-30", "2027-09-01")],
)
def test_late_payment_without_coverage_last_year_starts_in_the_fourth_month(paid: str, start: str) -> None:
    assert period(2027, paid, prior=False) == (date.fromisoformat(start), date(2027, 12, 31), "late_new")


def test_a_new_pupil_of_the_autumn_filing_is_covered_from_1_september() -> None:
    assert period(2027, "2026-10-10", autumn_pupil=True) == (
        date(2026, 9, 1),
        date(2027, 12, 31),
        "autumn_pupil",
    )
    # A pupil already covered this year simply continues from 1 January.
    assert period(2027, "2026-10-10", autumn_pupil=True, prior=True)[2] == "regular"


@pytest.mark.parametrize(
    ("born", "paid", "start", "rule"),
    [
        ("2027-02-10", "2027-02-10", "2027-02-10", "newborn_within_4_months"),
        ("2027-02-10", "2027-06-10", "2027-02-10", "newborn_within_4_months"),  # exactly 4 months
        (
            "2027-02-10",
            "2027-06-11",
            "2027-06-12",
            "newborn_after_4_months",
        ),  # one day later: the day after payment
        ("2026-10-31", "2027-02-28", "2026-10-31", "newborn_within_4_months"),  # 31 Oct + 4 months = 28 Feb
        ("2026-10-31", "2027-03-01", "2027-03-02", "newborn_after_4_months"),
        ("2027-01-05", "2027-11-20", "2027-11-21", "newborn_after_4_months"),  # any time of the year
    ],
)
def test_newborns(born: str, paid: str, start: str, rule: str) -> None:
    assert period(2027, paid, birth_date=date.fromisoformat(born)) == (
        date.fromisoformat(start),
        date(2027, 12, 31),
        rule,
    )


def test_a_newborn_enrolls_for_the_year_of_payment() -> None:
    with pytest.raises(DomainError) as refused:
        period(2028, "2027-06-01", birth_date=date(2027, 5, 1))
    assert refused.value.code == "newborn_coverage_year"


def test_past_the_first_year_a_child_follows_the_ordinary_rules() -> None:
    assert period(2028, "2027-10-01", birth_date=date(2026, 5, 1))[2] == "regular"


def test_after_employee_coverage_ended_benefits_start_the_day_after_payment_at_any_time_of_the_year() -> None:
    assert period(2027, "2027-08-15", after_employee_coverage=True) == (
        date(2027, 8, 16),
        date(2027, 12, 31),
        "after_employee_coverage",
    )


def test_employee_and_flexible_periods_are_open_ended() -> None:
    assert employee_period(date(2027, 3, 1)) == Period(
        date(2027, 3, 1), None, "employee", employee_period(date(2027, 3, 1)).explanation
    )
    assert flexible_period(date(2027, 3, 1)).start == date(2027, 3, 2)
    assert flexible_period(date(2027, 3, 1)).end is None


def test_overlaps() -> None:
    year_2027 = Period(date(2027, 1, 1), date(2027, 12, 31), "", "")
    assert not year_2027.overlaps(Period(date(2028, 1, 1), date(2028, 12, 31), "", ""))
    assert year_2027.overlaps(Period(date(2027, 12, 31), None, "", ""))
    assert not year_2027.overlaps(Period(date(2028, 1, 1), None, "", ""))
    assert Period(date(2020, 1, 1), None, "", "").overlaps(year_2027)


@given(st.dates(date(2005, 1, 1), date(2099, 12, 31)), st.integers(0, 40))
def test_add_months_lands_in_the_right_month_never_past_its_end(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year - day.year) * 12 + later.month - day.month == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)


@given(st.integers(2006, 2098), st.dates(date(2005, 9, 1), date(2099, 6, 30)), st.booleans(), st.booleans())
def test_every_resident_period_ends_on_31_december_and_never_starts_before_payment_rules_allow(
    year: int, paid: date, prior: bool, pupil: bool
) -> None:
    try:
        p = resident_period(year, paid, covered_previous_year=prior, autumn_pupil=pupil)
    except DomainError as refused:
        assert refused.code == "enrollment_period_closed"
        assert not (date(year - 1, 9, 1) <= paid <= date(year, 6, 30))
        return
    assert p.end == date(year, 12, 31)
    assert date(year - 1, 9, 1) <= p.start <= date(year, 10, 1)
    if paid.year == year:  # late payment: benefits start on a 1st, after the payment month
        assert p.start.day == 1 and p.start > paid
