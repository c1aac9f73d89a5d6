"""The ops status API and page: who may read them, what they gather from the services, and that
they carry no personal data (real gateway on loopback, small stand-in services)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.main import create_app
from gateway.ops import DEADLINE_KINDS
from gateway.settings import GatewaySettings
from shared.ops import ReplayIn
from shared.testing.asgi import dead_url, serve

PROBLEM_JSON = "application/problem+json"


def report(
    service: str, dead_letters: int = 0, deadlines: list | None = None, peers: list | None = None
) -> dict:
    """What a service answers on /internal/ops/status (shape of shared.ops.service_status)."""
    return {
        "service": service,
        "event_flow": {
            "outbox": {"available": True, "backlog": 2, "oldest_unsent_s": 1.5},
            "queues": {"available": True, "messages": 3, "consumers": 1, "retrying": 0, "dead_letters": dead_letters},
            "subscriptions": 1,
            "per_minute": {"published": 4, "consumed": 5, "dead_lettered": dead_letters},
        },
        "deadlines": deadlines or [],
        "peers": peers or [],
        "recent_errors": [{"at": "2026-05-01T08:00:00+00:00", "level": "ERROR", "logger": "x", "message": "message dead-lettered",
                           "error_type": None, "request_id": None, "event_id": None}],
    }  # fmt: skip


DEGRADED_CHECKS = {
    "broker": {"ok": False, "detail": "消息代理未连接（已 12 秒），事件在发件箱中等待"},
    "consumer": {"ok": False, "queue": "q", "detail": "消费者未挂接到队列，事件暂不处理"},
    "outbox": {"ok": False, "backlog": 12000, "detail": "发件箱积压 12000 条，超过 10000"},
    "audit": {"ok": False, "waiting": 150, "detail": "访问审计有 150 条未写入数据库"},
}


def stand_in(service: str, ready: bool = True, degraded: tuple[str, ...] = (), **reported: object) -> FastAPI:
    app = FastAPI()
    app.state.seen_auth = []

    @app.get("/health")
    async def health() -> dict:
        checks = {"database": {"ok": True}} | {
            name: DEGRADED_CHECKS[name] if name in degraded else {"ok": True} for name in DEGRADED_CHECKS
        }
        return {"status": "degraded" if degraded else "ready", "degraded": list(degraded), "checks": checks}

    @app.get("/health/live")
    async def live() -> dict:
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready_check() -> JSONResponse:
        checks = {
            "database": {"ok": True},
            "broker": {"ok": ready, **({} if ready else {"detail": "消息代理未连接"})},
        }
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/internal/ops/status")
    async def status(request: Request) -> dict:
        app.state.seen_auth.append(request.headers.get("authorization"))
        return report(service, **reported)  # type: ignore[arg-type]

    @app.get("/internal/ops/dead-letters")
    async def letters() -> dict:
        return {"service": service, "items": []}

    @app.post("/internal/ops/dead-letters/replay")
    async def replay(body: ReplayIn) -> JSONResponse:  # a JSON body, as the real service reads it
        return JSONResponse(
            {
                "replayed": 1,
                "audit": {"id": 7, "by": "admin", "at": "2026-05-01T08:00:00+00:00"},
                "asked": body.model_dump(),
            }
        )

    return app


@contextmanager
def gateway_for(tmp_path: Path, upstreams: dict, **settings: object) -> Iterator[httpx.Client]:
    config = GatewaySettings(
        upstreams=upstreams,
        key_dir=tmp_path,
        auth_jwks_file=tmp_path / "jwks.json",
        log_json=False,
        **settings,
    )
    with serve(create_app(config)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": "Demo@2026"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[httpx.Client, dict[str, FastAPI]]]:
    apps = {
        "claims": stand_in("claims"),
        "facility": stand_in(
            "facility",
            degraded=("audit", "consumer", "broker", "outbox"),
            dead_letters=1,
            deadlines=[{"kind": "facility_reply", "title": "定点申请受理答复", "available": True, "at_risk": 2, "overdue": 1, "oldest_overdue_s": 86400.0}],
        ),
        "transfer": stand_in("transfer", ready=False, peers=[{"peer": "110000", "pending": 3, "last_success_at": None, "last_error": "超时", "last_error_at": None, "available": True}]),
    }  # fmt: skip
    with (
        serve(apps["claims"]) as claims,
        serve(apps["facility"]) as facility,
        serve(apps["transfer"]) as transfer,
    ):
        upstreams = {"claims": claims, "facility": facility, "transfer": transfer, "settlement": dead_url()}
        with gateway_for(tmp_path, upstreams, ops_refresh_s=2) as client:
            yield client, apps


def test_the_status_needs_a_token(platform) -> None:  # type: ignore[no-untyped-def]
    client, _ = platform
    response = client.get("/api/v1/ops/status")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize("username", ["zhangsan", "unit-demo", "facility-demo", "staff-heping", "staff-city"])
def test_other_roles_are_refused_with_403(platform, username: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = platform
    headers = login(client, username)
    for response in (
        client.get("/api/v1/ops/status", headers=headers),
        client.get("/api/v1/ops/dead-letters/facility", headers=headers),
        client.post("/api/v1/ops/dead-letters/facility/replay", json={"message_id": "m"}, headers=headers),
    ):
        assert response.status_code == 403, response.text
        problem = response.json()
        assert problem["code"] == "forbidden" and problem["title"] == "无权执行此操作"


def test_ops_reads_every_service_with_the_reason_when_not_ready(platform) -> None:  # type: ignore[no-untyped-def]
    client, apps = platform
    headers = login(client, "ops")
    response = client.get("/api/v1/ops/status", headers=headers)
    assert response.status_code == 200, response.text
    status = response.json()
    services = {s["service"]: s for s in status["services"]}
    assert status["status"] == "degraded" and status["refresh_s"] == 2
    assert services["claims"] | {"replicas": None} == {
        "service": "claims",
        "title": "待遇核定",
        "live": True,
        "ready": True,
        "reason": None,
        "degraded": [],
        "replicas": None,
    }
    assert services["transfer"]["live"] is True and services["transfer"]["ready"] is False
    assert services["transfer"]["reason"] == "消息代理未连接"
    assert services["settlement"] | {"replicas": None} == {
        "service": "settlement", "title": "定点结算", "live": False, "ready": False, "reason": "服务无响应（无法连接）", "degraded": [], "replicas": None,
    }  # fmt: skip
    # The services check the caller's token again: it is passed on.
    assert apps["claims"].state.seen_auth[-1] == headers["Authorization"]

    flows = {f["service"]: f for f in status["event_flow"]}
    assert (
        flows["facility"]["queues"]["dead_letters"] == 1 and flows["facility"]["per_minute"]["consumed"] == 5
    )
    assert flows["settlement"] == {"service": "settlement", "available": False}

    deadlines = {d["kind"]: d for d in status["deadlines"]}
    assert list(deadlines) == list(DEADLINE_KINDS)
    assert deadlines["facility_reply"] | {"title": None} == {
        "kind": "facility_reply", "title": None, "available": True, "at_risk": 2, "overdue": 1, "oldest_overdue_s": 86400.0, "service": "facility",
    }  # fmt: skip
    assert deadlines["transfer_step"]["reported"] is False  # the page shows 未接入
    assert status["peers"] == [
        {
            "peer": "110000",
            "pending": 3,
            "last_success_at": None,
            "last_error": "超时",
            "last_error_at": None,
            "available": True,
            "service": "transfer",
        }
    ]
    assert {e["service"] for e in status["recent_errors"]} >= {"claims", "facility", "transfer"}


def test_each_degraded_state_of_a_ready_service_is_named_in_chinese_with_the_services_words(platform) -> None:  # type: ignore[no-untyped-def]
    client, _ = platform
    services = {
        s["service"]: s
        for s in client.get("/api/v1/ops/status", headers=login(client, "ops")).json()["services"]
    }
    facility = services["facility"]
    assert facility["ready"] is True and facility["reason"] is None  # degraded is not "not ready"
    assert [(d["check"], d["title"], d["replicas"], d["of"]) for d in facility["degraded"]] == [
        ("broker", "消息代理未连接", 1, 1), ("consumer", "消费者未挂接", 1, 1), ("outbox", "发件箱积压", 1, 1), ("audit", "访问审计写入失败", 1, 1),
    ]  # fmt: skip
    assert facility["degraded"][2]["detail"] == "发件箱积压 12000 条，超过 10000"
    assert facility["replicas"][0]["degraded"][0]["detail"] == DEGRADED_CHECKS["broker"]["detail"]
    # A service without /health (or unreachable) shows no flag rather than breaking the page.
    assert services["claims"]["degraded"] == [] and services["settlement"]["degraded"] == []


def test_admin_may_read_and_replay_ops_may_not_replay(platform) -> None:  # type: ignore[no-untyped-def]
    client, _ = platform
    ops, admin = login(client, "ops"), login(client, "admin")
    assert client.get("/api/v1/ops/status", headers=admin).status_code == 200
    assert client.get("/api/v1/ops/dead-letters/facility", headers=ops).json() == {
        "service": "facility",
        "items": [],
    }
    refused = client.post("/api/v1/ops/dead-letters/facility/replay", json={"message_id": "m1"}, headers=ops)
    assert refused.status_code == 403
    done = client.post(
        "/api/v1/ops/dead-letters/facility/replay",
        json={"message_id": "m1", "reason": "已修复"},
        headers=admin,
    )
    assert done.status_code == 200, done.text
    assert done.json()["asked"] == {"message_id": "m1", "reason": "已修复"}


def test_unknown_services_and_bad_bodies_are_4xx(platform) -> None:  # type: ignore[no-untyped-def]
    client, _ = platform
    admin = login(client, "admin")
    missing = client.get("/api/v1/ops/dead-letters/nosuch", headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = client.post("/api/v1/ops/dead-letters/facility/replay", json={"message_id": ""}, headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM_JSON)
    unreachable = client.get("/api/v1/ops/dead-letters/settlement", headers=admin)
    assert unreachable.status_code == 502 and unreachable.json()["code"] == "bad_gateway"


def test_the_page_is_served_in_chinese_with_its_refresh_interval(platform) -> None:  # type: ignore[no-untyped-def]
    client, _ = platform
    page = client.get("/ops")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "运行监控" in page.text and 'lang="zh-CN"' in page.text
    assert "|| 2;" in page.text  # the gateway's ops_refresh_s
    assert "__REFRESH_S__" not in page.text


def test_a_deadline_kind_is_named_by_its_service_else_by_its_kind() -> None:
    from gateway.ops import _deadline_line

    own = _deadline_line(
        "claims", {"kind": "claim_payment", "title": "待遇支付（报销与生育）", "available": True}
    )
    assert (own["title"], own["service"]) == ("待遇支付（报销与生育）", "claims")
    # The page keeps its titles for the kinds no service reports (未接入), not for a reported one.
    assert _deadline_line("transfer", {"kind": "transfer_step", "title": None})["title"] == "transfer_step"
    assert _deadline_line("claims", {"kind": "a_new_kind", "title": None})["title"] == "a_new_kind"
