"""A published holiday notice reaches a process's calendar: loaded by the subscription's handler, a later notice
of the year kept when an older announcement arrives again, and a notice document checked whole."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, cast

import pytest

from shared.calendar import WorkingCalendar, YearTable, default_calendar, reset_default_calendar
from shared.errors import Invalid
from shared.holiday_notices import (
    SUBSCRIPTION,
    announcement,
    load_published_notice,
    notice_problems,
    notice_table,
)

DOCUMENT = {
    "year": 2029,
    "source": "国办发明电〔2028〕（示例）",
    "holidays": [{"date": "2029-01-02", "name": "元旦"}],
    "workdays": [{"date": "2029-01-06", "name": "元旦"}],
}


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    reset_default_calendar()
    yield
    reset_default_calendar()


def test_the_subscription_loads_an_announced_notice_into_this_processs_calendar() -> None:
    assert SUBSCRIPTION.event_type == "calendar.notice_published"
    notice = announcement(uuid.uuid4(), notice_table(DOCUMENT), 1, "admin-b")
    assert default_calendar().day(date(2029, 1, 2)).working_day is True  # provisional: a Tuesday
    asyncio.run(load_published_notice(cast(Any, None), cast(Any, None), notice))
    tuesday, sunday = default_calendar().day(date(2029, 1, 2)), default_calendar().day(date(2029, 1, 6))
    assert (tuesday.working_day, tuesday.provisional, tuesday.reason) == (False, False, "元旦")
    assert (sunday.working_day, sunday.reason) == (True, "调休上班（元旦）")


def test_an_older_announcement_arriving_late_does_not_replace_a_correction() -> None:
    calendar = WorkingCalendar()
    correction = YearTable.model_validate(
        {**DOCUMENT, "holidays": [*DOCUMENT["holidays"], {"date": "2029-01-03", "name": "元旦"}]}
    )  # type: ignore[list-item]
    assert calendar.load_notice(correction, 2) is True
    assert calendar.load_notice(notice_table(DOCUMENT), 1) is False
    assert calendar.notice_version(2029) == 2 and calendar.is_working_day(date(2029, 1, 3)) is False
    assert calendar.load_notice(notice_table(DOCUMENT), 2) is True  # the same number again: announced again


def test_a_notice_document_is_checked_whole() -> None:
    problems = notice_problems({"year": 2020, "holidays": "none", "workdays": [], "extra": True})
    assert {p["field"] for p in problems} == {"year", "source", "holidays", "extra"}
    assert notice_problems([]) == [{"field": "", "message": "节假日安排通知必须是 JSON 对象"}]
    with pytest.raises(Invalid) as refused:
        notice_table({**DOCUMENT, "year": 2101})
    assert refused.value.code == "invalid_holiday_notice" and refused.value.errors
