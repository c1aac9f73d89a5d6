"""Forwarding: which service a path goes to, replicas in turn, and upstream failures through the
real gateway app (uvicorn on loopback, with tiny upstream servers started by the tests)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from gateway.main import create_app
from gateway.proxy import Proxy, Upstreams
from gateway.settings import GatewaySettings
from shared.auth import TokenVerifier
from shared.testing.asgi import bound_socket, dead_url, request_body, serve
from shared.testing.e2e import assert_problem as assert_shared_problem

PROBLEM_JSON = "application/problem+json"


# --------------------------------------------------------------------------- Proxy.target


@pytest.fixture
def proxy(tmp_path: Path) -> Proxy:
    settings = GatewaySettings(
        upstreams={"registration": "http://r", "claims": ["http://c1", "http://c2"], "transfer": "http://t"},
        key_dir=tmp_path,
        log_json=False,
    )
    verifier = TokenVerifier(
        settings.auth_issuer, settings.auth_audience, "ES256", jwks_file=tmp_path / "jwks.json"
    )
    return Proxy(settings, verifier, Upstreams(settings.upstreams))


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/registration/enrollments/residents", "registration"),
        ("/api/v1/registration/enrollments/3f1c/approve", "registration"),
        ("/api/v1/registration/openapi.json", "registration"),
        ("/api/v1/registration", "registration"),
        ("/api/v1/registration/", "registration"),
        ("/api/v1/claims/eligibility/me", "claims"),
        ("/interop/v1/messages", "transfer"),
        ("/interop/v1/messages/abc/ack", "transfer"),
        # The gateway answers these itself.
        ("/api/v1/calendar/days/2026-10-10", None),
        ("/api/v1/auth/token", None),
        ("/api/v1/settlement/bills", None),  # not a configured upstream
        ("/api/v1/registrationx/enrollments", None),
        ("/api/v1/", None),
        ("/api/v1", None),
        ("/api/v1//registration", None),
        ("/api/v2/registration/enrollments", None),
        ("/API/v1/registration/enrollments", None),
        ("/interop/v1", None),
        ("/interop/v2/messages", None),
        ("/health", None),
        ("/openapi.json", None),
        ("/", None),
    ],
)
def test_target_maps_paths_to_services(proxy: Proxy, path: str, service: str | None) -> None:
    assert proxy.target(path) == service


def test_interop_goes_to_the_configured_service(tmp_path: Path) -> None:
    settings = GatewaySettings(
        upstreams={"facility": "http://f"}, interop_service="facility", key_dir=tmp_path
    )
    verifier = TokenVerifier(
        settings.auth_issuer, settings.auth_audience, "ES256", jwks_file=tmp_path / "jwks.json"
    )
    proxy = Proxy(settings, verifier, Upstreams(settings.upstreams))
    assert proxy.target("/interop/v1/messages") == "facility"


# --------------------------------------------------------------------------- Upstreams


def test_in_turn_starts_with_the_next_replica_and_visits_each_once() -> None:
    upstreams = Upstreams({"claims": ["http://c1", "http://c2", "http://c3"]})
    orders = [list(upstreams.in_turn("claims")) for _ in range(4)]
    assert orders == [
        ["http://c1", "http://c2", "http://c3"],
        ["http://c2", "http://c3", "http://c1"],
        ["http://c3", "http://c1", "http://c2"],
        ["http://c1", "http://c2", "http://c3"],
    ]


def test_in_turn_spreads_first_choices_evenly() -> None:
    upstreams = Upstreams({"claims": ["http://c1", "http://c2", "http://c3"]})
    firsts = [next(upstreams.in_turn("claims")) for _ in range(300)]
    assert {url: firsts.count(url) for url in set(firsts)} == {
        "http://c1": 100,
        "http://c2": 100,
        "http://c3": 100,
    }


def test_a_turn_is_taken_when_asked_not_when_read() -> None:
    """Two requests that start together get different first replicas, however they iterate."""
    upstreams = Upstreams({"claims": ["http://c1", "http://c2"]})
    first, second = upstreams.in_turn("claims"), upstreams.in_turn("claims")
    assert next(second) == "http://c2"
    assert next(first) == "http://c1"


def test_each_service_has_its_own_turns() -> None:
    upstreams = Upstreams({"claims": ["http://c1", "http://c2"], "registration": ["http://r1", "http://r2"]})
    assert next(upstreams.in_turn("claims")) == "http://c1"
    assert next(upstreams.in_turn("registration")) == "http://r1"
    assert next(upstreams.in_turn("claims")) == "http://c2"
    assert next(upstreams.in_turn("registration")) == "http://r2"


def test_a_single_url_is_always_chosen() -> None:
    upstreams = Upstreams({"registration": "http://r"})
    assert [list(upstreams.in_turn("registration")) for _ in range(3)] == [["http://r"]] * 3
    assert upstreams.all_urls("registration") == ["http://r"]


def test_upstreams_lists_services() -> None:
    upstreams = Upstreams({"registration": "http://r", "claims": ["http://c1", "http://c2"]})
    assert upstreams.services == ["registration", "claims"]
    assert "claims" in upstreams and "settlement" not in upstreams
    assert upstreams.all_urls("claims") == ["http://c1", "http://c2"]
    assert list(islice(upstreams.in_turn("claims"), 5)) == ["http://c1", "http://c2"]


class Upstream:
    """A tiny service: answers after `delay_s`, and records what it was asked."""

    def __init__(self, name: str, delay_s: float = 0.0):
        self.name, self.delay_s = name, delay_s
        self.requests: list[dict] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await request_body(scope, receive, send)
        if body is None:
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(
            {"path": scope["path"], "query": scope["query_string"].decode(), "headers": headers, "body": body}
        )
        await asyncio.sleep(self.delay_s)
        payload = f'{{"served_by": "{self.name}"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"x-upstream", self.name.encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


@contextmanager
def closing_server() -> Iterator[str]:
    """Accepts connections and closes them without answering (a crashed upstream)."""
    sock = bound_socket()
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            try:
                conn.recv(65536)
            except OSError:
                pass
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


@contextmanager
def gateway_app(tmp_path: Path, upstreams: dict, **settings: object) -> Iterator[httpx.Client]:
    config = GatewaySettings(
        upstreams=upstreams,
        key_dir=tmp_path,
        auth_jwks_file=tmp_path / "jwks.json",
        upstream_timeout_s=0.5,
        upstream_connect_timeout_s=0.5,
        log_json=False,
        **settings,
    )
    with serve(create_app(config)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def login(client: httpx.Client, username: str = "staff-heping") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": "Demo@2026"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    problem = assert_shared_problem(response, status, code)
    assert response.headers.get("x-request-id")
    return problem


# --------------------------------------------------------------------------- forwarding


def test_a_request_is_forwarded_with_ids_and_the_answer_returned(tmp_path: Path) -> None:
    upstream = Upstream("alpha")
    with serve(upstream) as alpha, gateway_app(tmp_path, {"alpha": alpha}) as client:
        headers = {**login(client), "X-Correlation-ID": "corr-42", "Content-Type": "application/json"}
        response = client.post("/api/v1/alpha/things?page=2", content=b'{"a": 1}', headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"served_by": "alpha"}
    assert response.headers["x-upstream"] == "alpha"
    [seen] = upstream.requests
    assert seen["path"] == "/api/v1/alpha/things"
    assert seen["query"] == "page=2"
    assert seen["body"] == b'{"a": 1}'
    assert seen["headers"]["authorization"].startswith("Bearer ")  # the service checks the token again
    assert seen["headers"]["x-correlation-id"] == "corr-42"
    assert seen["headers"]["x-request-id"] == response.headers["x-request-id"]
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"


class IdentifyingUpstream(Upstream):
    """Answers like every service does: with its own Date, Server, X-Request-ID and X-Correlation-ID."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_ids(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = {k.decode(): v.decode() for k, v in scope.get("headers", [])}
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", headers.get("x-request-id", "upstream-own").encode()),
                    (b"x-correlation-id", headers.get("x-correlation-id", "upstream-own").encode()),
                ]
            await send(message)

        await super().__call__(scope, receive, send_with_ids if scope["type"] == "http" else send)


def test_a_proxied_answer_carries_each_single_valued_header_once(tmp_path: Path) -> None:
    """The gateway adds its own ids, Date and Server; the upstream's copies must not be repeated
    next to them (a client reading X-Correlation-ID would get "c, c")."""
    upstream = IdentifyingUpstream("alpha")
    with serve(upstream) as alpha, gateway_app(tmp_path, {"alpha": alpha}) as client:
        response = client.get("/api/v1/alpha/x", headers={**login(client), "X-Correlation-ID": "corr-7"})
    assert response.status_code == 200, response.text
    for name in ("x-request-id", "x-correlation-id", "date", "server", "content-type", "content-length"):
        values = response.headers.get_list(name)
        assert len(values) <= 1, f"{name} appears {len(values)} times: {values}"
    assert response.headers["x-correlation-id"] == "corr-7"


def test_no_token_is_refused_before_the_upstream(tmp_path: Path) -> None:
    upstream = Upstream("alpha")
    with serve(upstream) as alpha, gateway_app(tmp_path, {"alpha": alpha}) as client:
        response = client.get("/api/v1/alpha/things")
    assert_problem(response, 401, "unauthenticated")
    assert upstream.requests == []


def test_replicas_share_the_requests(tmp_path: Path) -> None:
    one, two = Upstream("one"), Upstream("two")
    with (
        serve(one) as url_one,
        serve(two) as url_two,
        gateway_app(tmp_path, {"alpha": [url_one, url_two]}) as client,
    ):
        headers = login(client)
        served = [client.get("/api/v1/alpha/x", headers=headers).json()["served_by"] for _ in range(6)]
    assert served == ["one", "two"] * 3


def test_an_unreachable_replica_is_skipped(tmp_path: Path) -> None:
    alive = Upstream("alive")
    with serve(alive) as url, gateway_app(tmp_path, {"alpha": [dead_url(), url]}) as client:
        headers = login(client)
        answers = [client.get("/api/v1/alpha/x", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert len(alive.requests) == 4


# --------------------------------------------------------------------------- upstream failures


def test_nothing_listening_is_502(tmp_path: Path) -> None:
    with gateway_app(tmp_path, {"alpha": dead_url()}) as client:
        response = client.get("/api/v1/alpha/things", headers=login(client))
    problem = assert_problem(response, 502, "bad_gateway")
    assert "alpha" in problem.get("detail", "")


def test_every_replica_unreachable_is_502(tmp_path: Path) -> None:
    with gateway_app(tmp_path, {"alpha": [dead_url(), dead_url(), dead_url()]}) as client:
        response = client.get("/api/v1/alpha/things", headers=login(client))
    assert_problem(response, 502, "bad_gateway")


def test_an_upstream_that_hangs_up_is_502(tmp_path: Path) -> None:
    with closing_server() as url, gateway_app(tmp_path, {"alpha": url}) as client:
        response = client.get("/api/v1/alpha/things", headers=login(client))
    assert_problem(response, 502, "bad_gateway")


def test_a_slow_upstream_is_504(tmp_path: Path) -> None:
    slow = Upstream("slow", delay_s=3.0)
    with serve(slow) as url, gateway_app(tmp_path, {"alpha": url}) as client:
        headers = login(client)
        started = time.monotonic()
        response = client.get("/api/v1/alpha/things", headers=headers)
        waited = time.monotonic() - started
    problem = assert_problem(response, 504, "gateway_timeout")
    assert "alpha" in problem.get("detail", "")
    assert len(slow.requests) == 1, "the request reached the upstream"
    assert waited < 3.0, (
        f"the gateway should give up at its timeout, not wait for the upstream ({waited:.1f} s)"
    )


def test_a_slow_upstream_does_not_break_the_next_request(tmp_path: Path) -> None:
    slow = Upstream("slow", delay_s=3.0)
    fast = Upstream("fast")
    with (
        serve(slow) as slow_url,
        serve(fast) as fast_url,
        gateway_app(tmp_path, {"slow": slow_url, "fast": fast_url}) as client,
    ):
        headers = login(client)
        assert_problem(client.get("/api/v1/slow/x", headers=headers), 504, "gateway_timeout")
        after = client.get("/api/v1/fast/x", headers=headers)
    assert after.status_code == 200
    assert after.json() == {"served_by": "fast"}


# --------------------------------------------------------------------------- rate limits


def test_rate_limit_exceeded_is_429_with_retry_after(tmp_path: Path) -> None:
    upstream = Upstream("alpha")
    with (
        serve(upstream) as url,
        gateway_app(tmp_path, {"alpha": url}, rate_limit_per_s=0.1, rate_limit_burst=3) as client,
    ):
        heping = login(client, "staff-heping")
        answers = [client.get("/api/v1/alpha/x", headers=heping) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        problem = assert_problem(answers[3], 429, "rate_limited")
        retry_after = answers[3].headers.get("retry-after")
        assert retry_after is not None and retry_after.isdigit(), answers[3].headers
        assert 1 <= int(retry_after) <= 10  # one token at 0.1/s: about 10 s
        assert problem["title"]

        # Another client has a bucket of its own.
        hexi = login(client, "staff-hexi")
        assert client.get("/api/v1/alpha/x", headers=hexi).status_code == 200
        # The gateway's own endpoints are not counted against the caller.
        assert client.get("/api/v1/calendar/days/2026-10-10", headers=heping).status_code == 200
    assert len(upstream.requests) == 4, "the refused request never reached the upstream"


def test_other_offices_are_not_held_to_the_per_address_limit_but_to_a_ceiling(tmp_path: Path) -> None:
    """Peers on /interop/v1 share addresses (one province's offices behind one NAT) and are verified and
    limited per office by the transfer service: the anonymous per-address limit does not apply to them,
    only a far higher ceiling against a flood of unsigned junk."""
    upstream = Upstream("transfer")
    with (
        serve(upstream) as url,
        gateway_app(
            tmp_path,
            {"transfer": url},
            rate_limit_per_s=0.01,
            rate_limit_burst=2,
            interop_address_rate_per_s=0.01,
            interop_address_burst=8,
        ) as client,
    ):
        answers = [client.post("/interop/v1/messages", content=b"x") for _ in range(9)]
        assert [a.status_code for a in answers[:8]] == [200] * 8  # beyond the anonymous burst of 2
        assert_problem(answers[8], 429, "rate_limited")
        assert answers[8].headers["retry-after"].isdigit()
        # The ceiling is its own bucket: the address's API budget is untouched.
        heping = login(client)
        assert client.get("/api/v1/transfer/x", headers=heping).status_code == 200
    assert len(upstream.requests) == 9
