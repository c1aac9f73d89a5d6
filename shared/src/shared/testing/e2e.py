"""Small helpers for end-to-end tests (importable: test folders are not packages)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from shared.clock import SHANGHAI

T = TypeVar("T")
PROBLEM_JSON = "application/problem+json"


class Answer(Protocol):
    """An HTTP response as httpx and Starlette's test client both give it."""

    status_code: int
    text: str

    @property
    def headers(self) -> Any: ...

    def json(self) -> Any: ...


A = TypeVar("A", bound=Answer)

# Inter-office delivery retried quickly, so a peer coming back is seen within seconds.
FAST_INTEROP = {"YB_TRANSFER_INTEROP_DELIVERY_INTERVAL_S": "0.5", "YB_TRANSFER_INTEROP_RETRY_FIRST_S": "0.5",
                "YB_TRANSFER_INTEROP_RETRY_MAX_S": "2"}  # fmt: skip


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def business_today() -> date:
    """Today in Asia/Shanghai, which is what the platform's clock says (not the machine's UTC date)."""
    return datetime.now(SHANGHAI).date()


def poll(check: Callable[[], T], timeout_s: float = 20, what: str = "condition") -> T:
    """Call `check` until it returns something truthy (events are asynchronous); fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.1)


def answer_until(fetch: Callable[[], A], done: Callable[[A], bool], what: str, timeout_s: float = 20) -> A:
    """Ask again until the answer is `done` (events are asynchronous); fail with the last answer seen."""
    last: A | None = None

    def check() -> A | None:
        nonlocal last
        last = fetch()
        return last if done(last) else None

    try:
        answer = poll(check, timeout_s, what)
        assert answer is not None  # poll returns only a truthy answer
        return answer
    except AssertionError:
        seen = f"{last.status_code} {last.text}" if last is not None else "no answer"
        raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s; last answer: {seen}") from None


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_problem(response: Answer, status: int, code: str | None = None) -> dict[str, Any]:
    """`response` is an RFC 9457 problem: that status, problem+json, a machine code and a Chinese title."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers.get("content-type", "").startswith(PROBLEM_JSON), response.headers.get(
        "content-type"
    )
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status, problem
    assert isinstance(problem.get("code"), str) and problem["code"], problem
    if code is not None:
        assert problem["code"] == code, problem
    assert has_chinese(problem.get("title", "")), f"the title should be Chinese: {problem}"
    return problem


def new_resident_id(district_code: str, rng=None) -> str:  # type: ignore[no-untyped-def]
    """A valid, random resident ID number of that district (GB 11643 check digit)."""
    import random
    from datetime import timedelta

    from stdnum.cn import ric

    rng = rng or random.Random()
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
    body = f"{district_code}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def covered_resident(client, staff_token: str, office_code: str, name: str = "测试居民") -> str:  # type: ignore[no-untyped-def]
    """Enroll and approve a new resident of `office_code` for this year; returns their person id."""
    headers = bearer(staff_token)
    body = {"person": {"id_number": new_resident_id(office_code), "name": name}, "office_code": office_code,
            "tier": "adult_middle", "coverage_year": business_today().year,
            "paid_on": f"{business_today().year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = client.post("/api/v1/registration/enrollments/residents", json=body, headers=headers)
    assert created.status_code == 201, created.text
    approved = client.post(
        f"/api/v1/registration/enrollments/{created.json()['id']}/approve",
        json={"version": 1},
        headers=headers,
    )
    assert approved.status_code == 200, approved.text
    person_id: str = created.json()["person_id"]
    return person_id


# 2021 is over: a clerk records that year with the tax bureau's receipt (a late record), as the counter does.
LATE_RECORD_2021 = {"reason": "补登2021年度参保（已缴费）", "receipts": ["税缴 2020-000001"]}


def covered_in_2021(
    gateway: Any, staff_token: str, office: str, id_number: str, name: str = "参保人", **extra: object
) -> str:
    """A resident covered for 2021 (paid in the autumn 2020 period), approved; the person id once claims knows it."""
    body = {
        "person": {"id_number": id_number, "name": name},
        "office_code": office,
        "tier": "adult_middle",
        "coverage_year": 2021,
        "paid_on": "2020-10-15",
        "materials": {"id_document": "original"},
        "late_record": LATE_RECORD_2021,
        **extra,
    }
    headers = bearer(staff_token)
    created = gateway.post("/api/v1/registration/enrollments/residents", json=body, headers=headers)
    assert created.status_code == 201, created.text
    approve = f"/api/v1/registration/enrollments/{created.json()['id']}/approve"
    approved = gateway.post(approve, json={"version": 1}, headers=headers)
    assert approved.status_code == 200, approved.text
    person: str = created.json()["person_id"]
    eligibility = f"/api/v1/claims/persons/{person}/eligibility"
    poll(
        lambda: gateway.get(eligibility, params={"on": "2021-05-15"}, headers=headers).json().get("eligible"),
        what="claims to record the 2021 coverage",
    )
    return person
