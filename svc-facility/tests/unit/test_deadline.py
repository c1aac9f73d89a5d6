"""The pausing reply clock (20 working days) and the 3-month item limit, on the official 2026 calendar."""

from datetime import date

import pytest

from shared.calendar import WorkingCalendar
from svc_facility.domain.deadline import (
    Pause,
    PauseKind,
    reply_clock,
)

# Friday 2026-09-25 is itself a holiday (中秋节 25–27 Sep), then National Day 1–7 Oct;
# Sun 2026-09-20 and Sat 2026-10-10 are adjusted working days.
RECEIVED = date(2026, 9, 25)


@pytest.fixture
def calendar() -> WorkingCalendar:
    # Library years only: no operator table for 2027, whatever the environment holds.
    return WorkingCalendar()


def test_the_2026_autumn_holidays_are_what_the_hand_counts_below_assume(calendar):
    assert [calendar.is_working_day(date(2026, 9, d)) for d in (25, 26, 27, 28, 29, 30)] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]
    assert not any(calendar.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert calendar.is_working_day(date(2026, 9, 20))  # Sunday, adjusted working day
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday, adjusted working day
    assert not calendar.is_working_day(date(2026, 10, 11))


def test_due_date_across_national_day_counted_by_hand(calendar):
    status = reply_clock(RECEIVED, [], RECEIVED, calendar)
    # Day 0 = Fri 09-25 (received, a holiday). Counted working days:
    #  1 Mon 09-28   2 Tue 09-29   3 Wed 09-30   (10-01 … 10-07 National Day off)
    #  4 Thu 10-08   5 Fri 10-09   6 Sat 10-10 (adjusted)   (Sun 10-11 off)
    #  7–11 Mon 10-12 … Fri 10-16   12–16 Mon 10-19 … Fri 10-23
    # 17 Mon 10-26  18 Tue 10-27  19 Wed 10-28  20 Thu 10-29
    assert status.due_date == date(2026, 10, 29)
    assert status.working_days_used == 0
    assert status.working_days_left == 20
    assert status.provisional is False
    assert status.item_due_date == date(2026, 12, 25)  # 3 calendar months, a Friday


def test_days_used_and_left(calendar):
    # (09-25, 10-12]: 09-28, 09-29, 09-30, 10-08, 10-09, 10-10, 10-12 → 7 used.
    status = reply_clock(RECEIVED, [], date(2026, 10, 12), calendar)
    assert (status.working_days_used, status.working_days_left) == (7, 13)
    assert status.paused is False and status.pause_kind is None


def test_not_overdue_on_the_due_date_overdue_the_day_after(calendar):
    on_due = reply_clock(RECEIVED, [], date(2026, 10, 29), calendar)
    day_after = reply_clock(RECEIVED, [], date(2026, 10, 30), calendar)
    assert on_due.overdue is False and on_due.working_days_left == 0 and on_due.working_days_used == 20
    assert (
        day_after.overdue is True and day_after.working_days_left == 0 and day_after.working_days_used == 21
    )


def test_a_decision_stops_the_clock_and_overdue_says_whether_it_was_late(calendar):
    in_time = reply_clock(RECEIVED, [], date(2026, 12, 1), calendar, decided_on=date(2026, 10, 29))
    late = reply_clock(RECEIVED, [], date(2026, 12, 1), calendar, decided_on=date(2026, 10, 30))
    assert in_time.overdue is False and in_time.working_days_used == 20
    assert late.overdue is True and late.working_days_used == 21
    # The reply was given, but the whole item still runs until it concludes.
    assert in_time.item_overdue is False


def test_a_supplement_pause_moves_the_due_date_by_exactly_the_paused_working_days(calendar):
    # Supplement asked on Tue 09-29 (day 2), materials back on Tue 10-13.
    # Paused (09-29, 10-13]: 09-30, 10-08, 10-09, 10-10, 10-12, 10-13 → 6 working days.
    pause = Pause(PauseKind.supplement, date(2026, 9, 29), date(2026, 10, 13))
    status = reply_clock(RECEIVED, [pause], date(2026, 10, 14), calendar)
    assert status.paused_working_days == 6
    # 20 + 6 = 26th working day: after 10-29 (20th) come 10-30 (21), 11-02 … 11-06 (22–26).
    assert status.due_date == date(2026, 11, 6)
    assert calendar.working_days_between(date(2026, 10, 29), status.due_date).days == 6
    # Used until 10-14: 9 working days after receipt minus 6 paused = 09-28, 09-29 (before) and 10-14.
    assert (status.working_days_used, status.working_days_left) == (3, 17)
    assert status.paused is False
    # The item limit also excludes the supplement: 14 calendar days after 12-25 → Fri 2027-01-08,
    # in a year without a published table, hence provisional.
    assert status.item_paused_days == 14
    assert status.item_due_date == date(2027, 1, 8)
    assert status.provisional is True


def test_a_running_pause_counts_as_if_it_ended_today(calendar):
    pause = Pause(PauseKind.supplement, date(2026, 9, 29))
    status = reply_clock(RECEIVED, [pause], date(2026, 10, 12), calendar)
    assert status.paused is True and status.pause_kind is PauseKind.supplement
    # Paused so far (09-29, 10-12]: 09-30, 10-08, 10-09, 10-10, 10-12 → 5; due = 25th working day.
    assert status.due_date == date(2026, 11, 5)
    # Used: 09-28, 09-29 → 2.
    assert (status.working_days_used, status.working_days_left) == (2, 18)
    tomorrow = reply_clock(RECEIVED, [pause], date(2026, 10, 13), calendar)
    assert tomorrow.due_date == date(2026, 11, 6)  # one more paused working day, one day later
    assert tomorrow.working_days_used == 2


def test_a_pause_opened_and_closed_the_same_day_costs_nothing(calendar):
    pause = Pause(PauseKind.supplement, date(2026, 10, 12), date(2026, 10, 12))
    status = reply_clock(RECEIVED, [pause], date(2026, 10, 20), calendar)
    assert status.due_date == date(2026, 10, 29)
    assert status.paused_working_days == 0


def test_a_pause_begun_after_the_limit_ran_out_does_not_revive_it(calendar):
    pause = Pause(PauseKind.supplement, date(2026, 11, 2), date(2026, 11, 10))
    status = reply_clock(RECEIVED, [pause], date(2026, 11, 12), calendar)
    assert status.due_date == date(2026, 10, 29)
    assert status.overdue is True


def test_review_and_notice_after_acceptance_lengthen_only_the_item_limit(calendar):
    review = Pause(PauseKind.expert_review, date(2026, 10, 21), date(2026, 11, 20))  # 30 calendar days
    status = reply_clock(RECEIVED, [review], date(2026, 12, 30), calendar, decided_on=date(2026, 10, 20))
    assert status.due_date == date(2026, 10, 29)
    assert status.overdue is False
    # 12-25 + 30 days = Sun 2027-01-24 → next working day Mon 2027-01-25 (Civil Code art. 203).
    assert status.item_paused_days == 30
    assert status.item_due_date == date(2027, 1, 25)
    assert status.item_overdue is False
    assert status.provisional is True


def test_a_running_review_shows_paused_after_the_reply(calendar):
    review = Pause(PauseKind.expert_review, date(2026, 10, 21))
    status = reply_clock(RECEIVED, [review], date(2026, 10, 23), calendar, decided_on=date(2026, 10, 20))
    assert status.paused is True and status.pause_kind is PauseKind.expert_review
    concluded = reply_clock(
        RECEIVED,
        [review],
        date(2026, 10, 23),
        calendar,
        decided_on=date(2026, 10, 20),
        concluded_on=date(2026, 10, 22),
    )
    assert concluded.paused is False


def test_item_overdue_after_three_months(calendar):
    assert reply_clock(RECEIVED, [], date(2026, 12, 25), calendar).item_overdue is False
    assert reply_clock(RECEIVED, [], date(2026, 12, 28), calendar).item_overdue is True
    concluded_in_time = reply_clock(RECEIVED, [], date(2027, 2, 1), calendar, concluded_on=date(2026, 12, 25))
    assert concluded_in_time.item_overdue is False


def test_item_limit_ending_on_a_holiday_moves_to_the_next_working_day(calendar):
    # 2026-07-03 + 3 months = Sat 10-03, National Day → Thu 10-08.
    assert reply_clock(date(2026, 7, 3), [], date(2026, 7, 3), calendar).item_due_date == date(2026, 10, 8)
    # 2025-11-30 + 3 months = 2026-02-28 (February has no 30th); a Saturday but an adjusted working day.
    assert reply_clock(date(2025, 11, 30), [], date(2025, 11, 30), calendar).item_due_date == date(
        2026, 2, 28
    )


def test_a_december_receipt_due_in_an_unpublished_year_is_provisional(calendar):
    # Mon 2026-12-21: 8 working days left in 2026 (12-22 … 12-25, 12-28 … 12-31); 2027 has no table,
    # so weekends and statutory holidays (01-01): 01-04 … 01-08 (9–13), 01-11 … 01-15 (14–18), 01-18, 01-19 (20).
    status = reply_clock(date(2026, 12, 21), [], date(2026, 12, 22), calendar)
    assert status.due_date == date(2027, 1, 19)
    assert status.provisional is True


def test_a_receipt_whose_dates_all_lie_in_published_years_is_not_provisional(calendar):
    assert reply_clock(date(2026, 3, 2), [], date(2026, 3, 10), calendar).provisional is False


def test_inconsistent_inputs_are_programming_errors(calendar):
    with pytest.raises(ValueError):
        reply_clock(RECEIVED, [], date(2026, 9, 24), calendar)  # today before receipt
    before_receipt = Pause(PauseKind.supplement, date(2026, 9, 20), date(2026, 9, 28))
    with pytest.raises(ValueError):
        reply_clock(RECEIVED, [before_receipt], RECEIVED, calendar)
    overlapping = [
        Pause(PauseKind.supplement, date(2026, 9, 28), date(2026, 10, 9)),
        Pause(PauseKind.expert_review, date(2026, 10, 8), date(2026, 10, 20)),
    ]
    with pytest.raises(ValueError):
        reply_clock(RECEIVED, overlapping, date(2026, 10, 30), calendar)
    with pytest.raises(ValueError):
        Pause(PauseKind.supplement, date(2026, 10, 9), date(2026, 10, 8))
    with pytest.raises(ValueError):
        reply_clock(RECEIVED, [], date(2026, 10, 1), calendar, decided_on=date(2026, 10, 2))
