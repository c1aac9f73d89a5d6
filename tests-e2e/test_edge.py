"""The platform's edge as a hostile caller meets it, through the running gateway: sign-in lockout,
admin endpoints that authorise before reading, no redirect to an internal address, security
headers on pages, /metrics closed to callers that come through a proxy, no token valid for years."""

from __future__ import annotations

import httpx
import pytest

from shared.auth import Principal, Role
from shared.auth.issuer import DevIssuer
from shared.testing.e2e import assert_problem, bearer
from yb_deploy.platform import PlatformConfig

pytestmark = pytest.mark.e2e

ISSUER, AUDIENCE = "https://auth.yibao.local", "yibao-platform"


def test_guessing_a_password_locks_the_name_and_says_when_to_retry(gateway: httpx.Client) -> None:
    answers = [
        gateway.post("/api/v1/auth/token", data={"username": "edge-guessed", "password": f"guess-{n}"})
        for n in range(6)
    ]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert_problem(answers[5], 429, "signin_locked")
    assert int(answers[5].headers["retry-after"]) >= 1


def test_an_anonymous_body_for_the_platform_business_date_is_never_read(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    assert_problem(gateway.put("/api/v1/admin/business-date", content=big, headers={"Content-Type": "application/json"}),
                   401, "unauthenticated")  # fmt: skip
    assert_problem(gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=bearer(tokens["staff-heping"])),
                   403, "forbidden")  # fmt: skip


def test_a_trailing_slash_on_a_service_path_does_not_lead_to_an_internal_address(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    answer = gateway.get("/api/v1/registration/enrollments/", headers=bearer(tokens["staff-heping"]))
    location = answer.headers.get("location", "")
    assert "127.0.0.1" not in location and "localhost" not in location, answer.headers
    assert not location.startswith("http"), location


@pytest.mark.parametrize("page", ["/ops", "/docs"])
def test_pages_carry_security_headers(gateway: httpx.Client, page: str) -> None:
    answer = gateway.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert (answer.headers["x-frame-options"], answer.headers["x-content-type-options"], answer.headers["referrer-policy"]) == (
        "DENY", "nosniff", "no-referrer",
    )  # fmt: skip


def test_metrics_and_detailed_health_are_closed_to_callers_coming_through_a_proxy(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    through_ingress = {"X-Forwarded-For": "203.0.113.50"}
    assert gateway.get("/metrics", headers=through_ingress).status_code == 404
    assert gateway.get("/health", headers=through_ingress).status_code == 404
    assert gateway.get("/metrics", headers={**through_ingress, **bearer(tokens["ops"])}).status_code == 200
    assert gateway.get("/health/live", headers=through_ingress).status_code == 200


def test_a_ten_year_token_signed_with_the_platform_key_is_refused(
    platform: PlatformConfig, gateway: httpx.Client
) -> None:
    issuer = DevIssuer.load_or_create(platform.keys_dir, ISSUER, AUDIENCE)
    clerk = Principal(subject="staff-heping", role=Role.staff, office_code="120101", office_level="district",
                      token_version=0)  # the demo account as listed: only the lifetime is wrong  # fmt: skip
    decade = issuer.issue(clerk, ttl_s=10 * 365 * 86400)
    assert_problem(
        gateway.get("/api/v1/registration/enrollments", headers=bearer(decade)), 401, "unauthenticated"
    )


def test_a_session_token_names_nobody_and_is_refreshed(gateway: httpx.Client) -> None:
    import jwt

    signed_in = gateway.post("/api/v1/auth/token", data={"username": "lisi", "password": "Demo@2026"}).json()
    assert "name" not in jwt.decode(signed_in["access_token"], options={"verify_signature": False})
    refreshed = gateway.post("/api/v1/auth/refresh", data={"refresh_token": signed_in["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert (
        gateway.get("/api/v1/auth/me", headers=bearer(refreshed.json()["access_token"])).json()["subject"]
        == "lisi"
    )
