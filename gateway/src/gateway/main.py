"""The API gateway: one public entry for apps, staff pages and other offices."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import aiohttp
from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.accounts import STATE_FILE, AccountDirectory, CheckedVerifier, TestAccounts, load_demo_accounts
from gateway.calendar_notices import CalendarNotices
from gateway.docs import install_docs
from gateway.edge import EdgeMiddleware
from gateway.my_cases import MyCases, my_cases_router
from gateway.oidc import oidc_router
from gateway.openapi import MergedOpenAPI, base_document
from gateway.ops import ops_router
from gateway.proxy import Proxy, Upstreams, read_body
from gateway.ratelimit import RateLimiter
from gateway.settings import GatewaySettings
from gateway.signin import SignInGuard
from gateway.workbench import workbench_router
from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.auth.issuer import DevIssuer
from shared.auth.verify import REFRESH
from shared.calendar import default_calendar
from shared.errors import Problem
from shared.http.middleware import RequestContextMiddleware
from shared.http.problems import install_problem_handlers
from shared.http.responses import ApiJSONResponse
from shared.logs import configure_logging
from shared.service import collect_garbage_less_often, verifier_from

MAX_WORKING_DAYS = 3660
MAX_ADMIN_BODY_BYTES = 4096  # the platform business date is a date: nothing bigger is read


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None


class MeOut(BaseModel):
    subject: str
    role: Role
    office_code: str | None = None
    office_level: str | None = None


class DisabledIn(BaseModel):
    disabled: bool


class RevokedOut(BaseModel):
    username: str
    token_version: int


class DayOut(BaseModel):
    date: date
    working_day: bool
    reason: str
    provisional: bool


class WorkingDateOut(BaseModel):
    date: date
    provisional: bool


class Gateway:
    """Routes a request to a service through the proxy, or to the gateway's own endpoints."""

    def __init__(self, app: FastAPI, proxy: Proxy):
        self.app, self.proxy = app, proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (service := self.proxy.target(scope["path"])) is not None:
            await self.proxy(scope, receive, send, service)
        else:
            await self.app(scope, receive, send)


def create_app(settings: GatewaySettings | None = None) -> ASGIApp:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    if settings.environment == "production" and settings.dev_issuer:
        raise RuntimeError(
            "the development token issuer must not run in production (set YB_GATEWAY_DEV_ISSUER=false)"
        )
    issuer = (
        DevIssuer.load_or_create(settings.key_dir, settings.auth_issuer, settings.auth_audience)
        if settings.dev_issuer
        else None
    )
    # The accounts the development issuer signs in; an outside identity provider keeps its own.
    test_accounts = TestAccounts(settings.test_accounts_file) if settings.test_accounts_file else None
    directory = (
        AccountDirectory(load_demo_accounts(settings.person_id_key), settings.key_dir / STATE_FILE, test_accounts)
        if settings.dev_issuer else None
    )  # fmt: skip
    verifier = CheckedVerifier(verifier_from(settings), directory)
    upstreams = Upstreams(settings.upstreams)
    proxy = Proxy(settings, verifier, upstreams)
    openapi = MergedOpenAPI(lambda: proxy.session, upstreams)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await proxy.start()
        collect_garbage_less_often()
        yield
        await proxy.close()

    # No slash redirects: they would be built from the caller's Host header.
    app = FastAPI(
        title="医保经办平台 API",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        openapi_url=None,
        redirect_slashes=False,
        default_response_class=ApiJSONResponse,
    )
    app.state.verifier = verifier  # the gateway's own role-checked endpoints (ops) verify tokens too
    install_problem_handlers(app)
    app.include_router(auth_router(settings, issuer, directory))
    app.include_router(oidc_router(settings, verifier))
    app.include_router(jwks_router(issuer))
    app.include_router(calendar_router(CalendarNotices(lambda: proxy.http, upstreams)))
    app.include_router(health_router(proxy, upstreams))
    app.include_router(business_date_router(proxy, upstreams))
    app.include_router(ops_router(settings, proxy, upstreams))
    app.include_router(workbench_router())
    my_cases = MyCases(lambda: proxy.session, upstreams)
    app.include_router(my_cases_router(my_cases, settings.my_cases_poll_s, settings.my_cases_stream_s))

    async def merged_document() -> dict:
        return await openapi.document(base_document(app))

    install_docs(app, upstreams.services, merged_document)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    gateway: ASGIApp = Gateway(app, proxy)
    gateway = RequestContextMiddleware(gateway, service="gateway")
    gateway = CORSMiddleware(
        gateway,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "If-Match",
            "X-Request-ID",
            "X-Correlation-ID",
        ],
        expose_headers=["X-Request-ID", "X-Correlation-ID", "ETag", "Retry-After"],
    )
    own_limiter = RateLimiter(settings.own_rate_limit_per_s, settings.own_rate_limit_burst)
    return EdgeMiddleware(gateway, settings.trusted_proxies, settings.internal_networks, verifier, own_limiter,
                          is_own=lambda path: proxy.target(path) is None)  # fmt: skip


def auth_router(
    settings: GatewaySettings, issuer: DevIssuer | None, directory: AccountDirectory | None
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/auth", tags=["登录"])
    guard = SignInGuard(settings.signin_per_address_per_min, settings.signin_max_failures,
                        settings.signin_failure_window_s, settings.signin_lockout_s)  # fmt: skip
    admin = require_roles(Role.admin)

    def tokens_for(principal: Principal) -> TokenOut:
        assert issuer is not None
        return TokenOut(
            access_token=issuer.issue(principal, settings.token_ttl_s),
            expires_in=settings.token_ttl_s,
            refresh_token=issuer.issue(principal, settings.refresh_ttl_s, use=REFRESH),
            refresh_expires_in=settings.refresh_ttl_s,
        )

    def accounts() -> AccountDirectory:
        if issuer is None or directory is None:
            raise Problem(
                404, "dev_signin_disabled", "开发环境登录已停用", "本环境通过经办机构的统一身份认证登录"
            )
        return directory

    @router.post(
        "/token",
        response_model=TokenOut,
        response_model_exclude_none=True,
        summary="开发环境登录（演示账号）",
    )
    async def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
        found = accounts()
        guard.admit(request.client.host if request.client else "unknown", form.username)
        principal = found.sign_in(form.username, form.password)
        if principal is None:
            guard.failed(form.username)
            raise Problem(401, "invalid_credentials", "用户名或密码错误")
        guard.succeeded(form.username)
        return tokens_for(principal)

    @router.post(
        "/refresh",
        response_model=TokenOut,
        response_model_exclude_none=True,
        summary="用刷新令牌换取新的访问令牌",
    )
    async def refresh(request: Request, refresh_token: Annotated[str, Form(max_length=4096)]) -> TokenOut:
        found = accounts()
        principal = await request.app.state.verifier.verify(refresh_token, use=REFRESH)
        # The account as it is now (office, role), at its current token version.
        return tokens_for(found.principal(principal.subject) if found.known(principal.subject) else principal)

    @router.get("/me", response_model=MeOut, summary="当前令牌代表的用户")
    async def me(principal: CurrentPrincipal) -> MeOut:
        return MeOut(subject=principal.subject, role=principal.role, office_code=principal.office_code,
                     office_level=principal.office_level)  # fmt: skip

    @router.post("/revoke", response_model=RevokedOut, summary="注销：本人的全部令牌立即失效")
    async def revoke_own(principal: CurrentPrincipal) -> RevokedOut:
        return RevokedOut(username=principal.subject, token_version=accounts().revoke(principal.subject))

    @router.post(
        "/users/{username}/revoke",
        response_model=RevokedOut,
        dependencies=[admin],
        summary="撤销某账号的全部令牌（管理员）",
    )
    async def revoke_user(username: Annotated[str, Path(max_length=120)]) -> RevokedOut:
        found = _listed(accounts(), username)
        return RevokedOut(username=username, token_version=found.revoke(username))

    @router.put(
        "/users/{username}/disabled",
        dependencies=[admin],
        summary="停用或启用账号（管理员；停用即撤销其令牌）",
    )
    async def disable_user(username: Annotated[str, Path(max_length=120)], body: DisabledIn) -> dict:
        _listed(accounts(), username).set_disabled(username, body.disabled)
        return {"username": username, "disabled": body.disabled}

    return router


def _listed(directory: AccountDirectory, username: str) -> AccountDirectory:
    if not directory.known(username):
        raise Problem(404, "not_found", "账号不存在")
    return directory


def jwks_router(issuer: DevIssuer | None) -> APIRouter:
    router = APIRouter()

    @router.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks() -> dict:
        return issuer.jwks() if issuer else {"keys": []}

    return router


def calendar_router(notices: CalendarNotices | None = None) -> APIRouter:
    """The public calendar; with ``notices``, the published holiday notices are read from claims first (at most
    every few seconds), so a year becomes exact here too once its notice is published."""
    router = APIRouter(prefix="/api/v1/calendar", tags=["工作日历"])

    async def notices_known() -> None:
        if notices is not None:
            await notices.refresh_if_stale()

    @router.get("/days/{day}", response_model=DayOut, summary="某日是否为工作日")
    async def day(day: date) -> DayOut:
        await notices_known()
        info = default_calendar().day(day)
        return DayOut(
            date=info.date, working_day=info.working_day, reason=info.reason, provisional=info.provisional
        )

    @router.get(
        "/add-working-days", response_model=WorkingDateOut, summary="N 个工作日后的日期（受理当日为第 0 日）"
    )
    async def add_working_days(
        start: date, days: Annotated[int, Query(ge=0, le=MAX_WORKING_DAYS, description="工作日数")]
    ) -> WorkingDateOut:
        await notices_known()
        result = default_calendar().add_working_days(start, days)
        return WorkingDateOut(date=result.date, provisional=result.provisional)

    return router


def health_router(proxy: Proxy, upstreams: Upstreams) -> APIRouter:
    router = APIRouter(tags=["健康检查"])

    @router.get("/health/live", include_in_schema=False)
    async def live() -> dict:
        return {"status": "ok"}

    @router.get("/health/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        # The gateway can route once its client is up. It does not depend on the services being
        # ready: a pod that is not ready leaves the Service, and every gateway pod leaving because
        # one service is down would turn that service's outage into the whole platform's.
        up = proxy.session is not None and not proxy.session.closed
        return JSONResponse({"status": "ready" if up else "not_ready"}, status_code=200 if up else 503)

    @router.get("/health", summary="平台健康：各服务就绪与降级状态")
    async def health() -> JSONResponse:
        checks = await asyncio.gather(*(_service_health(proxy, upstreams, s) for s in upstreams.services))
        services = dict(zip(upstreams.services, checks, strict=True))
        ready = all(s["ready"] for s in services.values())
        degraded = any(s["degraded"] for s in services.values())
        status = "not_ready" if not ready else "degraded" if degraded else "ready"
        return JSONResponse({"status": status, "services": services}, status_code=200 if ready else 503)

    return router


def business_date_router(proxy: Proxy, upstreams: Upstreams) -> APIRouter:
    """Moves the business date of every service replica at once (non-production; each service checks)."""
    router = APIRouter(prefix="/api/v1/admin", tags=["管理"])

    # The caller is checked (admin) before a byte of the body is read, and the body is bounded.
    @router.put(
        "/business-date",
        summary="设置全平台业务日期（非生产环境，管理员）",
        dependencies=[require_roles(Role.admin)],
    )
    async def move(request: Request) -> JSONResponse:
        body = await read_body(request.receive, MAX_ADMIN_BODY_BYTES)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}

        async def one(url: str, service: str) -> tuple[str, int, dict]:
            async with proxy.http.put(
                f"{url}/api/v1/{service}/admin/business-date", data=body, headers=headers
            ) as response:
                return url, response.status, await response.json(content_type=None)

        calls = [one(url, s) for s in upstreams.services for url in upstreams.all_urls(s)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        answers = [r for r in results if not isinstance(r, BaseException)]
        if len(answers) < len(calls):
            raise Problem(502, "bad_gateway", "上游服务不可用", "部分服务未能设置业务日期")
        refused = [a for a in answers if a[1] != 200]
        if refused:
            _, status, problem = refused[0]
            return JSONResponse(problem, status_code=status, media_type="application/problem+json")
        return JSONResponse({"replicas": {url: answer for url, _, answer in answers}})

    return router


async def _service_health(proxy: Proxy, upstreams: Upstreams, service: str) -> dict:
    """Every replica's GET /health: ready (its database answers) and what it reports degraded."""
    replicas = []
    for url in upstreams.all_urls(service):
        try:
            async with proxy.http.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=3)) as response:
                body = await response.json(content_type=None)
                replicas.append({"url": url, "ready": response.status == 200, "degraded": body.get("degraded", []),
                                 "checks": body.get("checks", {})})  # fmt: skip
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            replicas.append(
                {"url": url, "ready": False, "degraded": [], "detail": f"无法连接: {type(exc).__name__}"}
            )
    return {
        "ready": all(r["ready"] for r in replicas),
        "degraded": any(r["degraded"] for r in replicas),
        "replicas": replicas,
    }
