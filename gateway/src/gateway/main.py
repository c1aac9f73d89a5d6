"""The API gateway: one public entry for apps, staff pages and other offices."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import aiohttp
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.accounts import find_account
from gateway.openapi import MergedOpenAPI
from gateway.ops import ops_router
from gateway.proxy import Proxy, Upstreams
from gateway.settings import GatewaySettings
from shared.auth.issuer import DevIssuer
from shared.calendar import default_calendar
from shared.errors import Problem
from shared.http.middleware import RequestContextMiddleware
from shared.http.problems import install_problem_handlers
from shared.logs import configure_logging
from shared.service import verifier_from

MAX_WORKING_DAYS = 3660


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


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
        raise RuntimeError("the development token issuer must not run in production (set YB_GATEWAY_DEV_ISSUER=false)")
    issuer = DevIssuer.load_or_create(settings.key_dir, settings.auth_issuer, settings.auth_audience) if settings.dev_issuer else None
    verifier = verifier_from(settings)
    upstreams = Upstreams(settings.upstreams)
    proxy = Proxy(settings, verifier, upstreams)
    openapi = MergedOpenAPI(lambda: proxy.session, upstreams)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await proxy.start()
        yield
        await proxy.close()

    app = FastAPI(title="医保经办平台 API", version="0.1.0", lifespan=lifespan, docs_url=None, openapi_url=None)
    app.state.verifier = verifier  # the gateway's own role-checked endpoints (ops) verify tokens too
    install_problem_handlers(app)
    app.include_router(auth_router(settings, issuer))
    app.include_router(calendar_router())
    app.include_router(health_router(proxy, upstreams))
    app.include_router(business_date_router(proxy, upstreams))
    app.include_router(ops_router(settings, proxy, upstreams))

    @app.get("/openapi.json", include_in_schema=False)
    async def merged_openapi() -> JSONResponse:
        from fastapi.openapi.utils import get_openapi

        base = get_openapi(title=app.title, version=app.version, routes=app.routes, description="网关与各服务接口合并文档")
        return JSONResponse(await openapi.document(base))

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="医保经办平台 API 文档")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    gateway: ASGIApp = Gateway(app, proxy)
    gateway = RequestContextMiddleware(gateway, service="gateway")
    return CORSMiddleware(
        gateway,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "X-Correlation-ID", "ETag", "Retry-After"],
    )


def auth_router(settings: GatewaySettings, issuer: DevIssuer | None) -> APIRouter:
    router = APIRouter(tags=["登录"])

    @router.post("/api/v1/auth/token", response_model=TokenOut, summary="开发环境登录（演示账号）")
    async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
        if issuer is None:
            raise Problem(404, "not_found", "资源不存在", "本环境使用外部身份认证")
        account = find_account(form.username, form.password, settings.person_id_key)
        if account is None:
            raise Problem(401, "invalid_credentials", "用户名或密码错误")
        return TokenOut(access_token=issuer.issue(account.principal, settings.token_ttl_s), expires_in=settings.token_ttl_s)

    @router.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks() -> dict:
        return issuer.jwks() if issuer else {"keys": []}

    return router


def calendar_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/calendar", tags=["工作日历"])

    @router.get("/days/{day}", response_model=DayOut, summary="某日是否为工作日")
    async def day(day: date) -> DayOut:
        info = default_calendar().day(day)
        return DayOut(date=info.date, working_day=info.working_day, reason=info.reason, provisional=info.provisional)

    @router.get("/add-working-days", response_model=WorkingDateOut, summary="N 个工作日后的日期（受理当日为第 0 日）")
    async def add_working_days(
        start: date, days: Annotated[int, Query(ge=0, le=MAX_WORKING_DAYS, description="工作日数")]
    ) -> WorkingDateOut:
        result = default_calendar().add_working_days(start, days)
        return WorkingDateOut(date=result.date, provisional=result.provisional)

    return router


def health_router(proxy: Proxy, upstreams: Upstreams) -> APIRouter:
    router = APIRouter(tags=["健康检查"])

    @router.get("/health/live", include_in_schema=False)
    async def live() -> dict:
        return {"status": "ok"}

    @router.get("/health", summary="平台健康：各服务就绪状态")
    async def health() -> JSONResponse:
        checks = await asyncio.gather(*(_service_health(proxy, upstreams, s) for s in upstreams.services))
        services = dict(zip(upstreams.services, checks))
        ready = all(s["ready"] for s in services.values())
        return JSONResponse({"status": "ready" if ready else "degraded", "services": services}, status_code=200 if ready else 503)

    return router


def business_date_router(proxy: Proxy, upstreams: Upstreams) -> APIRouter:
    """Moves the business date of every service replica at once (non-production; each service checks)."""
    router = APIRouter(prefix="/api/v1/admin", tags=["管理"])

    @router.put("/business-date", summary="设置全平台业务日期（非生产环境，管理员）")
    async def move(request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}

        async def one(url: str, service: str) -> tuple[str, int, dict]:
            async with proxy.session.put(f"{url}/api/v1/{service}/admin/business-date", data=body, headers=headers) as response:  # type: ignore[union-attr]
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
    replicas = []
    for url in upstreams.all_urls(service):
        try:
            async with proxy.session.get(f"{url}/health/ready", timeout=aiohttp.ClientTimeout(total=3)) as response:  # type: ignore[union-attr]
                body = await response.json(content_type=None)
                replicas.append({"url": url, "ready": response.status == 200, "checks": body.get("checks", {})})
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            replicas.append({"url": url, "ready": False, "detail": f"无法连接: {type(exc).__name__}"})
    return {"ready": all(r["ready"] for r in replicas), "replicas": replicas}
