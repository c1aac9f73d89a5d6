"""The operations dashboard: the page at /ops and the status API behind it.

`GET /api/v1/ops/status` gathers, from every replica of every service, liveness and readiness
(`/health/live`, `/health/ready`), the degraded states of `/health` (broker disconnected, consumer
detached, outbox backlog, access audit failing: the process keeps serving, but ops must see them)
and what the service reports on `/internal/ops/status` (event flow, deadlines, inter-office
delivery, recent errors; see shared.ops). Dead letters are listed and
replayed through the service that owns the queue, which records the replay. Nothing here carries
personal data: the services mask dead-letter payloads and keep only message templates of errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.resources import files
from typing import Annotated, Any

import aiohttp
from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from gateway.proxy import Proxy, Upstreams, read_body
from gateway.settings import GatewaySettings
from shared.auth import Role
from shared.auth.dependencies import require_roles
from shared.errors import Problem
from shared.logs import RECENT_ERRORS
from shared.ops import ReplayIn

SERVICE_TITLES = {
    "registration": "参保登记",
    "claims": "待遇核定",
    "settlement": "定点结算",
    "transfer": "转移接续",
    "facility": "定点协议管理",
}
# The deadline kinds the platform's services are expected to report: the page shows one no service
# reports (yet, or at the moment) as 未接入 under this title. A reported kind carries the service's title.
DEADLINE_KINDS = {
    "transfer_step": "转移接续环节",
    "transfer_whole": "转移接续全程（受理后20个工作日）",
    "claim_payment": "待遇支付",
    "facility_reply": "定点申请受理答复",
    "settlement_payment": "定点机构结算拨付",
}
CALL_TIMEOUT_S = 3.0
MAX_REPLAY_BODY_BYTES = 64 * 1024
RECENT_ERRORS_SHOWN = 30
# The degraded states a service reports on /health, in the order the page shows them.
DEGRADED_TITLES = {
    "broker": "消息代理未连接",
    "consumer": "消费者未挂接",
    "outbox": "发件箱积压",
    "audit": "访问审计写入失败",
}

ServiceName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="服务名，如 facility")]


def ops_router(settings: GatewaySettings, proxy: Proxy, upstreams: Upstreams) -> APIRouter:
    router = APIRouter(tags=["运维"])
    readers = require_roles(Role.ops, Role.admin)

    @router.get("/ops", include_in_schema=False)
    async def page() -> HTMLResponse:
        # The page holds no data (it signs in and reads the status API), so anyone may load it.
        html = files("gateway").joinpath("static/ops.html").read_text(encoding="utf-8")
        return HTMLResponse(html.replace("__REFRESH_S__", f"{settings.ops_refresh_s:g}"))

    @router.get("/api/v1/ops/status", dependencies=[readers], summary="平台运行状态（运维）")
    async def status(request: Request) -> dict:
        auth = _authorization(request)
        answers = await asyncio.gather(*(_service(proxy, upstreams, s, auth) for s in upstreams.services))
        return platform_status(settings, dict(zip(upstreams.services, answers, strict=True)))

    @router.get(
        "/api/v1/ops/dead-letters/{service}", dependencies=[readers], summary="死信列表（个人信息已脱敏）"
    )
    async def dead_letters(
        request: Request, service: ServiceName, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> JSONResponse:
        return await _forward(
            proxy,
            upstreams,
            service,
            "GET",
            f"/internal/ops/dead-letters?limit={limit}",
            _authorization(request),
        )

    # The body is read by hand, after the role check: FastAPI reads a declared body before it runs the
    # dependencies, so an anonymous caller would have it read.
    @router.post(
        "/api/v1/ops/dead-letters/{service}/replay", dependencies=[require_roles(Role.admin)], summary="重放死信（管理员，留痕）",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": ReplayIn.model_json_schema()}}}},
    )  # fmt: skip
    async def replay(request: Request, service: ServiceName) -> JSONResponse:
        try:
            body = ReplayIn.model_validate_json(await read_body(request.receive, MAX_REPLAY_BODY_BYTES))
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from exc
        return await _forward(
            proxy,
            upstreams,
            service,
            "POST",
            "/internal/ops/dead-letters/replay",
            _authorization(request),
            body.model_dump(),
        )

    return router


def _authorization(request: Request) -> dict[str, str]:
    # The services check the caller's token again, so it is passed on as it came.
    return {"Authorization": request.headers.get("authorization", "")}


# --------------------------------------------------------------------------- gathering


async def _get(proxy: Proxy, url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with proxy.http.get(
        url, headers=headers, timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_S)
    ) as response:
        return response.status, await response.json(content_type=None)


async def _replica(proxy: Proxy, url: str, auth: dict[str, str]) -> dict[str, Any]:
    """One replica's answers; an unreachable replica is neither live nor ready."""
    answers: Sequence[tuple[int, Any] | BaseException] = await asyncio.gather(
        _get(proxy, f"{url}/health/live"), _get(proxy, f"{url}/health/ready"), _get(proxy, f"{url}/internal/ops/status", auth),
        _get(proxy, f"{url}/health"), return_exceptions=True,
    )  # fmt: skip
    live, ready, internal, health = answers
    live_ok = not isinstance(live, BaseException) and live[0] == 200
    answer: dict[str, Any] = {"url": url, "live": live_ok}
    if isinstance(ready, BaseException):
        answer |= {"ready": False, "reason": _unreachable(ready)}
    else:
        answer |= {
            "ready": ready[0] == 200,
            "reason": None if ready[0] == 200 else _not_ready_reason(ready[1]),
        }
    answer["report"] = internal[1] if not isinstance(internal, BaseException) and internal[0] == 200 else None
    answer["degraded"] = [] if isinstance(health, BaseException) else degraded_states(health[1])
    return answer


def degraded_states(health: Any) -> list[dict[str, str]]:
    """The degraded states a replica's /health names, each with the service's own words."""
    if not isinstance(health, dict) or not isinstance(health.get("checks"), dict):
        return []
    checks = health["checks"]
    order = list(DEGRADED_TITLES)
    named = [str(n) for n in health.get("degraded") or [] if isinstance(checks.get(n), dict)]
    named.sort(key=lambda n: order.index(n) if n in order else len(order))
    return [
        {"check": n, "title": DEGRADED_TITLES.get(n, n), "detail": str(checks[n].get("detail") or "")}
        for n in named
    ]


def _unreachable(error: BaseException) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "服务无响应（超时）"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "服务无响应（无法连接）"
    return f"服务应答异常（{type(error).__name__}）"


def _not_ready_reason(body: Any) -> str:
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    reasons = [
        str(c.get("detail") or name) for name, c in checks.items() if isinstance(c, dict) and not c.get("ok")
    ]
    return "；".join(reasons) or "未就绪"


async def _service(proxy: Proxy, upstreams: Upstreams, service: str, auth: dict[str, str]) -> list[dict]:
    return list(await asyncio.gather(*(_replica(proxy, url, auth) for url in upstreams.all_urls(service))))


def platform_status(settings: GatewaySettings, replicas_by_service: dict[str, list[dict]]) -> dict:
    """The status API's answer, from every replica's answers."""
    services: list[dict[str, Any]] = []
    flows: list[dict[str, Any]] = []
    deadlines: dict[str, dict[str, Any]] = {}
    peers: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for service, replicas in replicas_by_service.items():
        services.append(_service_line(service, replicas))
        reports = [r["report"] for r in replicas if r["report"]]
        flows.append(_flow_line(service, reports))
        if reports:
            deadlines |= {d["kind"]: _deadline_line(service, d) for d in reports[0].get("deadlines", [])}
            peers += [{**p, "service": service} for p in reports[0].get("peers", [])]
        errors += [{**e, "service": service} for report in reports for e in report.get("recent_errors", [])]
    errors += [{**e, "service": "gateway"} for e in RECENT_ERRORS.latest()]
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "refresh_s": settings.ops_refresh_s,
        "status": "ready" if all(s["ready"] and not s["degraded"] for s in services) else "degraded",
        "services": services,
        "event_flow": flows,
        "deadlines": [deadlines.get(kind) or {"kind": kind, "title": title, "available": False, "reported": False}
                      for kind, title in DEADLINE_KINDS.items()] + [d for k, d in deadlines.items() if k not in DEADLINE_KINDS],
        "peers": peers,
        "recent_errors": sorted(errors, key=lambda e: e.get("at") or "", reverse=True)[:RECENT_ERRORS_SHOWN],
    }  # fmt: skip


def _deadline_line(service: str, deadline: dict[str, Any]) -> dict[str, Any]:
    """A service's deadline kind, named by its own title (the kind when it gives none)."""
    return {**deadline, "title": deadline.get("title") or deadline["kind"], "service": service}


def _service_line(service: str, replicas: list[dict]) -> dict:
    not_ready = [r for r in replicas if not r["ready"]]
    return {
        "service": service,
        "title": SERVICE_TITLES.get(service, service),
        "live": all(r["live"] for r in replicas),
        "ready": not not_ready,
        "reason": not_ready[0]["reason"] if not_ready else None,
        "degraded": _degraded_line(replicas),
        "replicas": [{k: r[k] for k in ("url", "live", "ready", "reason", "degraded")} for r in replicas],
    }


def _degraded_line(replicas: list[dict]) -> list[dict[str, Any]]:
    """Each degraded state once per service, with how many of its replicas report it."""
    states: dict[str, dict[str, Any]] = {}
    for replica in replicas:
        for state in replica["degraded"]:
            line = states.setdefault(state["check"], {**state, "replicas": 0, "of": len(replicas)})
            line["replicas"] += 1
    return list(states.values())


def _flow_line(service: str, reports: list[dict]) -> dict:
    """Queues and the outbox are shared by the replicas (read once); throughput adds up over them."""
    if not reports:
        return {"service": service, "available": False}
    flow = reports[0]["event_flow"]
    per_minute = {
        k: sum(r["event_flow"]["per_minute"].get(k, 0) for r in reports) for k in flow["per_minute"]
    }
    return {
        "service": service,
        "available": True,
        "outbox": flow["outbox"],
        "queues": flow["queues"],
        "subscriptions": flow.get("subscriptions", 0),
        "per_minute": per_minute,
    }


async def _forward(
    proxy: Proxy,
    upstreams: Upstreams,
    service: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict | None = None,
) -> JSONResponse:
    """Ask any replica (they share the queue); pass its answer on, problems included."""
    if service not in upstreams:
        raise Problem(404, "not_found", "服务不存在", f"没有名为 {service} 的服务")
    if body is not None:  # the proxy's session adds no Content-Type of its own
        headers = {**headers, "Content-Type": "application/json"}
    for url in upstreams.in_turn(service):
        try:
            async with proxy.http.request(
                method, url + path, headers=headers, json=body, timeout=aiohttp.ClientTimeout(total=30)
            ) as response:
                content = await response.json(content_type=None)
                return JSONResponse(content, status_code=response.status, media_type=response.content_type)
        except aiohttp.ClientConnectorError:
            continue
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise Problem(502, "bad_gateway", "上游服务不可用", f"{service} 应答异常") from exc
    raise Problem(502, "bad_gateway", "上游服务不可用", f"{service} 暂时无法连接")
