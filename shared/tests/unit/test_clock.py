"""Injectable clocks and the production guard on business-date overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.clock import (
    SHANGHAI,
    BusinessDateClock,
    Clock,
    ClockOverrideRefused,
    FixedClock,
    SystemClock,
    business_date_of,
    make_clock,
)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --------------------------------------------------------------------------- SystemClock


def test_system_clock_is_aware_utc_and_today_is_the_shanghai_date() -> None:
    clock = SystemClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after
    assert clock.today() in {business_date_of(before), business_date_of(datetime.now(UTC))}


# --------------------------------------------------------------------------- FixedClock


def test_fixed_clock_returns_utc_and_the_shanghai_business_date() -> None:
    clock = FixedClock(shanghai(2026, 10, 1, 1, 0))
    assert clock.now() == datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.today() == date(2026, 10, 1)  # already 1 October in Shanghai, 30 September in UTC


def test_fixed_clock_advances_and_is_set() -> None:
    clock = FixedClock(datetime(2026, 9, 30, 15, 30, tzinfo=UTC))
    assert clock.today() == date(2026, 9, 30)
    assert clock.advance(minutes=30) == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert clock.today() == date(2026, 10, 1)
    clock.advance(days=-1, hours=1)
    assert clock.now() == datetime(2026, 9, 29, 17, 0, tzinfo=UTC)
    clock.set(shanghai(2027, 1, 1, 9, 0))
    assert clock.now() == datetime(2027, 1, 1, 1, 0, tzinfo=UTC)


def test_fixed_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 10, 1, 9, 0))
    clock = FixedClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 10, 1, 9, 0))


# --------------------------------------------------------------------------- BusinessDateClock


def test_business_date_clock_keeps_the_time_of_day() -> None:
    base = FixedClock(shanghai(2026, 3, 10, 10, 30))
    clock = BusinessDateClock(date(2026, 10, 10), base)
    assert clock.today() == date(2026, 10, 10)
    assert clock.now() == shanghai(2026, 10, 10, 10, 30)
    assert clock.now().tzinfo is UTC
    base.advance(hours=1, seconds=5)
    assert clock.now() == shanghai(2026, 10, 10, 11, 30, 5)


def test_business_date_clock_shifts_by_whole_days() -> None:
    base = FixedClock(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # 04:00 on 11 March in Shanghai
    clock = BusinessDateClock(date(2026, 10, 10), base)
    shift = clock.now() - base.now()
    assert shift == timedelta(days=(date(2026, 10, 10) - date(2026, 3, 11)).days)
    assert business_date_of(clock.now()) == clock.today() == date(2026, 10, 10)


def test_business_date_stays_pinned_across_midnight() -> None:
    base = FixedClock(shanghai(2026, 3, 10, 23, 59, 59))
    clock = BusinessDateClock(date(2026, 10, 10), base)
    base.advance(seconds=2)
    assert clock.today() == date(2026, 10, 10)
    assert clock.now() == shanghai(2026, 10, 10, 0, 0, 1)


def test_business_date_can_change_at_run_time() -> None:
    clock = BusinessDateClock(date(2026, 10, 10), FixedClock(shanghai(2026, 3, 10, 8, 0)))
    clock.set_business_date(date(2027, 2, 1))
    assert clock.today() == date(2027, 2, 1)
    assert clock.now() == shanghai(2027, 2, 1, 8, 0)


def test_business_date_clock_defaults_to_the_system_clock() -> None:
    clock = BusinessDateClock(date(2030, 1, 2))
    assert clock.today() == date(2030, 1, 2)
    assert business_date_of(clock.now()) == date(2030, 1, 2)
    assert clock.now().utcoffset() == timedelta(0)


def test_business_date_must_be_a_date() -> None:
    with pytest.raises(TypeError):
        BusinessDateClock(datetime(2026, 10, 10, tzinfo=UTC))
    clock = BusinessDateClock(date(2026, 10, 10))
    with pytest.raises(TypeError):
        clock.set_business_date(datetime(2026, 10, 11, tzinfo=UTC))


# --------------------------------------------------------------------------- make_clock


@pytest.mark.parametrize("environment", ["development", "test", "staging", "production"])
def test_without_business_date_every_environment_gets_the_system_clock(environment: str) -> None:
    assert isinstance(make_clock(environment, None), SystemClock)


@pytest.mark.parametrize("environment", ["development", "test", "staging"])
def test_non_production_may_set_the_business_date(environment: str) -> None:
    clock = make_clock(environment, date(2026, 9, 28))
    assert isinstance(clock, BusinessDateClock)
    assert clock.today() == date(2026, 9, 28)


@pytest.mark.parametrize("environment", ["production", "Production", " production "])
def test_production_refuses_a_business_date(environment: str) -> None:
    with pytest.raises(ClockOverrideRefused) as caught:
        make_clock(environment, date(2026, 9, 28))
    message = str(caught.value)
    assert "生产环境" in message and "production" in message
    assert isinstance(caught.value, RuntimeError)


def test_all_clocks_satisfy_the_protocol() -> None:
    clocks = [
        SystemClock(),
        FixedClock(datetime(2026, 1, 1, tzinfo=UTC)),
        BusinessDateClock(date(2026, 1, 1)),
    ]
    assert all(isinstance(clock, Clock) for clock in clocks)
