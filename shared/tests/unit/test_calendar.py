"""The working-day calendar: official facts, the day-0 convention, operator tables, provisional years."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.calendar import (
    SUPPORTED_YEARS,
    DateOutOfRange,
    DayInfo,
    NamedDay,
    WorkingCalendar,
    WorkingDate,
    WorkingDayCount,
    YearTable,
    default_calendar,
    reset_default_calendar,
    statutory_holidays,
)
from shared.errors import Invalid

PROVISIONAL_WORKDAY = "工作日（暂定：该年度节假日安排未公布）"
PROVISIONAL_WEEKEND = "周末（暂定：该年度节假日安排未公布）"


def provisional(reason: str) -> str:
    return f"{reason}（暂定：该年度节假日安排未公布）"


def table_2027(**overrides: object) -> YearTable:
    fields: dict[str, object] = {
        "year": 2027,
        "holidays": [NamedDay(date=date(2027, 1, 1), name="元旦")],
        "workdays": [],
        "source": "test",
    }
    fields.update(overrides)
    return YearTable(**fields)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture
def fresh_default_calendar():
    reset_default_calendar()
    yield
    reset_default_calendar()


# --------------------------------------------------------------------------- required facts


def test_adjusted_working_saturday_2026_10_10(calendar: WorkingCalendar) -> None:
    assert date(2026, 10, 10).weekday() == 5
    assert calendar.is_working_day(date(2026, 10, 10))
    assert calendar.day(date(2026, 10, 10)) == DayInfo(date(2026, 10, 10), True, "调休上班（国庆节）", False)


def test_national_day_is_not_a_working_day(calendar: WorkingCalendar) -> None:
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert calendar.day(date(2026, 10, 1)) == DayInfo(date(2026, 10, 1), False, "国庆节", False)


def test_five_working_days_across_the_national_day_holiday(calendar: WorkingCalendar) -> None:
    # 09-29, 09-30, then the holiday 10-01..10-07, then 10-08, 10-09, 10-10 (adjusted Saturday).
    assert calendar.add_working_days(date(2026, 9, 28), 5) == WorkingDate(date(2026, 10, 10), False)
    assert calendar.working_days_between(date(2026, 9, 28), date(2026, 10, 10)) == WorkingDayCount(5, False)


def test_deadline_reaching_a_year_without_data_is_provisional(calendar: WorkingCalendar) -> None:
    # 2026-12-29..31, then 2027 on weekends only: 01-01, 01-04..08, 01-11.
    assert not calendar.has_year(2027)
    # 12-29..31, 01-04..08 (01-01 New Year's Day is known even before the notice), 01-11, 01-12
    assert calendar.add_working_days(date(2026, 12, 28), 10) == WorkingDate(date(2027, 1, 12), True)


def test_loaded_table_makes_the_same_deadline_exact_and_is_honoured(calendar: WorkingCalendar) -> None:
    calendar.load_year(
        table_2027(
            holidays=[
                NamedDay(date=date(2027, 1, 1), name="元旦"),
                NamedDay(date=date(2027, 1, 4), name="元旦"),
            ]
        )
    )
    assert calendar.has_year(2027)
    # 2027-01-01 is now 元旦, so the tenth working day moves one day later.
    assert calendar.add_working_days(date(2026, 12, 28), 10) == WorkingDate(date(2027, 1, 13), False)
    assert calendar.day(date(2027, 1, 1)) == DayInfo(date(2027, 1, 1), False, "元旦", False)


def test_spring_festival_2026_matches_chinese_calendar(calendar: WorkingCalendar) -> None:
    holidays = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 02-15 .. 02-23
    adjusted = [date(2026, 2, 14), date(2026, 2, 28)]  # Saturdays worked
    assert all(chinese_calendar.is_holiday(d) for d in holidays)
    assert all(chinese_calendar.is_workday(d) for d in adjusted)

    for d in holidays:
        assert calendar.day(d) == DayInfo(d, False, "春节", False)
    for d in adjusted:
        assert d.weekday() == 5
        assert calendar.day(d) == DayInfo(d, True, "调休上班（春节）", False)
    assert calendar.is_working_day(date(2026, 2, 24))


def test_spring_festival_2026_deadlines(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 2, 13), 1).date == date(2026, 2, 14)
    assert calendar.add_working_days(date(2026, 2, 14), 1).date == date(2026, 2, 24)
    # 02-14, 02-24..27, 02-28
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 28)).days == 6


def test_calendar_agrees_with_chinese_calendar_on_every_covered_day(calendar: WorkingCalendar) -> None:
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# --------------------------------------------------------------------------- reasons


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 10, 14), "工作日"),
        (date(2026, 10, 17), "周末"),
        (date(2026, 1, 1), "元旦"),
        (date(2026, 1, 3), "元旦"),  # a Saturday inside a holiday is named as the holiday
        (date(2026, 1, 4), "调休上班（元旦）"),
        (date(2026, 4, 5), "清明节"),
        (date(2026, 5, 1), "劳动节"),
        (date(2026, 5, 9), "调休上班（劳动节）"),
        (date(2026, 6, 19), "端午节"),
        (date(2026, 9, 25), "中秋节"),
        (date(2026, 9, 20), "调休上班（国庆节）"),
        (date(2015, 9, 3), "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"),
    ],
)
def test_reasons_are_chinese(calendar: WorkingCalendar, day: date, reason: str) -> None:
    assert calendar.day(day).reason == reason


def test_no_english_holiday_name_leaks(calendar: WorkingCalendar) -> None:
    special = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    for day in special:
        assert not calendar.day(day).reason.isascii(), day


def test_unknown_library_holiday_name_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    patched = dict(chinese_calendar.holidays)
    patched[date(2026, 3, 2)] = "Some New Day"
    monkeypatch.setattr(chinese_calendar, "holidays", patched)
    assert WorkingCalendar().day(date(2026, 3, 2)) == DayInfo(date(2026, 3, 2), False, "Some New Day", False)


def test_year_without_data_counts_weekends_and_statutory_holidays_provisionally(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.day(date(2027, 1, 1)) == DayInfo(date(2027, 1, 1), False, provisional("元旦"), True)
    assert calendar.day(date(2027, 1, 2)) == DayInfo(date(2027, 1, 2), False, PROVISIONAL_WEEKEND, True)
    assert calendar.day(date(2027, 1, 6)) == DayInfo(date(2027, 1, 6), True, PROVISIONAL_WORKDAY, True)


def test_loaded_table_names_adjusted_workdays(calendar: WorkingCalendar) -> None:
    table = table_2027(workdays=[NamedDay(date=date(2027, 2, 20), name="春节")])
    calendar.load_year(table)
    assert calendar.day(date(2027, 2, 20)) == DayInfo(date(2027, 2, 20), True, "调休上班（春节）", False)
    assert calendar.day(date(2027, 2, 21)) == DayInfo(date(2027, 2, 21), False, "周末", False)
    assert calendar.day(date(2027, 2, 22)) == DayInfo(date(2027, 2, 22), True, "工作日", False)


# --------------------------------------------------------------------------- day 0 convention


def test_zero_days_is_the_start_itself_even_on_a_holiday(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 10, 1), 0) == WorkingDate(date(2026, 10, 1), False)
    assert calendar.add_working_days(date(2027, 6, 1), 0) == WorkingDate(date(2027, 6, 1), False)


def test_start_on_a_holiday_counts_from_the_next_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 10, 1), 1).date == date(2026, 10, 8)


def test_start_on_a_working_day_is_not_counted(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 10, 14), 1).date == date(2026, 10, 15)


def test_negative_days_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 10, 14), -1)


def test_working_days_between_empty_and_reversed_ranges(calendar: WorkingCalendar) -> None:
    assert calendar.working_days_between(date(2026, 10, 14), date(2026, 10, 14)) == WorkingDayCount(0, False)
    assert calendar.working_days_between(date(2026, 10, 14), date(2026, 10, 1)) == WorkingDayCount(0, False)
    assert calendar.working_days_between(date(2027, 3, 1), date(2027, 2, 1)) == WorkingDayCount(0, False)


def test_working_days_between_spans_years(calendar: WorkingCalendar) -> None:
    count = calendar.working_days_between(date(2025, 12, 31), date(2026, 1, 5))
    assert count == WorkingDayCount(2, False)  # 2026-01-04 (adjusted Sunday) and 01-05
    assert calendar.working_days_between(date(2026, 12, 30), date(2027, 1, 4)) == WorkingDayCount(
        2, True
    )  # 01-01 off


def test_datetimes_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        calendar.is_working_day(datetime(2026, 10, 10, 9, 0))
    with pytest.raises(TypeError):
        calendar.add_working_days(datetime(2026, 10, 10, 9, 0), 1)


# --------------------------------------------------------------------------- operator tables


def test_table_for_a_library_year_is_refused(calendar: WorkingCalendar) -> None:
    table = YearTable(year=2026, holidays=[NamedDay(date=date(2026, 3, 2), name="测试")], workdays=[])
    with pytest.raises(ValueError, match="chinese_calendar"):
        calendar.load_year(table)
    assert calendar.is_working_day(date(2026, 3, 2))


def test_table_can_be_given_to_the_constructor() -> None:
    calendar = WorkingCalendar([table_2027()])
    assert calendar.has_year(2027)
    assert not calendar.has_year(2028)
    assert calendar.tables() == [table_2027()]


def test_reloading_a_year_replaces_its_table(calendar: WorkingCalendar) -> None:
    calendar.load_year(table_2027(holidays=[NamedDay(date=date(2027, 1, 4), name="元旦")]))
    calendar.load_year(table_2027(holidays=[NamedDay(date=date(2027, 1, 5), name="元旦")]))
    assert calendar.is_working_day(date(2027, 1, 4))
    assert not calendar.is_working_day(date(2027, 1, 5))


def test_table_loaded_after_a_provisional_answer_takes_effect(calendar: WorkingCalendar) -> None:
    assert calendar.is_working_day(date(2027, 1, 4))
    calendar.load_year(table_2027(holidays=[NamedDay(date=date(2027, 1, 4), name="元旦")]))
    assert not calendar.is_working_day(date(2027, 1, 4))


def test_a_table_that_leaves_out_a_statutory_holiday_still_keeps_it(calendar: WorkingCalendar) -> None:
    calendar.load_year(table_2027(holidays=[]))
    assert calendar.day(date(2027, 2, 8)) == DayInfo(date(2027, 2, 8), False, "春节", False)


def test_a_table_that_makes_a_statutory_holiday_a_working_day_is_refused() -> None:
    with pytest.raises(ValidationError, match="statutory"):
        YearTable.model_validate(
            {"year": 2027, "holidays": [], "workdays": [{"date": "2027-02-06", "name": "春节"}]}
        )


# --------------------------------------------------------------------------- statutory holidays of every year


def test_2027_new_year_and_spring_festival_are_non_working_before_the_notice(
    calendar: WorkingCalendar,
) -> None:
    # 除夕 2027-02-05 (Friday) to 初三 2027-02-08 (Monday)
    for day in (date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)):
        info = calendar.day(day)
        assert (info.working_day, info.provisional) == (False, True), info
    assert calendar.day(date(2027, 2, 5)).reason == provisional("春节")
    assert calendar.day(date(2027, 2, 9)).working_day


def test_the_decree_gives_thirteen_days_a_year() -> None:
    days = statutory_holidays(2027)
    names = list(days.values())
    assert len(days) == 13
    assert {name: names.count(name) for name in set(names)} == {
        "元旦": 1, "春节": 4, "清明节": 1, "劳动节": 2, "端午节": 1, "中秋节": 1, "国庆节": 3,
    }  # fmt: skip
    assert days[date(2027, 4, 5)] == "清明节"
    assert days[date(2027, 6, 9)] == "端午节"
    assert days[date(2027, 9, 15)] == "中秋节"


def test_mid_autumn_on_national_day_is_one_day_with_both_names() -> None:
    assert (
        statutory_holidays(2039)[date(2039, 10, 2)] == "中秋节、国庆节"
    )  # 八月十五 of 2039 is 10-02, named in the decree's order


@pytest.mark.parametrize("year", [2025, 2026])
def test_computed_statutory_days_are_holidays_in_the_published_arrangement(year: int) -> None:
    # 2025 and 2026 are published under the same decree: every day it fixes is off in the notice.
    for day, name in statutory_holidays(year).items():
        assert chinese_calendar.is_holiday(day), (day, name)
        assert chinese_calendar.get_holiday_detail(day)[1] is not None, (day, name)


@pytest.mark.parametrize("year", range(2008, 2027))
def test_computed_lunar_days_and_qingming_agree_with_every_published_year(year: int) -> None:
    # Before 2025 the decree had fewer days, but 初一, 清明, 端午 and 中秋 were off in every year.
    computed = {
        name: day for day, name in statutory_holidays(year).items() if name in ("清明节", "端午节", "中秋节")
    }
    spring = sorted(day for day, name in statutory_holidays(year).items() if name == "春节")
    for name, day in computed.items():
        assert chinese_calendar.is_holiday(day), (year, name, day)
    assert chinese_calendar.is_holiday(spring[1])  # 初一


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.day(date(2003, 12, 31)),
        lambda c: c.day(date(2101, 1, 1)),
        lambda c: c.day(date(9999, 12, 31)),
        lambda c: c.add_working_days(date(9999, 12, 31), 1),
        lambda c: c.add_working_days(date(2100, 12, 30), 5),
        lambda c: c.working_days_between(date(2026, 1, 1), date(2101, 1, 2)),
        lambda c: c.load_year(YearTable(year=2200, holidays=[], workdays=[])),
    ],
)
def test_dates_outside_the_supported_range_are_a_422_domain_error(calendar: WorkingCalendar, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DateOutOfRange) as caught:
        call(calendar)
    assert isinstance(caught.value, Invalid) and isinstance(caught.value, ValueError)
    assert (caught.value.status, caught.value.code) == (422, "date_out_of_range")
    assert "2004–2100" in (caught.value.detail or "")


def test_the_last_supported_day_is_answered(calendar: WorkingCalendar) -> None:
    assert SUPPORTED_YEARS[-1] == 2100
    assert calendar.add_working_days(date(2100, 12, 29), 1) == WorkingDate(date(2100, 12, 30), True)


@pytest.mark.parametrize(
    ("holidays", "workdays", "message"),
    [
        ([{"date": "2028-01-01", "name": "元旦"}], [], "outside 2027"),
        (
            [{"date": "2027-01-01", "name": "元旦"}, {"date": "2027-01-01", "name": "元旦"}],
            [],
            "duplicated holidays",
        ),
        ([{"date": "2027-01-02", "name": "元旦"}], [{"date": "2027-01-02", "name": "元旦"}], "both"),
        ([], [{"date": "2027-02-02", "name": "春节"}], "weekend"),  # a Tuesday
        (
            [],
            [{"date": "2027-02-20", "name": "春节"}, {"date": "2027-02-20", "name": "春节"}],
            "duplicated workdays",
        ),
        ([{"date": "2027-01-01", "name": ""}], [], "at least 1 character"),
    ],
)
def test_inconsistent_tables_are_refused(holidays: list, workdays: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        YearTable.model_validate({"year": 2027, "holidays": holidays, "workdays": workdays})


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        YearTable.model_validate({"year": 2027, "holiday": [], "workdays": []})


def write_table(directory: Path, name: str, table: dict) -> None:
    (directory / name).write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")


def test_load_directory_reads_every_json_file(tmp_path: Path, calendar: WorkingCalendar) -> None:
    write_table(tmp_path, "2027.json", table_2027().model_dump(mode="json"))
    write_table(
        tmp_path,
        "2028.json",
        {"year": 2028, "holidays": [{"date": "2028-01-03", "name": "元旦"}], "workdays": []},
    )
    (tmp_path / "README.md").write_text("not a table", encoding="utf-8")
    assert calendar.load_directory(tmp_path) == 2
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert not calendar.is_working_day(date(2028, 1, 3))


def test_load_directory_is_all_or_nothing(tmp_path: Path, calendar: WorkingCalendar) -> None:
    write_table(tmp_path, "2027.json", table_2027().model_dump(mode="json"))
    write_table(
        tmp_path,
        "2028.json",
        {"year": 2028, "holidays": [{"date": "2027-01-03", "name": "元旦"}], "workdays": []},
    )
    with pytest.raises(ValueError, match=r"2028\.json"):
        calendar.load_directory(tmp_path)
    assert not calendar.has_year(2027)


def test_load_directory_refuses_two_tables_for_one_year(tmp_path: Path, calendar: WorkingCalendar) -> None:
    write_table(tmp_path, "a.json", table_2027().model_dump(mode="json"))
    write_table(tmp_path, "b.json", table_2027().model_dump(mode="json"))
    with pytest.raises(ValueError, match="two holiday tables"):
        calendar.load_directory(tmp_path)


def test_load_directory_refuses_a_missing_directory(tmp_path: Path, calendar: WorkingCalendar) -> None:
    with pytest.raises(FileNotFoundError):
        calendar.load_directory(tmp_path / "nowhere")


# --------------------------------------------------------------------------- process-wide calendar


def test_default_calendar_loads_the_operator_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_default_calendar: None
) -> None:
    write_table(tmp_path, "2027.json", table_2027().model_dump(mode="json"))
    monkeypatch.setenv("YB_HOLIDAY_DIR", str(tmp_path))
    calendar = default_calendar()
    assert calendar.has_year(2027)
    assert default_calendar() is calendar


def test_default_calendar_without_operator_directory(
    monkeypatch: pytest.MonkeyPatch, fresh_default_calendar: None
) -> None:
    monkeypatch.delenv("YB_HOLIDAY_DIR", raising=False)
    calendar = default_calendar()
    assert calendar.has_year(2026)
    reset_default_calendar()
    assert default_calendar() is not calendar


# --------------------------------------------------------------------------- properties

DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 12, 31))
DAYS = st.integers(min_value=0, max_value=300)


def with_2027_table() -> WorkingCalendar:
    return WorkingCalendar([table_2027(workdays=[NamedDay(date=date(2027, 2, 20), name="春节")])])


CALENDARS = [WorkingCalendar(), with_2027_table()]


@pytest.mark.parametrize("calendar", CALENDARS, ids=["library-only", "with-2027"])
@given(start=DATES, days=st.integers(min_value=1, max_value=300))
def test_result_is_a_working_day_after_start(calendar: WorkingCalendar, start: date, days: int) -> None:
    result = calendar.add_working_days(start, days).date
    assert result > start
    assert calendar.is_working_day(result)


@pytest.mark.parametrize("calendar", CALENDARS, ids=["library-only", "with-2027"])
@given(start=DATES, days=DAYS)
def test_between_inverts_add(calendar: WorkingCalendar, start: date, days: int) -> None:
    result = calendar.add_working_days(start, days)
    count = calendar.working_days_between(start, result.date)
    assert count.days == days
    assert count.provisional == result.provisional


@pytest.mark.parametrize("calendar", CALENDARS, ids=["library-only", "with-2027"])
@given(start=DATES, days=DAYS)
def test_monotonic_in_days(calendar: WorkingCalendar, start: date, days: int) -> None:
    assert calendar.add_working_days(start, days).date < calendar.add_working_days(start, days + 1).date


@given(start=DATES, days=st.integers(min_value=0, max_value=60))
@settings(max_examples=200)
def test_add_matches_a_day_by_day_scan(start: date, days: int) -> None:
    calendar = CALENDARS[1]
    day, counted, years_seen = start, 0, set()
    while counted < days:
        day += timedelta(days=1)
        years_seen.add(day.year)
        counted += calendar.is_working_day(day)
    expected_provisional = any(not calendar.has_year(year) for year in years_seen)
    assert calendar.add_working_days(start, days) == WorkingDate(day, expected_provisional)


@given(start=DATES, span=st.integers(min_value=-10, max_value=120))
def test_between_matches_a_day_by_day_count(start: date, span: int) -> None:
    calendar = CALENDARS[0]
    end = start + timedelta(days=span)
    expected = sum(calendar.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert calendar.working_days_between(start, end).days == expected


def test_deadline_beyond_the_supported_range_is_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        calendar.add_working_days(date(2100, 12, 30), 5)


def test_a_date_out_of_range_is_answered_as_a_422_problem_by_the_api_layer() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from shared.http.problems import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/day/{day}")
    async def day(day: date) -> dict[str, bool]:
        return {"working_day": default_calendar().day(day).working_day}

    answer = TestClient(app).get("/day/9999-12-31")
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "date_out_of_range" and "2004–2100" in answer.json()["detail"]
