"""The designation time limits: a 20-working-day reply clock that pauses, inside a 3-month item limit.

Sources: file 000, all four designation guides, 【办理时间】"分中心自接收申请材料之日起，不超过20个工作日
回复受理意见" and 【注意事项】"机构补充材料、专家评审及公示环节不计入本业务时限"; file 002, items 31
and 32, 办事时限 "不超过3个月". Working days come from the shared official calendar
(``shared.calendar``); dates come in as arguments, nothing here reads a clock.

Interpretations:

1. Day 0 is the day the sub-centre receives the materials (DESIGN, Civil Code art. 201), even when
   that day is not a working day (materials may arrive through the 网上办事大厅 on a holiday). The
   limit ends at the end of the 20th working day after it.
2. Two clocks. The *reply clock* (20 working days) runs until the office replies its acceptance opinion
   (受理意见: accepted or refused) — ``decided_on``. The *item clock* (3 months) runs until the whole
   item ends (designated, refused at any stage, withdrawn) — ``concluded_on``. A withdrawal before any
   reply concludes the item and also stops the reply clock (nothing is left to reply to).
3. The sentence excluding supplements, expert review and public notice is in file 000 (file 002 only
   gives "不超过3个月"). It pauses both clocks: supplements come before the acceptance reply, so they
   pause the reply clock; expert review and notice come after acceptance ("分中心受理通过后……完成专家
   评审等工作"), so they can only ever lengthen the 3-month item limit — which is the reading that
   gives the sentence a meaning for them. So the item due date moves later too.
4. A pause that started on S and ended on E covers the days d with S < d <= E. S is a day the office
   worked (it asked for the supplement, started the review, published the notice) and counts like any
   other day; E is the day the supplement came back or the result was recorded — like the original
   receipt it is the new day 0, and counting resumes the day after. A pause opened and closed on the
   same day costs nothing. This is exactly ``WorkingCalendar.working_days_between(S, E)``.
   After a supplement the clock *resumes* with the days already used; it does not restart at 20 from
   the supplement's receipt — "补充材料……不计入本业务时限" excludes the supplement time, nothing more.
5. The reply clock pauses by working days (its limit is in working days); the item clock by calendar
   days ``(E - S).days`` (its limit is in calendar months).
6. A running pause (no end yet) is treated as if it ended today: the due date shown is the earliest it
   can be, and it moves further each day the pause lasts.
7. A pause moves a due date only if it began before that due date: days paused after the limit had
   already run out do not revive it (the item stays overdue). Pauses beginning on or after the day the
   clock stopped are ignored.
8. The 3 months follow Civil Code art. 202: they end on the day of the third month after receipt that
   has the receipt's day number, or on that month's last day when it has none (11-30 + 3 months =
   02-28/29). Art. 203: when the last day is not a working day (法定休假日), the period ends on the next
   working day. Paused calendar days are added before that roll.
9. Overdue means the clock stopped (or, still running, today is) after the due date: on the due date
   itself the office is still in time.
10. ``provisional`` is True when any date used lies in a year whose holidays are not yet published
    (the shared calendar then counts weekends only); the service recomputes when the table arrives.
11. Pauses must not overlap and only the last one may be running — the application opens at most one
    at a time; anything else is a programming error (``ValueError``), not a request error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

from shared.calendar import WorkingCalendar
from shared.months import add_months
from svc_facility.domain.kinds import REPLY_LIMIT_WORKING_DAYS


class PauseKind(StrEnum):
    supplement = "supplement"  # 机构补充材料
    expert_review = "expert_review"  # 专家评审 (现场核查 for the long-term-care kinds)
    public_notice = "public_notice"  # 公示


PAUSE_NAMES = {
    PauseKind.supplement: "补充材料",
    PauseKind.expert_review: "专家评审",
    PauseKind.public_notice: "公示",
}


@dataclass(frozen=True)
class Pause:
    """Time that does not count: the days d with ``started_on < d <= ended_on`` (``None``: still running)."""

    kind: PauseKind
    started_on: date
    ended_on: date | None = None

    def __post_init__(self) -> None:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError(f"pause ends ({self.ended_on}) before it starts ({self.started_on})")

    @property
    def running(self) -> bool:
        return self.ended_on is None

    def end_as_of(self, today: date) -> date:
        """The last paused day: a running pause is treated as ending today."""
        return self.ended_on if self.ended_on is not None else today


@dataclass(frozen=True)
class ClockStatus:
    received_on: date
    due_date: date  # end of the 20th counted working day after receipt
    working_days_used: int  # counted (not paused) working days until the reply or today
    working_days_left: int  # 0 once the limit is used up
    paused: bool  # a pause is running today and the item is not concluded
    pause_kind: PauseKind | None
    overdue: bool
    item_due_date: date  # the 3-month limit of the whole item, lengthened by pauses
    item_overdue: bool
    provisional: bool
    paused_working_days: int = 0  # working days excluded from the reply clock
    item_paused_days: int = 0  # calendar days added to the 3 months


# --------------------------------------------------------------------------- the clock


def reply_clock(
    received_on: date,
    pauses: Sequence[Pause],
    today: date,
    calendar: WorkingCalendar,
    limit_working_days: int = REPLY_LIMIT_WORKING_DAYS,
    item_months: int = 3,
    decided_on: date | None = None,
    concluded_on: date | None = None,
) -> ClockStatus:
    """Where the designation time limits stand on ``today``.

    ``decided_on``: the day the acceptance opinion was replied (the reply clock stops);
    ``concluded_on``: the day the whole item ended (the item clock stops). See the module notes.
    """
    _require_order(received_on, today, decided_on, concluded_on)
    ordered = _ordered_pauses(received_on, pauses)
    reply_stop = decided_on or concluded_on or today
    item_stop = concluded_on or today

    due, due_provisional = _reply_due_date(
        received_on, ordered, reply_stop, today, calendar, limit_working_days
    )
    elapsed = calendar.working_days_between(received_on, reply_stop)
    paused_days, paused_provisional = _paused_working_days(ordered, reply_stop, today, calendar)
    used = elapsed.days - paused_days

    item_due, item_added, item_provisional = _item_due_date(
        received_on, ordered, item_stop, today, calendar, item_months
    )

    running = ordered[-1] if ordered and ordered[-1].running and concluded_on is None else None
    return ClockStatus(
        received_on=received_on,
        due_date=due,
        working_days_used=used,
        working_days_left=max(0, limit_working_days - used),
        paused=running is not None,
        pause_kind=running.kind if running is not None else None,
        overdue=reply_stop > due,
        item_due_date=item_due,
        item_overdue=item_stop > item_due,
        provisional=due_provisional or elapsed.provisional or paused_provisional or item_provisional,
        paused_working_days=paused_days,
        item_paused_days=item_added,
    )


def _require_order(
    received_on: date, today: date, decided_on: date | None, concluded_on: date | None
) -> None:
    if today < received_on:
        raise ValueError(f"today ({today}) is before the receipt ({received_on})")
    for name, value in (("decided_on", decided_on), ("concluded_on", concluded_on)):
        if value is not None and not received_on <= value <= today:
            raise ValueError(
                f"{name} ({value}) must lie between the receipt ({received_on}) and today ({today})"
            )


def _ordered_pauses(received_on: date, pauses: Sequence[Pause]) -> tuple[Pause, ...]:
    ordered = tuple(sorted(pauses, key=lambda pause: pause.started_on))
    for pause in ordered:
        if pause.started_on < received_on:
            raise ValueError(f"a pause cannot start ({pause.started_on}) before the receipt ({received_on})")
    for earlier, later in pairwise(ordered):
        if earlier.ended_on is None:
            raise ValueError("only the last pause may still be running")
        # Spans are (start, end]: a pause may start on the day the previous one ended.
        if later.started_on < earlier.ended_on:
            raise ValueError(f"pauses overlap: {earlier} and {later}")
    return ordered


def _paused_span_end(pause: Pause, stop: date, today: date) -> date:
    # Nothing after the clock stopped matters, and a running pause counts up to today.
    return min(pause.end_as_of(today), stop)


def _paused_working_days_of(
    pause: Pause, stop: date, today: date, calendar: WorkingCalendar
) -> tuple[int, bool]:
    end = _paused_span_end(pause, stop, today)
    if end <= pause.started_on:
        return 0, False
    count = calendar.working_days_between(pause.started_on, end)
    return count.days, count.provisional


def _paused_working_days(
    pauses: Sequence[Pause], stop: date, today: date, calendar: WorkingCalendar
) -> tuple[int, bool]:
    total, provisional = 0, False
    for pause in pauses:
        days, pause_provisional = _paused_working_days_of(pause, stop, today, calendar)
        total += days
        provisional = provisional or pause_provisional
    return total, provisional


def _reply_due_date(
    received_on: date,
    pauses: Sequence[Pause],
    stop: date,
    today: date,
    calendar: WorkingCalendar,
    limit_working_days: int,
) -> tuple[date, bool]:
    first = calendar.add_working_days(received_on, limit_working_days)
    due, provisional = first.date, first.provisional
    for pause in pauses:
        # Sorted by start and the due date only moves later: once one pause is too late, all are.
        if pause.started_on >= due or pause.started_on >= stop:
            break
        days, pause_provisional = _paused_working_days_of(pause, stop, today, calendar)
        moved = calendar.add_working_days(due, days)
        due = moved.date
        provisional = provisional or pause_provisional or moved.provisional
    return due, provisional


def _item_due_date(
    received_on: date,
    pauses: Sequence[Pause],
    stop: date,
    today: date,
    calendar: WorkingCalendar,
    item_months: int,
) -> tuple[date, int, bool]:
    due = add_months(received_on, item_months)
    added = 0
    for pause in pauses:
        if pause.started_on >= due or pause.started_on >= stop:
            break
        days = max(0, (_paused_span_end(pause, stop, today) - pause.started_on).days)
        due += timedelta(days=days)
        added += days
    rolled, provisional = _on_or_next_working_day(due, calendar)
    return rolled, added, provisional


def _on_or_next_working_day(day: date, calendar: WorkingCalendar) -> tuple[date, bool]:
    """Civil Code art. 203: a period whose last day is a day off ends on the next working day."""
    provisional = False
    while True:
        info = calendar.day(day)
        provisional = provisional or info.provisional
        if info.working_day:
            return day, provisional
        day += timedelta(days=1)
