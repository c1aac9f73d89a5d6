"""Injectable time: domain code asks a clock, never the system, so tests and demos control it.

``now()`` is an aware UTC timestamp; ``today()`` is the business date in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def today(self) -> date:
        """The business date in Asia/Shanghai."""
        ...


def business_date_of(instant: datetime) -> date:
    """The Asia/Shanghai date of an aware instant."""
    return instant.astimezone(SHANGHAI).date()


def _aware_utc(at: datetime) -> datetime:
    # A naive datetime could be local or UTC; guessing would shift business dates by 8 hours.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a clock needs a timezone-aware datetime")
    return at.astimezone(UTC)


def _require_date(d: object) -> date:
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return business_date_of(self.now())


class FixedClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: datetime):
        self._at = _aware_utc(at)

    def now(self) -> datetime:
        return self._at

    def today(self) -> date:
        return business_date_of(self._at)

    def advance(self, **timedelta_kwargs: float) -> datetime:
        """Move forward (or back, with negative values) by ``timedelta(**kwargs)``; returns the new now."""
        self._at += timedelta(**timedelta_kwargs)
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware_utc(at)


class BusinessDateClock:
    """The base clock moved to another business date; the time of day keeps running (demos, tests).

    The date stays pinned: at Shanghai midnight ``now()`` wraps back to 00:00 of the same date.
    """

    def __init__(self, business_date: date, base: Clock | None = None):
        self._business_date = _require_date(business_date)
        self._base: Clock = base if base is not None else SystemClock()

    def now(self) -> datetime:
        local = self._base.now().astimezone(SHANGHAI)
        # Same Shanghai wall-clock time on the business date: a shift by whole days.
        shifted = datetime.combine(self._business_date, local.time(), tzinfo=SHANGHAI)
        return shifted.astimezone(UTC)

    def today(self) -> date:
        return self._business_date

    def set_business_date(self, business_date: date) -> None:
        self._business_date = _require_date(business_date)


class ClockOverrideRefused(RuntimeError):
    """Production must run on the real date."""


def make_clock(environment: str, business_date: date | None) -> Clock:
    """The clock a deployment runs on; a business-date override is refused in production."""
    if business_date is None:
        return SystemClock()
    if environment.strip().lower() == "production":
        raise ClockOverrideRefused(
            "生产环境不允许设置业务日期（business_date）。"
            " A business-date override is refused in production; unset YB_BUSINESS_DATE."
        )
    return BusinessDateClock(business_date)
