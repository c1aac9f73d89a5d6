"""Holiday notices as administered data: drafted by one admin, published by a second, loaded by the calendar.

The app runs in this process, so its calendar is this process's: each test uses a year nobody else does
(2031–2033) and the calendar is forgotten afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from shared.auth import Role
from shared.calendar import default_calendar, reset_default_calendar
from shared.testing.service_app import in_schema
from svc_claims.usecases.holiday_notices import announce_published

pytestmark = pytest.mark.integration

API = "/api/v1/claims/calendar/notices"


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    reset_default_calendar()
    yield
    reset_default_calendar()


def notice(year: int, **extra: object) -> dict:
    """A notice in the State Council's usual shape: New Year's Day with a bridging Monday and a Sunday worked."""
    new_year_monday = next(date(year, 1, d) for d in range(2, 9) if date(year, 1, d).weekday() == 0)
    worked_sunday = next(date(year, 1, d) for d in range(9, 16) if date(year, 1, d).weekday() == 6)
    return {
        "year": year,
        "source": f"国办发明电〔{year - 1}〕7号（测试）",
        "holidays": [{"date": new_year_monday.isoformat(), "name": "元旦"}],
        "workdays": [{"date": worked_sunday.isoformat(), "name": "元旦"}],
        **extra,
    }


def admin(claims, name: str) -> dict:  # type: ignore[no-untyped-def]
    return claims.token(Role.admin, subject=name)


def draft(claims, document: dict, by: str = "admin-a") -> dict:  # type: ignore[no-untyped-def]
    drafted = claims.client.post(API, json=document, headers=admin(claims, by))
    assert drafted.status_code == 201, drafted.text
    return drafted.json()


def publish(claims, notice_id: str, by: str = "admin-b"):  # type: ignore[no-untyped-def]
    return claims.client.post(
        f"{API}/{notice_id}/publish", json={"note": "与通知原文核对无误"}, headers=admin(claims, by)
    )


def test_an_invalid_notice_is_refused_with_every_error_at_once(claims) -> None:  # type: ignore[no-untyped-def]
    bad = {
        "year": 2026,  # built into the calendar
        "holidays": [{"date": "2026-10-08", "name": "国庆节"}, {"date": "2026-10-08", "name": "国庆节"}],
        "workdays": [{"date": "2026-10-09", "name": "国庆节"}],  # a Friday: not an adjusted weekend day
        "sourse": "typo",
    }
    answer = claims.client.post(API, json=bad, headers=admin(claims, "admin-a"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == "invalid_holiday_notice"
    fields = [e["field"] for e in problem["errors"]]
    assert {"year", "source", "sourse"} <= set(fields)
    assert answer.json()["detail"] == f"共 {len(fields)} 处错误"
    # Once the fields are right, every consistency problem is listed together, one entry each.
    inconsistent = {**notice(2031), "workdays": [{"date": "2031-01-03", "name": "元旦"}, {"date": "2030-12-29", "name": "x"}],
                    "holidays": [{"date": "2031-01-06", "name": "元旦"}, {"date": "2031-01-06", "name": "元旦"}]}  # fmt: skip
    messages = [
        e["message"]
        for e in claims.client.post(API, json=inconsistent, headers=admin(claims, "admin-a")).json()["errors"]
    ]
    assert any("outside 2031" in m for m in messages) and any("duplicated holidays" in m for m in messages)
    assert any("weekend" in m for m in messages)
    listed = claims.client.get(API, params={"year": 2031}, headers=admin(claims, "admin-a")).json()["items"]
    assert listed == []  # nothing was drafted


def test_one_admin_alone_cannot_publish_and_a_clerk_can_neither_draft_nor_see_drafts(claims) -> None:  # type: ignore[no-untyped-def]
    drafted = draft(claims, notice(2032))
    own = publish(claims, drafted["id"], by="admin-a")
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    clerk = claims.token(Role.staff)
    assert claims.client.post(API, json=notice(2032), headers=clerk).status_code == 403
    assert claims.client.post(f"{API}/{drafted['id']}/publish", headers=clerk).status_code == 403
    assert claims.client.get(f"{API}/{drafted['id']}", headers=clerk).status_code == 404
    assert drafted["id"] not in [
        n["id"] for n in claims.client.get(API, params={"status": "draft"}, headers=clerk).json()["items"]
    ]
    assert default_calendar().day(date(2032, 1, 1)).provisional is True  # a draft changes nothing


def test_a_published_notice_makes_its_year_exact_and_is_announced_to_every_service(  # type: ignore[no-untyped-def]
    claims, migrated_database: str
) -> None:
    calendar = default_calendar()
    document = notice(2033)
    bridging, worked = (
        date.fromisoformat(document["holidays"][0]["date"]),
        date.fromisoformat(document["workdays"][0]["date"]),
    )
    assert calendar.day(date(2033, 1, 1)).provisional is True
    assert calendar.is_working_day(bridging) and not calendar.is_working_day(worked)

    drafted = draft(claims, document)
    published = publish(claims, drafted["id"])
    assert published.status_code == 200, published.text
    body = published.json()
    assert (body["status"], body["version"], body["drafted_by"], body["published_by"]) == (
        "published",
        1,
        "admin-a",
        "admin-b",
    )
    assert body["reviewed_by"] == "admin-b" and body["review_note"] == "与通知原文核对无误"

    new_year = calendar.day(date(2033, 1, 1))
    assert (new_year.working_day, new_year.provisional, new_year.reason) == (False, False, "元旦")
    assert not calendar.is_working_day(bridging) and calendar.is_working_day(worked)
    assert calendar.day(date(2033, 1, 31)).working_day is False  # Spring Festival's eve, statutory, now exact

    again = publish(claims, drafted["id"], by="admin-c")
    assert again.status_code == 409 and again.json()["code"] == "not_a_draft"
    seen_by_clerk = claims.client.get(API, params={"year": 2033}, headers=claims.token(Role.staff)).json()[
        "items"
    ]
    assert [n["id"] for n in seen_by_clerk] == [drafted["id"]]

    async def announcements(uow) -> list:  # type: ignore[no-untyped-def]
        rows = await uow.session.execute(text(
            "SELECT envelope->'payload' FROM outbox WHERE event_type = 'calendar.notice_published'"
            " AND envelope->'payload'->>'notice_id' = :id"), {"id": drafted["id"]})  # fmt: skip
        return [payload for (payload,) in rows]

    at = datetime(2026, 12, 6, tzinfo=UTC)
    # (Answers to processes asking as they start may add announcements at any time: count, don't pin.)
    announced, *_ = first = asyncio.run(in_schema(migrated_database, "claims", announcements, at))
    assert (announced["year"], announced["version"], announced["published_by"]) == (2033, 1, "admin-b")
    assert announced["holidays"] == document["holidays"] and announced["workdays"] == document["workdays"]

    # Announced again (at start, and hourly), so a process started since learns it; its own calendar loads it.
    reset_default_calendar()
    assert asyncio.run(in_schema(migrated_database, "claims", announce_published, at)) >= 1
    assert default_calendar().day(date(2033, 1, 1)).provisional is False
    assert len(asyncio.run(in_schema(migrated_database, "claims", announcements, at))) >= len(first) + 1


def test_a_published_notice_can_be_neither_changed_nor_deleted(claims, migrated_database: str) -> None:  # type: ignore[no-untyped-def]
    drafted = draft(claims, notice(2034))
    assert publish(claims, drafted["id"]).status_code == 200

    for statement in (
        "UPDATE holiday_notices SET source = 'x' WHERE id = :id",
        "DELETE FROM holiday_notices WHERE id = :id",
    ):

        async def tamper(uow, statement: str = statement) -> None:  # type: ignore[no-untyped-def]
            await uow.session.execute(text(statement), {"id": drafted["id"]})

        with pytest.raises(Exception, match="immutable"):
            asyncio.run(in_schema(migrated_database, "claims", tamper, datetime(2026, 12, 6, tzinfo=UTC)))


def test_a_correction_is_the_next_number_of_its_year_and_wins(claims) -> None:  # type: ignore[no-untyped-def]
    first = draft(claims, notice(2035))
    assert publish(claims, first["id"]).json()["version"] == 1
    correction = {
        **notice(2035),
        "holidays": [*notice(2035)["holidays"], {"date": "2035-01-12", "name": "测试补休"}],
    }
    second = draft(claims, correction, by="admin-c")
    assert publish(claims, second["id"], by="admin-a").json()["version"] == 2
    assert default_calendar().notice_version(2035) == 2
    assert default_calendar().is_working_day(date(2035, 1, 12)) is False


def test_the_published_notices_are_public_the_latest_of_each_year(claims) -> None:  # type: ignore[no-untyped-def]
    first = draft(claims, notice(2036))
    assert publish(claims, first["id"]).status_code == 200
    later = draft(claims, {**notice(2036), "source": "更正（测试）"}, by="admin-c")
    assert publish(claims, later["id"], by="admin-a").status_code == 200
    draft(claims, notice(2037))  # a draft is not public
    answer = claims.client.get(f"{API}/published")  # no token: the notices are public documents
    assert answer.status_code == 200, answer.text
    by_year = {n["year"]: n for n in answer.json()["items"]}
    assert 2037 not in by_year
    assert (by_year[2036]["version"], by_year[2036]["source"]) == (2, "更正（测试）")
    assert by_year[2036]["holidays"] == notice(2036)["holidays"]
