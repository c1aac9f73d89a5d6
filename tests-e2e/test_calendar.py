"""The working-day calendar through the gateway: public (no token), problem+json on bad input."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e

PROBLEM_JSON = "application/problem+json"


def day(gateway: httpx.Client, iso: str) -> dict:
    response = gateway.get(f"/api/v1/calendar/days/{iso}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def add(gateway: httpx.Client, **params: object) -> httpx.Response:
    return gateway.get("/api/v1/calendar/add-working-days", params=params)


def assert_problem(response: httpx.Response, status: int, field_part: str | None = None) -> dict:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers.get("content-type", "").startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status
    assert problem["code"] == "validation_failed"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])
    if field_part is not None:
        assert any(field_part in e["field"] for e in problem["errors"]), problem
    return problem


def test_adjusted_saturday_is_a_working_day(gateway: httpx.Client) -> None:
    answer = day(gateway, "2026-10-10")
    assert answer == {
        "date": "2026-10-10",
        "working_day": True,
        "reason": answer["reason"],
        "provisional": False,
    }
    assert "国庆" in answer["reason"]


def test_national_day_is_a_holiday(gateway: httpx.Client) -> None:
    answer = day(gateway, "2026-10-01")
    assert answer["working_day"] is False
    assert answer["provisional"] is False
    assert answer["reason"] == "国庆节"


def test_ordinary_days(gateway: httpx.Client) -> None:
    assert day(gateway, "2026-10-12")["working_day"] is True  # Monday
    saturday = day(gateway, "2026-10-17")
    assert saturday["working_day"] is False
    assert saturday["reason"] == "周末"


# Years without a notice here are 2031 on: test_holiday_notices.py publishes 2027's during the run (and checks 2027
# before it), so these answers do not depend on the order the files run in.


def test_a_year_without_a_table_is_provisional(gateway: httpx.Client) -> None:
    answer = day(gateway, "2031-03-05")
    assert answer["provisional"] is True
    assert answer["working_day"] is True  # a Wednesday, no statutory holiday


def test_new_year_and_the_spring_festival_are_provisional_holidays_before_the_notice(
    gateway: httpx.Client,
) -> None:
    answer = day(gateway, "2031-01-01")
    assert (answer["working_day"], answer["provisional"]) == (False, True)
    assert answer["reason"].startswith("元旦")
    # 除夕 2031-01-22 (a Wednesday) to 初三 01-25; the 21st and the Monday after are working days.
    assert [day(gateway, f"2031-01-{d}")["working_day"] for d in (21, 22, 23, 24, 25, 27)] == [
        True,
        False,
        False,
        False,
        False,
        True,
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/calendar/add-working-days?start=9999-12-31&days=1",
        "/api/v1/calendar/add-working-days?start=2100-12-30&days=5",
        "/api/v1/calendar/days/9999-12-31",
        "/api/v1/calendar/days/1990-01-01",
    ],
)
def test_a_date_outside_the_supported_range_is_a_422_problem(gateway: httpx.Client, path: str) -> None:
    response = gateway.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["code"] == "date_out_of_range"
    assert "2004–2100" in problem["detail"]


def test_add_working_days_across_the_national_day_holiday(gateway: httpx.Client) -> None:
    response = add(gateway, start="2026-09-28", days=5)
    assert response.status_code == 200, response.text
    assert response.json() == {"date": "2026-10-10", "provisional": False}


def test_add_zero_working_days_is_the_start(gateway: httpx.Client) -> None:
    response = add(gateway, start="2026-10-01", days=0)
    assert response.status_code == 200, response.text
    assert response.json()["date"] == "2026-10-01"


def test_deadline_reaching_an_unpublished_year_is_provisional(gateway: httpx.Client) -> None:
    response = add(gateway, start="2030-12-28", days=10)
    assert response.status_code == 200, response.text
    assert response.json()["provisional"] is True


def test_deadline_within_a_published_year_is_not_provisional(gateway: httpx.Client) -> None:
    response = add(gateway, start="2026-12-01", days=3)
    assert response.status_code == 200, response.text
    assert response.json() == {"date": "2026-12-04", "provisional": False}


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-02-30", "yesterday", "20261010"])
def test_bad_date_is_422(gateway: httpx.Client, bad: str) -> None:
    assert_problem(gateway.get(f"/api/v1/calendar/days/{bad}"), 422, "day")


@pytest.mark.parametrize(
    ("params", "field_part"),
    [
        ({"start": "2026-09-28", "days": -1}, "days"),
        ({"start": "2026-09-28"}, "days"),
        ({"start": "2026-09-28", "days": "five"}, "days"),
        ({"start": "2026-09-28", "days": 10**9}, "days"),
        ({"start": "2026-13-01", "days": 5}, "start"),
        ({"days": 5}, "start"),
    ],
)
def test_bad_add_working_days_is_422(gateway: httpx.Client, params: dict, field_part: str) -> None:
    assert_problem(add(gateway, **params), 422, field_part)


def test_calendar_needs_no_token_and_carries_request_ids(gateway: httpx.Client) -> None:
    response = gateway.get(
        "/api/v1/calendar/days/2026-10-10", headers={"Authorization": "Bearer not-checked-here"}
    )
    assert response.status_code == 200
    assert response.headers.get("x-request-id")
