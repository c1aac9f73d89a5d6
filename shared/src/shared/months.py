"""Calendar-month arithmetic as the Civil Code counts it (art. 200-204): the same day so many months on,
or that month's last day when it has no such day (31 October + 4 months = 28 or 29 February)."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end`: the largest m with add_months(start, m) <= end; 0 if end <= start.

    Opened 2026-01-15: 2 whole months on 2026-04-14, 3 on 2026-04-15. Opened 01-31: 3 on 04-30.
    """
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    # The month difference overshoots by one while the day of the month has not come round yet.
    return months - 1 if add_months(start, months) > end else months
