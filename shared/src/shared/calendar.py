"""The official Chinese working-day calendar, used by every deadline.

Years 2004–2026 come from ``chinese_calendar``; later years from the State Council's yearly notice,
which admins draft and publish as data (svc-claims owns the notices and announces each published one
with ``calendar.notice_published``; every service loads it, see ``shared.holiday_notices``), or
from operator files in ``$YB_HOLIDAY_DIR``. The statutory holidays themselves (全国年节及纪念日放假办法)
are known for every year: the lunar ones and Qingming are computed by ``lunar_python``. Only the
notice's bridging days and adjusted working weekends (调休) are unknown before it is published, so a
year without a table counts weekends and statutory holidays, and every answer that touches it is
marked provisional, so callers know to recompute it once the table is loaded.

The calendar covers 2004–2100 (``SUPPORTED_YEARS``); a date outside is refused with
``DateOutOfRange``, a domain error (``shared.errors.Invalid``: the API layer answers 422
``date_out_of_range``).

Convention (Civil Code art. 201): the day of the triggering act is day 0; "within N working days"
ends at the end of the N-th working day after it.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import chinese_calendar
from lunar_python import Lunar
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import Invalid

HOLIDAY_DIR_ENV = "YB_HOLIDAY_DIR"
BUNDLED_HOLIDAY_DIR = Path(__file__).parent / "data" / "holidays"

WORKDAY = "工作日"
WEEKEND = "周末"
_PROVISIONAL_NOTE = "（暂定：该年度节假日安排未公布）"

# chinese_calendar names its holidays in English; the apps show the official Chinese names.
_CHINESE_HOLIDAY_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "New Year's Day": "元旦",
        "Spring Festival": "春节",
        "Tomb-sweeping Day": "清明节",
        "Labour Day": "劳动节",
        "Dragon Boat Festival": "端午节",
        "National Day": "国庆节",
        "Mid-autumn Festival": "中秋节",
        "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
    }
)


def adjusted_workday_reason(holiday_name: str) -> str:
    return f"调休上班（{holiday_name}）"


# The oldest year chinese_calendar knows; the lunar library is exact far beyond 2100, but a statutory
# arrangement a century away is a guess, and a bounded range keeps every per-year table cached.
SUPPORTED_YEARS = range(2004, 2101)


class DateOutOfRange(Invalid, ValueError):
    """A date the calendar cannot answer for: a domain error, answered 422 wherever it is raised from a request."""

    def __init__(self, what: str):
        first, last = SUPPORTED_YEARS.start, SUPPORTED_YEARS.stop - 1
        super().__init__(
            "date_out_of_range", "日期超出工作日历支持的范围",
            f"{what}：工作日历支持 {first}–{last} 年（outside the supported range {first}–{last}）",
        )  # fmt: skip


# --------------------------------------------------------------------------- statutory holidays

# 全国年节及纪念日放假办法 as amended by State Council decree 795 (in force 2025-01-01): 13 days a year.
# Earlier years are the library's, so the rules before 2025 are never needed here.
NEW_YEAR, SPRING_FESTIVAL, QINGMING = "元旦", "春节", "清明节"
LABOUR_DAY, DRAGON_BOAT, MID_AUTUMN, NATIONAL_DAY = "劳动节", "端午节", "中秋节", "国庆节"


def statutory_holidays(year: int) -> dict[date, str]:
    """The days off the decree itself fixes for ``year``, with their names (no bridging days, no 调休)."""
    if year not in SUPPORTED_YEARS:
        raise DateOutOfRange(f"{year} 年")
    new_year_of_the_lunar_calendar = _solar(Lunar.fromYmd(year, 1, 1))
    spring_festival = [
        new_year_of_the_lunar_calendar + timedelta(days=i) for i in range(-1, 3)
    ]  # 除夕 to 初三
    qingming = _solar(Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"])
    days: dict[date, list[str]] = {}
    for day, name in [
        (date(year, 1, 1), NEW_YEAR),
        *((d, SPRING_FESTIVAL) for d in spring_festival),
        (qingming, QINGMING),
        (date(year, 5, 1), LABOUR_DAY),
        (date(year, 5, 2), LABOUR_DAY),
        (_solar(Lunar.fromYmd(year, 5, 5)), DRAGON_BOAT),
        (_solar(Lunar.fromYmd(year, 8, 15)), MID_AUTUMN),
        *((date(year, 10, d), NATIONAL_DAY) for d in (1, 2, 3)),
    ]:
        days.setdefault(day, []).append(name)  # Mid-Autumn can fall in the National Day days
    return {day: "、".join(names) for day, names in sorted(days.items())}


def _solar(value: Any) -> date:
    """A lunar_python Lunar or Solar as a date (the library is untyped)."""
    solar = value.getSolar() if isinstance(value, Lunar) else value
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


# --------------------------------------------------------------------------- operator tables


class NamedDay(BaseModel):
    """One date with the holiday it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    name: str = Field(min_length=1)


class YearTable(BaseModel):
    """One year's holidays and adjusted working weekend days (调休上班), as published."""

    # extra="forbid": a misspelt key in an operator's file must fail, not silently drop holidays.
    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1, le=9999)
    holidays: list[NamedDay]
    workdays: list[NamedDay]
    source: str = ""

    @model_validator(mode="after")
    def _check_consistency(self) -> YearTable:
        problems = consistency_problems(self.year, self.holidays, self.workdays)
        if problems:
            raise ValueError("; ".join(problems))  # every problem at once, not the first
        return self


def consistency_problems(year: int, holidays: list[NamedDay], workdays: list[NamedDay]) -> list[str]:
    """Every way a year's table contradicts itself or the statutory holidays, one message each."""
    problems: list[str] = []
    outside = [d.date for d in (*holidays, *workdays) if d.date.year != year]
    if outside:
        problems.append(f"dates outside {year}: {_iso_list(outside)}")
    problems += _duplicates(holidays, "holidays") + _duplicates(workdays, "workdays")
    both = {d.date for d in holidays} & {d.date for d in workdays}
    if both:
        problems.append(f"dates both holiday and workday: {_iso_list(both)}")
    # A weekday is a working day anyway; listing one as 调休上班 is almost surely a typo.
    weekdays = [d.date for d in workdays if d.date.weekday() < 5]
    if weekdays:
        problems.append(f"workdays must be weekend days (调休上班): {_iso_list(weekdays)}")
    if year in SUPPORTED_YEARS and year not in LIBRARY_YEARS:
        # The notice never trades a statutory holiday away: such a line is a typo.
        statutory = [d.date for d in workdays if d.date in statutory_holidays(year)]
        if statutory:
            problems.append(f"workdays must not be statutory holidays: {_iso_list(statutory)}")
    return problems


def _duplicates(days: list[NamedDay], field: str) -> list[str]:
    counts = Counter(d.date for d in days)
    duplicated = [day for day, count in counts.items() if count > 1]
    return [f"duplicated {field}: {_iso_list(duplicated)}"] if duplicated else []


def _iso_list(dates: Iterable[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(dates))


def read_year_table(path: str | os.PathLike[str]) -> YearTable:
    """Read and validate one operator table (JSON)."""
    path = Path(path)
    try:
        return YearTable.model_validate_json(path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"holiday table {path}: {exc}") from exc


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DayInfo:
    date: date
    working_day: bool
    reason: str
    provisional: bool


@dataclass(frozen=True, slots=True)
class WorkingDate:
    date: date
    provisional: bool


@dataclass(frozen=True, slots=True)
class WorkingDayCount:
    days: int
    provisional: bool


# --------------------------------------------------------------------------- per-year tables


@dataclass(frozen=True, slots=True)
class _Year:
    """One year precomputed: the sorted ordinals of its working days answer every question fast."""

    year: int
    provisional: bool
    first_ordinal: int
    working_flags: bytes  # one byte a day, 1 = working, indexed by ordinal - first_ordinal
    working_ordinals: tuple[int, ...]
    holidays: Mapping[date, str]
    adjusted_workdays: Mapping[date, str]

    def is_working(self, ordinal: int) -> bool:
        return self.working_flags[ordinal - self.first_ordinal] == 1

    def working_days_after(self, ordinal: int) -> int:
        """Index of the first working day strictly after ``ordinal`` (ordinal may lie outside the year)."""
        return bisect_right(self.working_ordinals, ordinal)


def _build_year(
    year: int, holidays: Mapping[date, str], adjusted: Mapping[date, str], provisional: bool
) -> _Year:
    first = date(year, 1, 1)
    length = (date(year, 12, 31) - first).days + 1
    flags = bytearray(length)
    for offset in range(length):
        day = first + timedelta(days=offset)
        is_weekend = day.weekday() >= 5
        flags[offset] = day in adjusted or (not is_weekend and day not in holidays)
    start = first.toordinal()
    return _Year(
        year=year,
        provisional=provisional,
        first_ordinal=start,
        working_flags=bytes(flags),
        working_ordinals=tuple(start + i for i, flag in enumerate(flags) if flag),
        holidays=MappingProxyType(dict(holidays)),
        adjusted_workdays=MappingProxyType(dict(adjusted)),
    )


def _library_years() -> range:
    # The same bounds chinese_calendar itself enforces (it raises NotImplementedError outside them).
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


LIBRARY_YEARS = _library_years()


def _library_days_of(year: int, source: Mapping[date, str]) -> dict[date, str]:
    return {d: _CHINESE_HOLIDAY_NAMES.get(name, name) for d, name in source.items() if d.year == year}


def _library_year(year: int) -> _Year:
    holidays = _library_days_of(year, chinese_calendar.holidays)
    adjusted = _library_days_of(year, chinese_calendar.workdays)
    return _build_year(year, holidays, adjusted, provisional=False)


def _table_year(table: YearTable) -> _Year:
    # The statutory days are off whatever the table says; the table adds the bridging days and names.
    holidays = statutory_holidays(table.year) | {d.date: d.name for d in table.holidays}
    adjusted = {d.date: d.name for d in table.workdays}
    return _build_year(table.year, holidays, adjusted, provisional=False)


@cache  # bounded by SUPPORTED_YEARS
def _provisional_year(year: int) -> _Year:
    """A year without the State Council's notice: weekends and the statutory holidays, provisional."""
    return _build_year(year, statutory_holidays(year), {}, provisional=True)


# --------------------------------------------------------------------------- the calendar


class WorkingCalendar:
    """Working days on the official calendar; thread-safe for readers, tables may be loaded at run time."""

    def __init__(self, tables: Iterable[YearTable] = ()):
        self._tables: dict[int, YearTable] = {}
        self._notice_versions: dict[int, int] = {}  # year -> number of the published notice loaded
        self._years: dict[int, _Year] = {}  # library years (built on first use) and loaded tables
        self._lock = threading.Lock()
        for table in tables:
            self.load_year(table)

    # ---- loading

    def load_year(self, table: YearTable) -> None:
        """Add (or replace) an operator table for a year the library does not cover."""
        if table.year not in SUPPORTED_YEARS:
            raise DateOutOfRange(f"{table.year} 年的节假日安排表")
        if table.year in LIBRARY_YEARS:
            raise ValueError(
                f"{table.year} is covered by chinese_calendar ({LIBRARY_YEARS.start}–{LIBRARY_YEARS.stop - 1});"
                " an operator table may not override it"
            )
        built = _table_year(table)
        with self._lock:
            self._tables[table.year] = table
            self._years[table.year] = built

    def load_notice(self, table: YearTable, version: int) -> bool:
        """Load a published notice unless a later one of its year (a higher number) is loaded already;
        announcements may arrive again or out of order. True when it was loaded."""
        with self._lock:
            if self._notice_versions.get(table.year, 0) > version:
                return False
        self.load_year(table)
        with self._lock:
            self._notice_versions[table.year] = max(version, self._notice_versions.get(table.year, 0))
        return True

    def notice_version(self, year: int) -> int | None:
        """The number of the published notice loaded for ``year`` (None: none, maybe an operator file)."""
        return self._notice_versions.get(year)

    def load_directory(self, path: str | os.PathLike[str]) -> int:
        """Load every ``*.json`` table in ``path``; all are validated before any is loaded."""
        directory = Path(path)
        if not directory.is_dir():
            raise FileNotFoundError(f"holiday table directory not found: {directory}")
        tables = [(file, read_year_table(file)) for file in sorted(directory.glob("*.json"))]
        _refuse_repeated_years(tables)
        for _, table in tables:
            self.load_year(table)
        return len(tables)

    def has_year(self, year: int) -> bool:
        """True when the year's holidays are known (library or operator table)."""
        return year in LIBRARY_YEARS or year in self._tables

    def tables(self) -> list[YearTable]:
        """The operator tables loaded, by year."""
        return [self._tables[year] for year in sorted(self._tables)]

    # ---- questions

    def day(self, d: date) -> DayInfo:
        _require_date(d)
        year = self._year(d.year)
        working = year.is_working(d.toordinal())
        return DayInfo(
            date=d, working_day=working, reason=_reason(year, d, working), provisional=year.provisional
        )

    def is_working_day(self, d: date) -> bool:
        _require_date(d)
        return self._year(d.year).is_working(d.toordinal())

    def add_working_days(self, start: date, days: int) -> WorkingDate:
        """The ``days``-th working day strictly after ``start`` (``start`` is day 0)."""
        _require_date(start)
        if days < 0:
            raise ValueError("days must be >= 0")
        if days == 0:
            return WorkingDate(start, provisional=False)
        after = start.toordinal()
        remaining = days
        provisional = False
        year_number = start.year
        while True:
            if year_number not in SUPPORTED_YEARS:
                raise DateOutOfRange(f"自 {start.isoformat()} 起第 {days} 个工作日")
            year = self._year(year_number)
            provisional = provisional or year.provisional
            first = year.working_days_after(after)
            available = len(year.working_ordinals) - first
            if remaining <= available:
                return WorkingDate(
                    date.fromordinal(year.working_ordinals[first + remaining - 1]), provisional
                )
            remaining -= available
            year_number += 1

    def working_days_between(self, start: date, end: date) -> WorkingDayCount:
        """Working days d with start < d <= end."""
        _require_date(start)
        _require_date(end)
        if end <= start:
            return WorkingDayCount(0, provisional=False)
        first_counted = start + timedelta(days=1)
        count = 0
        provisional = False
        for year_number in range(first_counted.year, end.year + 1):
            year = self._year(year_number)
            provisional = provisional or year.provisional
            count += year.working_days_after(end.toordinal()) - year.working_days_after(start.toordinal())
        return WorkingDayCount(count, provisional)

    # ---- internals

    def _year(self, year: int) -> _Year:
        known = self._years.get(year)
        if known is not None:
            return known
        if year in LIBRARY_YEARS:
            with self._lock:
                return self._years.setdefault(year, _library_year(year))
        return _provisional_year(year)


def _require_date(d: object) -> None:
    # A datetime is a date subclass; accepting one would hide a UTC/Shanghai mix-up.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a business date (datetime.date), got {type(d).__name__}")
    if d.year not in SUPPORTED_YEARS:
        raise DateOutOfRange(d.isoformat())


def _reason(year: _Year, d: date, working: bool) -> str:
    if year.provisional:
        return (year.holidays.get(d) or (WORKDAY if working else WEEKEND)) + _PROVISIONAL_NOTE
    if d in year.adjusted_workdays:
        return adjusted_workday_reason(year.adjusted_workdays[d])
    if d in year.holidays:
        return year.holidays[d]
    return WORKDAY if working else WEEKEND


def _refuse_repeated_years(tables: list[tuple[Path, YearTable]]) -> None:
    by_year: dict[int, Path] = {}
    for file, table in tables:
        if table.year in by_year:
            raise ValueError(f"two holiday tables for {table.year}: {by_year[table.year]} and {file}")
        by_year[table.year] = file


# --------------------------------------------------------------------------- process-wide calendar

_default: WorkingCalendar | None = None
_default_lock = threading.Lock()


def default_calendar() -> WorkingCalendar:
    """The process-wide calendar: bundled tables, then those in ``$YB_HOLIDAY_DIR`` (which win)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = _build_default_calendar()
    return _default


def reset_default_calendar() -> None:
    """Forget the process-wide calendar (tests; or after operators add a table)."""
    global _default
    with _default_lock:
        _default = None


def _build_default_calendar() -> WorkingCalendar:
    calendar = WorkingCalendar()
    if BUNDLED_HOLIDAY_DIR.is_dir():
        calendar.load_directory(BUNDLED_HOLIDAY_DIR)
    operator_dir = os.environ.get(HOLIDAY_DIR_ENV)
    if operator_dir:
        calendar.load_directory(operator_dir)
    return calendar
