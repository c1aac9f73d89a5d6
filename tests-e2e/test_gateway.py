"""The gateway's own surface: health, merged OpenAPI, docs, metrics, ids, login, unknown routes."""

from __future__ import annotations

import uuid

import httpx
import pytest

from shared.testing.e2e import assert_problem, bearer

pytestmark = pytest.mark.e2e

SERVICES = {"registration", "claims", "settlement", "transfer", "facility"}


# --------------------------------------------------------------------------- health


def test_health_reports_every_service_ready_with_its_checks(gateway: httpx.Client) -> None:
    response = gateway.get("/health")
    assert response.status_code == 200, response.text
    health = response.json()
    assert health["status"] == "ready"
    assert set(health["services"]) == SERVICES
    for name, service in health["services"].items():
        assert service["ready"] is True, f"{name}: {service}"
        assert service["replicas"], f"{name} has no replica listed"
        for replica in service["replicas"]:
            assert replica["ready"] is True, f"{name}: {replica}"
            checks = replica["checks"]
            assert set(checks) >= {"database", "broker", "outbox"}, f"{name}: {checks}"
            assert all(check["ok"] is True for check in checks.values()), f"{name}: {checks}"
            assert isinstance(checks["outbox"]["backlog"], int)


def test_liveness(gateway: httpx.Client) -> None:
    response = gateway.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --------------------------------------------------------------------------- OpenAPI and docs


@pytest.fixture(scope="module")
def merged(gateway: httpx.Client) -> dict:
    response = gateway.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def test_openapi_merges_the_services_paths(merged: dict) -> None:
    paths = merged["paths"]
    assert "post" in paths["/api/v1/registration/enrollments/residents"]
    assert "post" in paths["/api/v1/registration/enrollments/{enrollment_id}/approve"]
    assert "get" in paths["/api/v1/claims/eligibility/me"]
    assert "get" in paths["/api/v1/claims/persons/{person_id}/eligibility"]
    assert "get" in paths["/api/v1/calendar/days/{day}"]
    assert "post" in paths["/api/v1/auth/token"]
    assert merged["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_schema_reference_resolves(merged: dict) -> None:
    schemas = merged["components"]["schemas"]
    assert "EnrollmentOut" in schemas and "EligibilityOut" in schemas and "DayOut" in schemas
    missing = {ref for ref in _refs(merged) if ref.rsplit("/", 1)[-1] not in schemas}
    assert not missing, f"dangling $refs: {missing}"


def test_every_documented_path_is_served_at_the_gateway(merged: dict, gateway: httpx.Client) -> None:
    """The merged document describes the gateway: a path it lists must not be a 404 there."""
    missing = []
    for path, operations in merged["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        response = gateway.get(path)
        if response.status_code == 404:
            missing.append(path)
    assert not missing, f"documented at the gateway but not served there: {missing}"


def test_docs_page(gateway: httpx.Client) -> None:
    response = gateway.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text


# --------------------------------------------------------------------------- metrics


def test_metrics_in_prometheus_text(gateway: httpx.Client) -> None:
    gateway.get("/api/v1/calendar/days/2026-10-10")
    response = gateway.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE yb_http_request_duration_seconds histogram" in response.text
    assert (
        'yb_http_request_duration_seconds_count{method="GET",route="/api/v1/calendar/days/{day}",service="gateway"'
        in response.text
    )


# --------------------------------------------------------------------------- request and correlation ids


def _requests(tokens: dict[str, str]) -> dict[str, tuple[str, str, dict]]:
    return {
        "gateway endpoint": ("GET", "/health/live", {}),
        "calendar": ("GET", "/api/v1/calendar/days/2026-10-10", {}),
        "proxied to a service": (
            "GET",
            f"/api/v1/registration/enrollments/{uuid.uuid4()}",
            bearer(tokens["staff-heping"]),
        ),
        "proxied, 200": ("GET", "/api/v1/registration/openapi.json", {}),
        "refused by the gateway": ("GET", "/api/v1/claims/eligibility/me", {}),
        "unknown route": ("GET", "/api/v1/nosuch/thing", {}),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "gateway endpoint",
        "calendar",
        "proxied to a service",
        "proxied, 200",
        "refused by the gateway",
        "unknown route",
    ],
)
def test_every_response_carries_one_request_id(
    kind: str, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    method, path, headers = _requests(tokens)[kind]
    response = gateway.request(method, path, headers=headers)
    ids = response.headers.get_list("x-request-id")
    assert len(ids) == 1 and ids[0], f"expected exactly one X-Request-ID, got {ids}"
    other = gateway.request(method, path, headers=headers)
    assert other.headers.get_list("x-request-id") != ids, "each request gets its own id"


@pytest.mark.parametrize(
    "kind",
    [
        "gateway endpoint",
        "calendar",
        "proxied to a service",
        "proxied, 200",
        "refused by the gateway",
        "unknown route",
    ],
)
def test_given_ids_are_echoed_back(kind: str, gateway: httpx.Client, tokens: dict[str, str]) -> None:
    method, path, headers = _requests(tokens)[kind]
    correlation, request = f"corr-{uuid.uuid4().hex}", f"req-{uuid.uuid4().hex}"
    response = gateway.request(
        method, path, headers={**headers, "X-Correlation-ID": correlation, "X-Request-ID": request}
    )
    assert response.headers.get_list("x-correlation-id") == [correlation]
    assert response.headers.get_list("x-request-id") == [request]


def test_correlation_id_defaults_to_the_request_id(gateway: httpx.Client) -> None:
    response = gateway.get("/health/live")
    assert response.headers["x-correlation-id"] == response.headers["x-request-id"]


# --------------------------------------------------------------------------- routes, methods, login


@pytest.mark.parametrize(
    "path", ["/api/v1/nosuch", "/api/v1/nosuch/things/1", "/nowhere", "/interop/v2/messages"]
)
def test_unknown_path_is_404_problem(path: str, gateway: httpx.Client, tokens: dict[str, str]) -> None:
    assert_problem(gateway.get(path, headers=bearer(tokens["admin"])), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "user"),
    [
        ("DELETE", "/api/v1/calendar/days/2026-10-10", None),
        ("POST", "/health", None),
        ("GET", "/api/v1/auth/token", None),
        ("PUT", "/api/v1/registration/enrollments/residents", "staff-heping"),
        ("DELETE", "/api/v1/claims/eligibility/me", "zhangsan"),
    ],
)
def test_wrong_method_is_405_problem(
    method: str, path: str, user: str | None, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens[user]) if user else {}
    assert_problem(gateway.request(method, path, headers=headers), 405, "method_not_allowed")


def test_login_gives_a_bearer_token(gateway: httpx.Client) -> None:
    response = gateway.post("/api/v1/auth/token", data={"username": "zhangsan", "password": "Demo@2026"})
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] > 0
    assert token["access_token"].count(".") == 2
    me = gateway.get("/api/v1/claims/eligibility/me", headers=bearer(token["access_token"]))
    assert me.status_code in (200, 404), me.text  # authenticated: not 401


@pytest.mark.parametrize(
    ("username", "password"),
    [("zhangsan", "wrong"), ("nobody", "Demo@2026"), ("zhangsan", "demo@2026"), ("ZHANGSAN", "Demo@2026")],
)
def test_wrong_login_is_401(username: str, password: str, gateway: httpx.Client) -> None:
    response = gateway.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert_problem(response, 401, "invalid_credentials")


def test_login_without_a_password_is_422(gateway: httpx.Client) -> None:
    assert_problem(
        gateway.post("/api/v1/auth/token", data={"username": "zhangsan"}), 422, "validation_failed"
    )


def test_jwks_is_published(gateway: httpx.Client) -> None:
    response = gateway.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys and keys[0]["alg"] == "ES256" and keys[0]["kid"]
    assert "d" not in keys[0], "the private part must never be published"


def test_cors_preflight_for_the_mini_program(gateway: httpx.Client) -> None:
    response = gateway.options(
        "/api/v1/registration/enrollments/residents",
        headers={
            "Origin": "https://servicewechat.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers.get("access-control-allow-origin") in ("*", "https://servicewechat.com")
    assert "POST" in response.headers.get("access-control-allow-methods", "")
