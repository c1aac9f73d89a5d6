"""Calendar-month arithmetic (shared.months) as the Civil Code counts it."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from shared.months import add_months, whole_months_between


def test_a_month_later_is_the_same_day_or_the_last_day_of_a_shorter_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


def test_whole_months_count_only_once_the_day_of_the_month_has_come_round() -> None:
    assert whole_months_between(date(2026, 1, 15), date(2026, 4, 14)) == 2
    assert whole_months_between(date(2026, 1, 15), date(2026, 4, 15)) == 3
    assert whole_months_between(date(2026, 1, 31), date(2026, 4, 30)) == 3
    assert whole_months_between(date(2026, 1, 31), date(2026, 3, 30)) == 1
    assert whole_months_between(date(2026, 5, 1), date(2026, 4, 1)) == 0


@given(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=240),
)
def test_whole_months_between_undoes_add_months(start: date, months: int) -> None:
    later = add_months(start, months)
    assert later.day <= start.day
    assert (later.year - start.year) * 12 + later.month - start.month == months
    assert whole_months_between(start, later) == months
