"""The first journey through the gateway: a resident enrollment is submitted, approved, and the
person becomes eligible for benefits (registration.approved → claims, through RabbitMQ).

The run's database is shared by every e2e test: each test that creates enrollments uses its own
coverage years so the duplicate-enrollment rule (one per person and year) never crosses tests.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.testing.e2e import answer_until, assert_problem, bearer

pytestmark = pytest.mark.e2e

ZHANGSAN_ID = "120101199003071235"
LISI_ID = "120103198511122420"
ENROLL = "/api/v1/registration/enrollments/residents"

# Past coverage years used by this module (paid in their enrollment periods; other modules use the current year).
YEAR_ACCESS = 2005
YEAR_DUPLICATE = 2006
YEAR_IDEMPOTENT = 2007
YEAR_IDEMPOTENT_REUSED = 2008
YEAR_STALE = 2009
YEAR_SELF = 2010
YEAR_OTHER_OFFICE = 2011
YEAR_REJECTED = 2012
YEAR_RACE_APPROVE = 2013
YEAR_RACE_SUBMIT = 2014
YEAR_RACE_KEY = 2015


def current_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


# A year already over is enrolled only as a clerk's late record with the payment papers (registration README).
LATE_RECORD = {"reason": "补登往年参保（已缴费）", "receipts": ["税缴 往年-000001"]}


def enrollment_body(
    id_number: str, name: str, year: int, office: str = "120101", tier: str = "adult_middle"
) -> dict:
    body = {
        "person": {"id_type": "resident_id", "id_number": id_number, "name": name},
        "office_code": office,
        "tier": tier,
        "coverage_year": year,
        "paid_on": f"{year - 1}-10-15",  # in the enrollment period: covered the whole year
        "materials": {"id_document": "original"},  # received at the counter (ignored for self-service)
    }
    return {**body, "late_record": LATE_RECORD} if year < current_year() else body


def submit(gateway: httpx.Client, token: str, body: dict, key: str | None = None) -> httpx.Response:
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return gateway.post(ENROLL, json=body, headers=headers)


def approve(gateway: httpx.Client, token: str, enrollment_id: str, version: int) -> httpx.Response:
    return gateway.post(
        f"/api/v1/registration/enrollments/{enrollment_id}/approve",
        json={"version": version},
        headers=bearer(token),
    )


# --------------------------------------------------------------------------- the journey


def test_resident_enrollment_approved_makes_the_person_eligible(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    year = current_year()
    submitted = submit(gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", year))
    assert submitted.status_code == 201, submitted.text
    enrollment = submitted.json()
    assert enrollment["status"] == "submitted"
    assert enrollment["version"] == 1
    assert enrollment["scheme"] == "resident"
    assert enrollment["tier"] == "adult_middle"
    assert enrollment["office_code"] == "120101"
    assert enrollment["coverage_year"] == year
    assert enrollment["benefit_start"] == f"{year}-01-01"
    assert enrollment["benefit_end"] == f"{year}-12-31"
    assert ZHANGSAN_ID not in submitted.text  # no ID number echoed back (PIPL)

    # The enrollment is zhangsan's: his token's person is the enrollment's person.
    own = gateway.get(
        f"/api/v1/registration/enrollments/{enrollment['id']}", headers=bearer(tokens["zhangsan"])
    )
    assert own.status_code == 200, own.text
    assert own.json()["person_id"] == enrollment["person_id"]

    approved = approve(gateway, tokens["staff-heping"], enrollment["id"], 1)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["version"] == 2
    assert [d["outcome"] for d in body["decisions"]] == ["approved"]
    assert body["decisions"][0]["by"] == "staff-heping"

    def eligible_now(response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        coverage = response.json().get("coverage") or {}
        return response.json()["eligible"] is True and coverage.get("enrollment_id") == enrollment["id"]

    answer = answer_until(
        lambda: gateway.get("/api/v1/claims/eligibility/me", headers=bearer(tokens["zhangsan"])),
        eligible_now,
        "zhangsan's eligibility after the approval",
    ).json()
    assert answer["person_id"] == enrollment["person_id"]
    assert answer["coverage"]["benefit_start"] == f"{year}-01-01"
    assert answer["coverage"]["benefit_end"] == f"{year}-12-31"
    assert answer["coverage"]["office_code"] == "120101"
    assert answer["coverage"]["scheme"] == "resident"
    assert answer["coverage"]["tier"] == "adult_middle"

    # A date outside the benefit period is not covered.
    before = gateway.get(
        "/api/v1/claims/eligibility/me",
        params={"on": f"{year - 1}-12-31"},
        headers=bearer(tokens["zhangsan"]),
    )
    assert before.status_code == 200, before.text
    assert before.json()["eligible"] is False
    assert before.json()["coverage"] is None

    # Object-level access to the person's eligibility.
    path = f"/api/v1/claims/persons/{enrollment['person_id']}/eligibility"
    assert_problem(gateway.get(path, headers=bearer(tokens["lisi"])), 404, "not_found")
    assert_problem(gateway.get(path, headers=bearer(tokens["staff-hexi"])), 404, "not_found")
    for staff in ("staff-heping", "staff-city"):
        seen = gateway.get(path, headers=bearer(tokens[staff]))
        assert seen.status_code == 200, f"{staff}: {seen.text}"
        assert seen.json()["eligible"] is True
        assert seen.json()["coverage"]["enrollment_id"] == enrollment["id"]
    mine = gateway.get(path, headers=bearer(tokens["zhangsan"]))
    assert mine.status_code == 200, mine.text

    # Approved, it still holds the year: a second enrollment is refused.
    again = submit(
        gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", year, tier="adult_high")
    )
    problem = assert_problem(again, 409, "duplicate_enrollment")
    assert problem["existing_enrollment"]["id"] == enrollment["id"]
    assert problem["existing_enrollment"]["status"] == "approved"


def test_lisi_has_no_eligibility_of_his_own(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    assert_problem(
        gateway.get("/api/v1/claims/eligibility/me", headers=bearer(tokens["lisi"])), 404, "not_found"
    )


# --------------------------------------------------------------------------- who may do what


def test_only_staff_of_the_office_may_approve(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    submitted = submit(gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_ACCESS))
    assert submitted.status_code == 201, submitted.text
    enrollment_id = submitted.json()["id"]

    # An insured person may not approve, not even their own enrollment.
    assert_problem(approve(gateway, tokens["zhangsan"], enrollment_id, 1), 403, "forbidden")
    # Another district office does not see the enrollment at all.
    assert_problem(approve(gateway, tokens["staff-hexi"], enrollment_id, 1), 404, "not_found")
    assert_problem(
        gateway.get(
            f"/api/v1/registration/enrollments/{enrollment_id}", headers=bearer(tokens["staff-hexi"])
        ),
        404,
        "not_found",
    )
    # Another insured person does not see it either.
    assert_problem(
        gateway.get(f"/api/v1/registration/enrollments/{enrollment_id}", headers=bearer(tokens["lisi"])),
        404,
        "not_found",
    )
    # None of the refusals changed it.
    current = gateway.get(
        f"/api/v1/registration/enrollments/{enrollment_id}", headers=bearer(tokens["staff-heping"])
    )
    assert current.status_code == 200, current.text
    assert current.json()["status"] == "submitted"
    assert current.json()["version"] == 1
    assert current.json()["decisions"] == []

    # City-level staff see and approve every district's enrollments.
    approved = approve(gateway, tokens["staff-city"], enrollment_id, 1)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decisions"][0]["by"] == "staff-city"


def test_staff_may_not_submit_for_another_office(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    refused = submit(
        gateway,
        tokens["staff-hexi"],
        enrollment_body(ZHANGSAN_ID, "张三", YEAR_OTHER_OFFICE, office="120101"),
    )
    assert_problem(refused, 403, "other_office")
    # Nothing was taken: heping may still enroll him for that year.
    accepted = submit(
        gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_OTHER_OFFICE)
    )
    assert accepted.status_code == 201, accepted.text


def test_second_enrollment_for_the_same_person_and_year_is_refused(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    first = submit(gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_DUPLICATE))
    assert first.status_code == 201, first.text

    # Even at another office (the person moved), and with another tier: one enrollment per year.
    second = submit(
        gateway,
        tokens["staff-hexi"],
        enrollment_body(ZHANGSAN_ID, "张三", YEAR_DUPLICATE, office="120103", tier="adult_low"),
    )
    problem = assert_problem(second, 409, "duplicate_enrollment")
    assert problem["existing_enrollment"]["id"] == first.json()["id"]
    assert problem["existing_enrollment"]["scheme"] == "resident"
    assert problem["existing_enrollment"]["office_code"] == "120101"
    assert problem["existing_enrollment"]["status"] == "submitted"
    assert "城乡居民医保" in problem["detail"]
    assert "120101" in problem["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])


# --------------------------------------------------------------------------- idempotency and versions


def test_same_idempotency_key_replays_the_first_answer(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    key = f"journey-{uuid.uuid4()}"
    body = enrollment_body(ZHANGSAN_ID, "张三", YEAR_IDEMPOTENT)
    first = submit(gateway, tokens["staff-heping"], body, key)
    assert first.status_code == 201, first.text
    assert first.headers.get("Idempotent-Replayed") is None

    second = submit(gateway, tokens["staff-heping"], body, key)
    assert second.status_code == 201, second.text
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.json() == first.json()

    # Without the key, the same request is a new command, refused as a duplicate.
    assert_problem(submit(gateway, tokens["staff-heping"], body), 409, "duplicate_enrollment")


def test_idempotency_key_reused_for_another_request_is_refused(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    key = f"journey-{uuid.uuid4()}"
    first = submit(
        gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_IDEMPOTENT_REUSED), key
    )
    assert first.status_code == 201, first.text

    other = enrollment_body(ZHANGSAN_ID, "张三", YEAR_IDEMPOTENT_REUSED, tier="adult_high")
    problem = assert_problem(
        submit(gateway, tokens["staff-heping"], other, key), 422, "idempotency_key_reused"
    )
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])

    # The first answer is unchanged.
    stored = gateway.get(
        f"/api/v1/registration/enrollments/{first.json()['id']}", headers=bearer(tokens["staff-heping"])
    )
    assert stored.json()["tier"] == "adult_middle"


def test_approving_with_a_stale_version_is_a_conflict(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    submitted = submit(gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_STALE))
    assert submitted.status_code == 201, submitted.text
    enrollment_id = submitted.json()["id"]

    assert_problem(approve(gateway, tokens["staff-heping"], enrollment_id, 7), 409, "version_conflict")

    first = approve(gateway, tokens["staff-heping"], enrollment_id, 1)
    assert first.status_code == 200, first.text
    # A second clerk, still holding version 1, cannot approve it again.
    problem = assert_problem(
        approve(gateway, tokens["staff-city"], enrollment_id, 1), 409, "version_conflict"
    )
    assert problem.get("current_version") == 2

    current = gateway.get(
        f"/api/v1/registration/enrollments/{enrollment_id}", headers=bearer(tokens["staff-heping"])
    )
    assert current.json()["version"] == 2
    assert len(current.json()["decisions"]) == 1


# --------------------------------------------------------------------------- the insured person themselves


def test_insured_person_may_enroll_only_themselves(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    other = submit(gateway, tokens["zhangsan"], enrollment_body(LISI_ID, "李四", YEAR_SELF, office="120103"))
    assert_problem(other, 403, "not_own_identity")

    # A past year is not the app's to backdate: the person's own filing is refused, the clerk records it with the papers.
    own_body = enrollment_body(ZHANGSAN_ID, "张三", YEAR_SELF)
    assert_problem(submit(gateway, tokens["zhangsan"], own_body), 403, "late_record_by_staff")
    without_papers = {k: v for k, v in own_body.items() if k != "late_record"}
    assert_problem(submit(gateway, tokens["zhangsan"], without_papers), 422, "backdated_coverage")
    own = submit(gateway, tokens["staff-heping"], own_body)
    assert own.status_code == 201, own.text
    assert own.json()["status"] == "submitted"
    seen = gateway.get(
        f"/api/v1/registration/enrollments/{own.json()['id']}", headers=bearer(tokens["zhangsan"])
    )
    assert seen.status_code == 200, seen.text

    # Eligibility follows only after approval, for the dates of that year.
    approved = approve(gateway, tokens["staff-heping"], own.json()["id"], 1)
    assert approved.status_code == 200, approved.text
    answer_until(
        lambda: gateway.get(
            "/api/v1/claims/eligibility/me",
            params={"on": f"{YEAR_SELF}-06-01"},
            headers=bearer(tokens["zhangsan"]),
        ),
        lambda r: (
            r.status_code == 200
            and r.json()["eligible"]
            and r.json()["coverage"]["enrollment_id"] == own.json()["id"]
        ),
        f"zhangsan's eligibility on {YEAR_SELF}-06-01",
    )


# --------------------------------------------------------------------------- rejection, and races


def test_a_rejected_enrollment_frees_the_year_and_cannot_be_approved(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    first = submit(gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_REJECTED))
    assert first.status_code == 201, first.text
    rejected = gateway.post(
        f"/api/v1/registration/enrollments/{first.json()['id']}/reject",
        json={"version": 1, "reason": "材料不全，请补充户籍证明"},
        headers=bearer(tokens["staff-heping"]),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decisions"][0]["reason"] == "材料不全，请补充户籍证明"

    assert_problem(approve(gateway, tokens["staff-heping"], first.json()["id"], 2), 409, "invalid_transition")

    # A rejected enrollment does not hold the year: a new one is accepted.
    second = submit(gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_REJECTED))
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]


def test_two_clerks_approving_at_once_only_one_wins(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    submitted = submit(
        gateway, tokens["staff-heping"], enrollment_body(ZHANGSAN_ID, "张三", YEAR_RACE_APPROVE)
    )
    assert submitted.status_code == 201, submitted.text
    enrollment_id = submitted.json()["id"]
    clerks = ["staff-heping", "staff-city"] * 4

    def attempt(clerk: str) -> httpx.Response:
        with httpx.Client(base_url=str(gateway.base_url), timeout=30) as own:
            return approve(own, tokens[clerk], enrollment_id, 1)

    with ThreadPoolExecutor(max_workers=len(clerks)) as pool:
        answers = list(pool.map(attempt, clerks))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (len(clerks) - 1), [(a.status_code, a.text) for a in answers]
    assert all(a.json()["code"] == "version_conflict" for a in answers if a.status_code == 409)
    current = gateway.get(
        f"/api/v1/registration/enrollments/{enrollment_id}", headers=bearer(tokens["staff-heping"])
    )
    assert current.json()["version"] == 2
    assert len(current.json()["decisions"]) == 1


def test_simultaneous_submissions_for_one_person_and_year_make_one_enrollment(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    body = enrollment_body(ZHANGSAN_ID, "张三", YEAR_RACE_SUBMIT)

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=str(gateway.base_url), timeout=30) as own:
            return submit(own, tokens["staff-heping"], body)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(attempt, range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 5, [(a.status_code, a.text) for a in answers]
    winner = next(a.json()["id"] for a in answers if a.status_code == 201)
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "duplicate_enrollment", answer.text
            assert answer.json()["existing_enrollment"]["id"] == winner


def test_simultaneous_retries_with_one_idempotency_key_make_one_enrollment(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    body = enrollment_body(ZHANGSAN_ID, "张三", YEAR_RACE_KEY)
    key = f"journey-race-{uuid.uuid4()}"

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=str(gateway.base_url), timeout=30) as own:
            return submit(own, tokens["staff-heping"], body, key)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(attempt, range(6)))
    assert [a.status_code for a in answers] == [201] * 6, [(a.status_code, a.text) for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
