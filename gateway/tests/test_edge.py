"""The edge as a hostile caller meets it: sign-in limits and lockout, the gateway's own endpoints
limited, admin endpoints authorised before their body is read, no redirect to an internal address,
security headers on pages, CORS from an allow-list, the real client address behind a trusted proxy,
/metrics and the detailed health not public; and tokens: short-lived, revocable, refused for
unknown or disabled users, without names, never valid for years (real gateway on loopback)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from gateway.main import create_app
from gateway.settings import GatewaySettings
from shared.auth import Principal, Role
from shared.auth.issuer import DevIssuer
from shared.testing.asgi import bound_socket, request_body, serve
from shared.testing.tokens import TEST_ACCOUNTS_FILE, ListingIssuer

PASSWORD = "Demo@2026"


class Upstream:
    """A tiny service recording what reached it; answers `status` with `headers`."""

    def __init__(self, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None):
        self.status, self.headers = status, headers or []
        self.requests: list[dict] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await request_body(scope, receive, send)
        if body is None:
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"path": scope["path"], "headers": headers, "body": body})
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/json"), *self.headers]})  # fmt: skip
        await send({"type": "http.response.body", "body": b'{"date": "2026-01-01", "overridden": true}'})


@contextmanager
def serve_as_deployed(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The gateway under uvicorn without uvicorn's own X-Forwarded-For handling (which believes
    127.0.0.1, where these tests run): the gateway's trusted-proxy setting alone decides."""
    sock = bound_socket()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", proxy_headers=False, timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the gateway did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def gateway(tmp_path: Path, upstreams: dict | None = None, **settings: object) -> Iterator[httpx.Client]:
    config = GatewaySettings(upstreams=upstreams or {}, key_dir=tmp_path, auth_jwks_file=tmp_path / "jwks.json",
                             upstream_timeout_s=2, log_json=False, **settings)  # fmt: skip
    with serve_as_deployed(create_app(config)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}, headers=headers
    )


def bearer(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_retry_after(response: httpx.Response, code: str) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    retry_after = response.headers.get("retry-after", "")
    assert retry_after.isdigit() and int(retry_after) >= 1, response.headers
    return int(retry_after)


# --------------------------------------------------------------------------- sign-in


def test_an_account_is_locked_after_repeated_wrong_passwords_and_says_when_to_retry(tmp_path: Path) -> None:
    with gateway(tmp_path, signin_max_failures=5, signin_lockout_s=600) as client:
        answers = [sign_in(client, "staff-heping", "wrong") for _ in range(5)]
        assert [a.status_code for a in answers] == [401] * 5
        locked = sign_in(client, "staff-heping", "wrong")
        assert 500 <= assert_retry_after(locked, "signin_locked") <= 600
        # The right password does not open a locked account before its time...
        assert_retry_after(sign_in(client, "staff-heping"), "signin_locked")
        # ... and another account is not locked by it.
        assert sign_in(client, "staff-hexi").status_code == 200


def test_one_address_cannot_try_hundreds_of_passwords_across_accounts(tmp_path: Path) -> None:
    with gateway(tmp_path, signin_per_address_per_min=20, signin_max_failures=1000) as client:
        started = time.monotonic()
        answers = [sign_in(client, f"user-{n}", "wrong") for n in range(300)]
        elapsed = time.monotonic() - started
    codes = [a.status_code for a in answers]
    # 20 at once, then one more every 3 s while the 300 attempts went on.
    assert codes.count(401) <= 20 + int(elapsed / 3) + 1, (codes[:40], elapsed)
    assert codes.count(429) >= 250
    assert_retry_after(answers[-1], "signin_rate_limited")


def test_the_gateways_own_endpoints_are_rate_limited(tmp_path: Path) -> None:
    with gateway(tmp_path, own_rate_limit_per_s=1, own_rate_limit_burst=5) as client:
        answers = [client.get("/api/v1/calendar/days/2026-10-10") for _ in range(10)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert_retry_after(answers[-1], "rate_limited")


# --------------------------------------------------------------------------- admin endpoints and redirects


def test_the_platform_business_date_refuses_anonymous_and_non_admin_callers_before_reading_the_body(
    tmp_path: Path,
) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}) as client:
        big = b"x" * (5 * 1024 * 1024)
        anonymous = client.put(
            "/api/v1/admin/business-date", content=big, headers={"Content-Type": "application/json"}
        )
        assert anonymous.status_code == 401, anonymous.text
        clerk = client.put(
            "/api/v1/admin/business-date",
            json={"date": "2026-01-01"},
            headers=bearer(sign_in(client, "staff-heping")),
        )
        assert clerk.status_code == 403, clerk.text
        assert upstream.requests == []
        admin = client.put(
            "/api/v1/admin/business-date",
            json={"date": "2026-01-01"},
            headers=bearer(sign_in(client, "admin")),
        )
        assert admin.status_code == 200, admin.text
        oversized = client.put("/api/v1/admin/business-date", content=big,
                               headers={**bearer(sign_in(client, "admin")), "Content-Type": "application/json"})  # fmt: skip
        assert oversized.status_code == 413
    assert len(upstream.requests) == 1


def test_a_trailing_slash_never_sends_the_caller_to_an_internal_address(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url:
        upstream.status, upstream.headers = 307, [(b"location", f"{url}/api/v1/alpha/things".encode())]
        with gateway(tmp_path, {"alpha": url}) as client:
            answer = client.get("/api/v1/alpha/things/", headers=bearer(sign_in(client, "staff-heping")))
            own = client.get("/api/v1/calendar/days/2026-10-10/")
    assert "127.0.0.1" not in answer.headers.get("location", ""), answer.headers
    assert answer.headers.get("location") in (None, "/api/v1/alpha/things")
    assert "127.0.0.1" not in own.headers.get("location", "") and "localhost" not in own.headers.get(
        "location", ""
    )


# --------------------------------------------------------------------------- pages, CORS, addresses


@pytest.mark.parametrize("page", ["/ops", "/docs"])
def test_html_pages_carry_security_headers(tmp_path: Path, page: str) -> None:
    with gateway(tmp_path) as client:
        answer = client.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_cross_origin_callers_are_allowed_only_from_the_configured_list(tmp_path: Path) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with gateway(tmp_path) as client:
        by_default = client.options(
            "/api/v1/auth/token", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in by_default.headers
    with gateway(tmp_path, cors_origins=["https://app.yibao.example"]) as client:
        allowed = client.options(
            "/api/v1/auth/token", headers={**preflight, "Origin": "https://app.yibao.example"}
        )
        refused = client.options(
            "/api/v1/auth/token", headers={**preflight, "Origin": "https://evil.example"}
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.yibao.example"
    assert "access-control-allow-origin" not in refused.headers


def test_behind_a_trusted_proxy_each_caller_has_its_own_address_and_bucket(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}, trusted_proxies=["127.0.0.1/32"],
                                         own_rate_limit_per_s=0.01, own_rate_limit_burst=2) as client:  # fmt: skip
        first = [
            client.get("/api/v1/calendar/days/2026-10-10", headers={"X-Forwarded-For": "203.0.113.7"})
            for _ in range(3)
        ]
        other = client.get("/api/v1/calendar/days/2026-10-10", headers={"X-Forwarded-For": "198.51.100.9"})
        client.get("/api/v1/alpha/x", headers={**bearer(sign_in(client, "staff-heping", **{"X-Forwarded-For": "198.51.100.10"})),
                                              "X-Forwarded-For": "10.9.9.9, 198.51.100.10"})  # fmt: skip
    assert [a.status_code for a in first] == [200, 200, 429]
    assert other.status_code == 200
    assert upstream.requests[0]["headers"]["x-forwarded-for"] == "198.51.100.10"


def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    with gateway(tmp_path, own_rate_limit_per_s=0.01, own_rate_limit_burst=2) as client:
        answers = [
            client.get("/api/v1/calendar/days/2026-10-10", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]


def test_metrics_and_detailed_health_are_not_public_through_the_ingress(tmp_path: Path) -> None:
    with gateway(tmp_path, trusted_proxies=["127.0.0.1/32"]) as client:
        through_ingress = {"X-Forwarded-For": "203.0.113.7"}
        assert client.get("/metrics", headers=through_ingress).status_code == 404
        assert client.get("/health", headers=through_ingress).status_code == 404
        ops = bearer(sign_in(client, "ops", **through_ingress))
        assert client.get("/metrics", headers={**through_ingress, **ops}).status_code == 200
        # Prometheus and the platform's own probes call the pod directly (no proxy in between).
        assert client.get("/metrics").status_code == 200
        assert client.get("/health/live", headers=through_ingress).status_code == 200


# --------------------------------------------------------------------------- tokens


def test_a_token_is_short_lived_and_names_nobody(tmp_path: Path) -> None:
    with gateway(tmp_path) as client:
        answer = sign_in(client, "zhangsan")
    assert answer.status_code == 200
    assert answer.json()["expires_in"] <= 900
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert "name" not in claims and claims["exp"] - claims["iat"] <= 900
    assert "张三" not in str(claims)


def test_a_refresh_token_gives_a_new_access_token_until_revoked(tmp_path: Path) -> None:
    with gateway(tmp_path) as client:
        first = sign_in(client, "zhangsan").json()
        refreshed = client.post("/api/v1/auth/refresh", data={"refresh_token": first["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        assert (
            client.get(
                "/api/v1/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
            ).status_code
            == 200
        )
        # An access token is not a refresh token.
        assert (
            client.post("/api/v1/auth/refresh", data={"refresh_token": first["access_token"]}).status_code
            == 401
        )
        client.post(
            "/api/v1/auth/revoke", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        )
        assert (
            client.post("/api/v1/auth/refresh", data={"refresh_token": first["refresh_token"]}).status_code
            == 401
        )


def test_revoked_tokens_are_refused_and_a_new_sign_in_works(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}) as client:
        old = bearer(sign_in(client, "staff-heping"))
        assert client.get("/api/v1/alpha/x", headers=old).status_code == 200
        admin = bearer(sign_in(client, "admin"))
        revoked = client.post("/api/v1/auth/users/staff-heping/revoke", headers=admin)
        assert revoked.status_code == 200, revoked.text
        assert client.get("/api/v1/alpha/x", headers=old).status_code == 401
        assert (
            client.get("/api/v1/alpha/x", headers=bearer(sign_in(client, "staff-heping"))).status_code == 200
        )
        # Only an administrator revokes someone else's tokens.
        assert client.post("/api/v1/auth/users/admin/revoke", headers=old).status_code in (401, 403)


def test_a_disabled_account_can_neither_sign_in_nor_use_its_tokens(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}) as client:
        token = bearer(sign_in(client, "staff-hexi"))
        admin = bearer(sign_in(client, "admin"))
        assert (
            client.put(
                "/api/v1/auth/users/staff-hexi/disabled", json={"disabled": True}, headers=admin
            ).status_code
            == 200
        )
        assert client.get("/api/v1/alpha/x", headers=token).status_code == 401
        assert sign_in(client, "staff-hexi").status_code == 401
        assert (
            client.put(
                "/api/v1/auth/users/staff-hexi/disabled", json={"disabled": False}, headers=admin
            ).status_code
            == 200
        )
        assert client.get("/api/v1/alpha/x", headers=bearer(sign_in(client, "staff-hexi"))).status_code == 200


def test_a_signed_token_of_an_unknown_user_is_refused(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}) as client:
        issuer = DevIssuer.load_or_create(tmp_path, "https://auth.yibao.local", "yibao-platform")
        ghost = issuer.issue(Principal(subject="ghost", role=Role.admin), ttl_s=600)
        answer = client.get("/api/v1/alpha/x", headers={"Authorization": f"Bearer {ghost}"})
        own = client.get("/api/v1/ops/status", headers={"Authorization": f"Bearer {ghost}"})
    assert answer.status_code == 401 and own.status_code == 401
    assert upstream.requests == []


def test_the_test_environment_refuses_an_unlisted_subject_too(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}, environment="test") as client:
        issuer = DevIssuer.load_or_create(tmp_path, "https://auth.yibao.local", "yibao-platform")
        ghost = issuer.issue(Principal(subject="ghost", role=Role.insured, person_id=uuid.uuid4()), ttl_s=600)
        answer = client.get("/api/v1/alpha/x", headers={"Authorization": f"Bearer {ghost}"})
    assert answer.status_code == 401 and upstream.requests == []


def test_a_test_platforms_listed_account_is_held_to_what_it_was_listed_as(tmp_path: Path) -> None:
    """The test platform's account file lists the people the tests make up; a token of such an account
    passes, one claiming another role or office for it, or of a revoked version, does not."""
    accounts = tmp_path / TEST_ACCOUNTS_FILE
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}, environment="test",
                                         test_accounts_file=accounts) as client:  # fmt: skip
        minted = ListingIssuer(tmp_path)
        person = Principal(subject="app-person", role=Role.insured, person_id=uuid.uuid4())
        clerk = Principal(subject="qhd-clerk", role=Role.staff, office_code="130302", office_level="district")

        def status(token: str) -> int:
            return client.get("/api/v1/alpha/x", headers={"Authorization": f"Bearer {token}"}).status_code

        assert status(minted.issue(person)) == 200 and status(minted.issue(clerk)) == 200
        issuer = DevIssuer.load_or_create(tmp_path, "https://auth.yibao.local", "yibao-platform")
        promoted = clerk.model_copy(update={"role": Role.admin, "token_version": 0})
        moved = clerk.model_copy(update={"office_code": "120101", "token_version": 0})
        assert status(issuer.issue(promoted)) == 401 and status(issuer.issue(moved)) == 401
        admin = bearer(sign_in(client, "admin"))
        assert client.post("/api/v1/auth/users/qhd-clerk/revoke", headers=admin).status_code == 200
        assert status(issuer.issue(clerk.model_copy(update={"token_version": 0}))) == 401
    assert len(upstream.requests) == 2


def test_production_refuses_a_test_account_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="test account file"):
        GatewaySettings(environment="production", dev_issuer=False, person_id_key="a-production-key-" + "x" * 32,
                        test_accounts_file=tmp_path / "a.json")  # fmt: skip


def test_a_ten_year_token_is_refused(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}) as client:
        issuer = DevIssuer.load_or_create(tmp_path, "https://auth.yibao.local", "yibao-platform")
        decade = issuer.issue(Principal(subject="staff-heping", role=Role.staff, office_code="120101", office_level="district"),
                              ttl_s=10 * 365 * 86400)  # fmt: skip
        answer = client.get("/api/v1/alpha/x", headers={"Authorization": f"Bearer {decade}"})
    assert answer.status_code == 401
    assert upstream.requests == []


def test_a_huge_anonymous_body_to_the_gateways_own_endpoints_is_cut_short(tmp_path: Path) -> None:
    with gateway(tmp_path) as client:
        huge = b"username=a&password=" + b"x" * (5 * 1024 * 1024)
        answer = client.post(
            "/api/v1/auth/token", content=huge, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert answer.status_code == 413, answer.text


def test_the_dead_letter_replay_authorises_before_reading_its_body(tmp_path: Path) -> None:
    upstream = Upstream()
    with serve(upstream) as url, gateway(tmp_path, {"alpha": url}) as client:
        huge = b'{"message_ids": [' + b'"x",' * 200_000 + b'"x"], "reason": "r"}'
        anonymous = client.post(
            "/api/v1/ops/dead-letters/alpha/replay",
            content=huge,
            headers={"Content-Type": "application/json"},
        )
        assert anonymous.status_code == 401, anonymous.text
        ops = client.post("/api/v1/ops/dead-letters/alpha/replay", json={"message_ids": ["m"], "reason": "r"},
                          headers=bearer(sign_in(client, "ops")))  # fmt: skip
        assert ops.status_code == 403, ops.text
        invalid = client.post(
            "/api/v1/ops/dead-letters/alpha/replay",
            json={"nonsense": True},
            headers=bearer(sign_in(client, "admin")),
        )
        assert invalid.status_code == 422, invalid.text
    assert upstream.requests == []


async def _reads_of_anonymous_put(app, method: str, path: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Call the gateway app with a body and count how much of it was read before the answer."""
    reads, sent = 0, []

    async def receive() -> dict:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{" + b" " * 1000 + b"}", "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "scheme": "http", "query_string": b"", "headers": [(b"content-type", b"application/json")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], reads


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/api/v1/admin/business-date"), ("POST", "/api/v1/ops/dead-letters/alpha/replay")],
)
async def test_admin_endpoints_read_no_byte_of_an_anonymous_body(
    tmp_path: Path, method: str, path: str
) -> None:
    config = GatewaySettings(
        upstreams={"alpha": "http://127.0.0.1:9"},
        key_dir=tmp_path,
        auth_jwks_file=tmp_path / "jwks.json",
        log_json=False,
    )
    status, reads = await _reads_of_anonymous_put(create_app(config), method, path)
    assert (status, reads) == (401, 0)
