"""“我的业务” through the gateway: one view of an insured person's cases across the services, its changes
since a cursor, and the same changes as server-sent events; only the caller's own cases, never another's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from shared.auth import Principal, Role
from shared.testing.e2e import assert_problem, bearer, business_today, new_resident_id
from shared.testing.tokens import listed_token
from yb_deploy.platform import PlatformConfig

ME = "/api/v1/me/cases"
OFFICE = "120101"


def submitted_enrollment(gateway: httpx.Client, clerk: dict[str, str]) -> dict:
    """A resident's enrollment for this year, filed at the counter and not yet approved."""
    body = {"person": {"id_number": new_resident_id(OFFICE), "name": "我的业务"}, "office_code": OFFICE,
            "tier": "adult_middle", "coverage_year": business_today().year,
            "paid_on": f"{business_today().year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = gateway.post("/api/v1/registration/enrollments/residents", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    enrollment: dict = created.json()
    return enrollment


def person_token(platform: PlatformConfig, person_id: str) -> dict[str, str]:
    principal = Principal(subject=f"app-{person_id[:8]}", role=Role.insured, person_id=uuid.UUID(person_id))
    return bearer(listed_token(platform.keys_dir, principal))


@pytest.fixture(scope="module")
def clerk(tokens: dict[str, str]) -> dict[str, str]:
    return bearer(tokens["staff-heping"])


def approve(gateway: httpx.Client, clerk: dict[str, str], enrollment: dict) -> None:
    approved = gateway.post(f"/api/v1/registration/enrollments/{enrollment['id']}/approve",
                            json={"version": enrollment["version"]}, headers=clerk)  # fmt: skip
    assert approved.status_code == 200, approved.text


def test_a_person_sees_their_own_cases_with_status_and_due_date_and_never_anothers(
    gateway: httpx.Client, platform: PlatformConfig, clerk: dict[str, str]
) -> None:
    mine, theirs = submitted_enrollment(gateway, clerk), submitted_enrollment(gateway, clerk)
    approve(gateway, clerk, mine)
    view = gateway.get(ME, headers=person_token(platform, mine["person_id"]))
    assert view.status_code == 200, view.text
    body = view.json()
    assert {"items", "total", "page", "size", "cursor"} <= set(body) and body["unavailable"] == []
    [enrollment] = [case for case in body["items"] if case["kind"] == "enrollment"]
    benefit_end = gateway.get(f"/api/v1/registration/enrollments/{mine['id']}", headers=clerk).json()[
        "benefit_end"
    ]
    assert enrollment == {
        "kind": "enrollment", "title": "参保登记", "id": mine["id"], "status": "approved", "version": 2,
        "due_on": benefit_end, "due_label": "待遇享受期截止（此前续缴）",
        "link": f"/api/v1/registration/enrollments/{mine['id']}",
    }  # fmt: skip
    assert body["total"] == len(body["items"]) == 1
    others = gateway.get(ME, headers=person_token(platform, theirs["person_id"])).json()["items"]
    assert [(c["id"], c["status"]) for c in others] == [(theirs["id"], "submitted")]
    assert mine["id"] not in json.dumps(others)


def test_only_an_insured_person_with_a_token_has_my_cases(
    gateway: httpx.Client, clerk: dict[str, str]
) -> None:
    assert_problem(gateway.get(ME), 401, "unauthenticated")
    assert_problem(gateway.get(ME, headers=clerk), 403)
    assert_problem(gateway.get(f"{ME}/changes", headers=clerk), 403)


def test_the_changes_since_a_cursor_name_what_changed_and_then_nothing(
    gateway: httpx.Client, platform: PlatformConfig, clerk: dict[str, str]
) -> None:
    enrollment = submitted_enrollment(gateway, clerk)
    app = person_token(platform, enrollment["person_id"])
    first = gateway.get(f"{ME}/changes", headers=app).json()
    assert [(c["change"], c["key"], c["case"]["status"]) for c in first["items"]] == [
        ("new", f"enrollment:{enrollment['id']}", "submitted")
    ]
    assert gateway.get(f"{ME}/changes", params={"since": first["cursor"]}, headers=app).json()["items"] == []
    approve(gateway, clerk, enrollment)
    changed = gateway.get(f"{ME}/changes", params={"since": first["cursor"]}, headers=app).json()
    assert [(c["change"], c["case"]["status"]) for c in changed["items"]] == [("changed", "approved")]
    assert (
        gateway.get(f"{ME}/changes", params={"since": changed["cursor"]}, headers=app).json()["items"] == []
    )
    # The view's cursor is the same summary as the feed's.
    assert gateway.get(f"{ME}/changes", params={"since": gateway.get(ME, headers=app).json()["cursor"]},
                       headers=app).json()["items"] == []  # fmt: skip


def test_a_cursor_that_is_not_one_is_refused_and_changes_nothing(
    gateway: httpx.Client, platform: PlatformConfig, clerk: dict[str, str]
) -> None:
    app = person_token(platform, submitted_enrollment(gateway, clerk)["person_id"])
    for junk in ("not-a-cursor", "eJzLSM3JyQcABiwCFQ", "A" * 20_000):
        problem = assert_problem(gateway.get(f"{ME}/changes", params={"since": junk}, headers=app), 422)
        assert problem["code"] in ("invalid_cursor", "validation_failed"), problem


def events(stream: httpx.Response) -> Iterator[dict[str, str]]:
    """Server-sent events as {field: value}; comments come as {"comment": text}."""
    event: dict[str, str] = {}
    for line in stream.iter_lines():
        if line == "":
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            event[field] = value.lstrip(" ")


def test_an_app_subscribed_to_events_is_told_of_a_change_and_resumes_without_repeats(
    gateway: httpx.Client, platform: PlatformConfig, clerk: dict[str, str]
) -> None:
    enrollment = submitted_enrollment(gateway, clerk)
    app = person_token(platform, enrollment["person_id"])
    cursor = gateway.get(ME, headers=app).json()["cursor"]
    approve(gateway, clerk, enrollment)
    with gateway.stream("GET", f"{ME}/events", params={"since": cursor}, headers=app) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        received = events(stream)
        assert next(received)["retry"]
        told = next(received)
    assert told["event"] == "case" and told["id"]
    change = json.loads(told["data"])
    assert (change["change"], change["key"], change["case"]["status"]) == (
        "changed", f"enrollment:{enrollment['id']}", "approved"
    )  # fmt: skip
    resumed = {**app, "Last-Event-ID": told["id"]}
    with gateway.stream("GET", f"{ME}/events", headers=resumed) as stream:
        received = events(stream)
        next(received)  # retry
        assert next(received) == {"comment": "nothing new"}
