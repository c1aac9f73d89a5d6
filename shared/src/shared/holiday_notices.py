"""The State Council's yearly holiday notice, from the admin who publishes it to every service's calendar.

svc-claims owns the notices (drafted by one admin, published by another, immutable once published) and
announces each published one with ``calendar.notice_published`` — at publication and again periodically,
so a process started since still learns it. Every service subscribes with ``SUBSCRIPTION``: the handler
loads the year into the process-wide calendar (``shared.calendar.default_calendar``), where a year
without a notice counts weekends and the statutory holidays only, provisionally. Each service's own
path for provisional due dates then recomputes them (claims' periodic job; facility and transfer when a
clock is read), exactly as for an operator's file.

``notice_table`` is the one validation of a notice document, for the API and the command line: every
error is listed at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shared.calendar import LIBRARY_YEARS, SUPPORTED_YEARS, NamedDay, YearTable, default_calendar
from shared.db import UnitOfWork
from shared.errors import Invalid
from shared.events.catalog import CalendarDay, CalendarNoticePublishedV1
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope


class NoticeInvalid(Invalid):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(
            "invalid_holiday_notice", "节假日安排通知不合规", f"共 {len(errors)} 处错误", errors=errors
        )


def notice_problems(document: object) -> list[dict[str, Any]]:
    """Every error of a notice document ({"field", "message"} each); empty when it can be drafted."""
    if not isinstance(document, dict):
        return [{"field": "", "message": "节假日安排通知必须是 JSON 对象"}]
    problems = _year_problems(document.get("year"))
    if not str(document.get("source") or "").strip():
        problems.append({"field": "source", "message": "须写明通知的文号（如 国办发明电〔2026〕7号）"})
    try:
        YearTable.model_validate(document)
    except ValidationError as exc:
        problems += [problem for error in exc.errors() for problem in _problems_of(error)]
    return problems


def notice_table(document: object) -> YearTable:
    """The year's table of a notice document, or NoticeInvalid listing all its errors."""
    problems = notice_problems(document)
    if problems:
        raise NoticeInvalid(problems)
    return YearTable.model_validate(document)


def _year_problems(year: object) -> list[dict[str, Any]]:
    if not isinstance(year, int) or isinstance(year, bool):
        return []  # the model says what is wrong with it
    first, last = SUPPORTED_YEARS.start, SUPPORTED_YEARS.stop - 1
    if year not in SUPPORTED_YEARS:
        return [{"field": "year", "message": f"工作日历支持 {first}–{last} 年"}]
    if year in LIBRARY_YEARS:
        return [{"field": "year", "message": f"{year} 年的节假日安排已内置（{LIBRARY_YEARS.start}–{LIBRARY_YEARS.stop - 1}），不能另行发布"}]  # fmt: skip
    return []


def _problems_of(error: Any) -> list[dict[str, Any]]:
    field = ".".join(str(part) for part in error["loc"])
    if field or "error" not in error.get("ctx", {}):
        return [{"field": field, "message": error["msg"]}]
    # The table's consistency check lists its problems together: one entry each.
    return [{"field": "", "message": message} for message in str(error["ctx"]["error"]).split("; ")]


# --------------------------------------------------------------------------- the announcement


def announcement(
    notice_id: Any, table: YearTable, version: int, published_by: str
) -> CalendarNoticePublishedV1:
    return CalendarNoticePublishedV1(
        notice_id=notice_id, year=table.year, version=version, source=table.source, published_by=published_by,
        holidays=[CalendarDay(date=d.date, name=d.name) for d in table.holidays],
        workdays=[CalendarDay(date=d.date, name=d.name) for d in table.workdays],
    )  # fmt: skip


def table_of(notice: CalendarNoticePublishedV1) -> YearTable:
    return YearTable(
        year=notice.year, source=notice.source,
        holidays=[NamedDay(date=d.date, name=d.name) for d in notice.holidays],
        workdays=[NamedDay(date=d.date, name=d.name) for d in notice.workdays],
    )  # fmt: skip


async def load_published_notice(
    uow: UnitOfWork, envelope: Envelope, notice: CalendarNoticePublishedV1
) -> None:
    """A published notice into this process's calendar (a later notice of the year is kept if loaded)."""
    default_calendar().load_notice(table_of(notice), notice.version)


SUBSCRIPTION = Subscription(CalendarNoticePublishedV1, load_published_notice)
