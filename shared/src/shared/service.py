"""The runtime and app factory every service is built with.

One process of a service = the HTTP app + its outbox relay + its consumer, sharing one database
engine and one broker connection. The broker may be down at start or go away later: the process
keeps serving its API (events wait in the outbox), reports itself *degraded* on `/health`, and
connects again when the broker returns.

Health, as an orchestrator uses it:
    GET /health/live    the process works (restart it when this fails)
    GET /health/ready   it can serve its API: its database answers (send it traffic while 200)
    GET /health         the details: database, broker, consumer attached, outbox backlog, access
                        audit; 200 "ready" or "degraded" while ready, 503 "not_ready"
A service adds its own checks to both through `create_service_app(health_checks=[HealthCheck(…)])`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date as date_type
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import holiday_notices, metrics
from shared.auth import Role, TokenVerifier
from shared.auth.dependencies import require_roles
from shared.clock import Clock, ClockOverrideRefused, SystemClock, make_clock
from shared.db import UnitOfWork, make_engine, make_session_factory, ping, release_idle_connections
from shared.errors import Problem
from shared.events.broker import Broker
from shared.events.consumer import Consumer, Subscription
from shared.events.outbox import outbox_backlog
from shared.events.relay import OutboxRelay
from shared.http.audit import AccessAudit
from shared.http.middleware import RequestContextMiddleware
from shared.http.openapi import document_problems
from shared.http.problems import install_problem_handlers
from shared.http.responses import ApiJSONResponse
from shared.logs import configure_logging
from shared.ops import OpsHooks, OpsState, ops_router, refresh_gauges
from shared.settings import CommonSettings

log = logging.getLogger(__name__)

DATABASE_PING_TIMEOUT_S = 2.0
# Access audit rows waiting longer than this many at once: the database refuses them (degraded).
AUDIT_WAITING_DEGRADED = 100


PeriodicJob = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass(frozen=True)
class HealthCheck:
    """A check a service adds to its health (e.g. transfer's peers). `check` returns the check's entry
    (``{"ok": …, "detail": …}``) or None when it has nothing to report; a failed `readiness` check
    makes the service not ready, any other failed check degraded. /health/ready, /health and the
    gauges on /metrics all run them, so they always agree."""

    name: str
    check: Callable[[ServiceRuntime], Awaitable[dict[str, Any] | None]]
    readiness: bool = False


@dataclass
class ServiceRuntime:
    service: str
    settings: CommonSettings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: Broker
    verifier: TokenVerifier
    relay: OutboxRelay
    consumer: Consumer = field(init=False)
    audit: AccessAudit = field(init=False)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    requests_gate: asyncio.Semaphore = field(init=False)
    health_checks: Sequence[HealthCheck] = ()

    def __post_init__(self) -> None:
        self.requests_gate = asyncio.Semaphore(self.settings.database_request_connections)

    def uow(self) -> UnitOfWork:
        """A unit of work for event handlers and jobs (not limited by the requests' gate)."""
        return UnitOfWork(self.sessions, self.clock, self.service)

    def request_uow(self) -> UnitOfWork:
        """A unit of work for an HTTP request: requests at once share `database_request_connections`."""
        return UnitOfWork(
            self.sessions,
            self.clock,
            self.service,
            gate=self.requests_gate,
            gate_wait_s=self.settings.database_request_wait_s,
        )


def build_runtime(
    service: str, settings: CommonSettings, subscriptions: Sequence[Subscription[Any]]
) -> ServiceRuntime:
    engine = make_engine(
        settings.database_url,
        settings.database_pool_size,
        schema=service,
        pgbouncer=settings.database_pgbouncer,
    )
    sessions = make_session_factory(engine)
    clock = make_clock(settings.environment, settings.business_date)
    broker = Broker(settings.broker_url, settings.broker_namespace, settings.broker_reconnect_interval_s)
    relay = OutboxRelay(
        sessions,
        broker,
        settings.database_listen_url or settings.database_url,  # its LISTEN connection
        schema=service,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
        linger_s=settings.event_linger_ms / 1000,
    )
    runtime = ServiceRuntime(
        service, settings, clock, engine, sessions, broker, verifier_from(settings), relay
    )
    runtime.audit = AccessAudit(sessions, service, settings.person_id_key)
    # Handlers get their unit of work from the runtime, so they see a business date moved at run time.
    runtime.consumer = Consumer(
        service,
        subscriptions,
        broker,
        runtime.uow,
        max_attempts=settings.consumer_max_attempts,
        retry_delays_ms=settings.consumer_retry_delays_ms,
        prefetch=settings.consumer_concurrency,
        linger_s=settings.event_linger_ms / 1000,
    )
    return runtime


def verifier_from(settings: CommonSettings) -> TokenVerifier:
    return TokenVerifier(
        settings.auth_issuer,
        settings.auth_audience,
        settings.auth_algorithm,
        jwks_file=settings.auth_jwks_file,
        jwks_url=settings.auth_jwks_url,
    )


async def _connect_broker_then_consume(runtime: ServiceRuntime) -> None:
    """Connect and start consuming, then the relay; until the broker answers, try again every
    reconnect interval (the API serves meanwhile). One WARNING while it does not, one INFO after."""
    failures = 0
    while not runtime.stop.is_set():
        try:
            await runtime.broker.connect()
            await runtime.consumer.start()
        except Exception as exc:
            failures += 1
            if failures == 1:
                log.warning(
                    "broker not reachable (%s: %s); serving without it, retrying every %.1f s",
                    type(exc).__name__, str(exc)[:200], runtime.broker.reconnect_interval_s,
                )  # fmt: skip
            await runtime.broker.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(runtime.stop.wait(), timeout=runtime.broker.reconnect_interval_s)
            continue
        log.info("connected to the broker; consuming %s", runtime.consumer.names.queue)
        runtime.tasks.append(asyncio.create_task(runtime.relay.run(runtime.stop), name="outbox-relay"))
        return


async def _release_idle_connections(runtime: ServiceRuntime) -> None:
    """Close pooled connections idle for `database_pool_idle_s`, keeping `database_pool_min_idle`."""
    settings = runtime.settings
    while not runtime.stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(runtime.stop.wait(), timeout=max(0.2, settings.database_pool_idle_s / 2))
        try:
            await release_idle_connections(
                runtime.engine, settings.database_pool_min_idle, settings.database_pool_idle_s
            )
        except Exception:
            log.warning("could not release idle database connections", exc_info=True)


def every(interval_s: float, job: PeriodicJob) -> PeriodicJob:
    """`job` run at its own interval instead of the service's `periodic_interval_s`."""

    async def run(runtime: ServiceRuntime) -> None:
        await job(runtime)

    run.interval_s = interval_s  # type: ignore[attr-defined]
    run.__name__ = getattr(job, "__name__", "job")
    return run


async def _every(runtime: ServiceRuntime, job: PeriodicJob, interval_s: float) -> None:
    """Run `job` every `interval_s` until stopped; a failing run is logged and the next one goes ahead.
    Jobs claim their work with row locks (SKIP LOCKED), so any number of replicas may run them."""
    while not runtime.stop.is_set():
        try:
            await job(runtime)
        except Exception:
            log.exception("periodic job %s failed", getattr(job, "__name__", job))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(runtime.stop.wait(), timeout=interval_s)


def collect_garbage_less_often() -> None:
    """Called once started. What start-up made (modules, models, routes) lives as long as the process:
    frozen, the cycle collector never walks it again. And a request makes thousands of short-lived
    objects (SQLAlchemy, pydantic): the youngest generation is collected after 20,000 allocations
    instead of 700. Measured on the in-process read: about 3 % fewer instructions per request. Frozen
    once per process: a process that starts apps again and again (the tests) would otherwise keep every
    earlier app's leftovers for good."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
    gc.set_threshold(20_000, 20, 20)


@contextlib.asynccontextmanager
async def running(runtime: ServiceRuntime, jobs: Sequence[PeriodicJob] = ()) -> AsyncIterator[ServiceRuntime]:
    collect_garbage_less_often()
    runtime.tasks.append(asyncio.create_task(_connect_broker_then_consume(runtime), name="broker-connect"))
    runtime.tasks.append(asyncio.create_task(runtime.audit.run(runtime.stop), name="access-audit"))
    runtime.tasks.append(asyncio.create_task(_release_idle_connections(runtime), name="idle-connections"))
    for job in jobs:
        interval_s = getattr(job, "interval_s", runtime.settings.periodic_interval_s)
        runtime.tasks.append(asyncio.create_task(_every(runtime, job, interval_s)))
    try:
        yield runtime
    finally:
        runtime.stop.set()
        await runtime.consumer.stop()
        for task in runtime.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        await runtime.broker.close()
        await runtime.engine.dispose()


async def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


async def new_uow(request: Request) -> UnitOfWork:
    # get_runtime called here, not solved as the `Runtime` dependency: each dependency FastAPI solves
    # costs every request tens of microseconds.
    return (await get_runtime(request)).request_uow()


UoW = Annotated[UnitOfWork, Depends(new_uow)]


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", summary="进程存活")
    async def live() -> dict[str, Any]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="就绪：能提供接口服务（数据库可用）")
    async def ready(runtime: Runtime) -> JSONResponse:
        # Only what the API needs: a broker outage or an outbox backlog must not take the pods out
        # of their Service (that is what the outbox is for); /health shows those.
        checks = await readiness_checks(runtime)
        ok = all(c["ok"] for c in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "service": runtime.service, "checks": checks},
            status_code=200 if ok else 503,
        )

    @router.get("/health", summary="健康详情：数据库、消息代理、消费者、发件箱积压、访问审计")
    async def health(runtime: Runtime) -> JSONResponse:
        report = await health_report(runtime)
        return JSONResponse(report, status_code=200 if report["status"] != "not_ready" else 503)

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request, runtime: Runtime) -> Response:
        with contextlib.suppress(Exception):
            await health_report(runtime)
            await refresh_gauges(runtime, request.app.state.ops)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def readiness_checks(runtime: ServiceRuntime) -> dict[str, dict[str, Any]]:
    """What readiness depends on: the database, and the service's own readiness checks."""
    try:
        await asyncio.wait_for(ping(runtime.engine), timeout=DATABASE_PING_TIMEOUT_S)
        checks: dict[str, dict[str, Any]] = {"database": {"ok": True}}
    except Exception as exc:
        checks = {"database": {"ok": False, "detail": f"数据库不可用: {type(exc).__name__}"}}
    return checks | await _service_checks(runtime, readiness=True)


async def _service_checks(runtime: ServiceRuntime, *, readiness: bool) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    for extra in (c for c in runtime.health_checks if c.readiness == readiness):
        try:
            entry = await extra.check(runtime)
        except Exception as exc:  # a check that cannot run is a failed check, never a 500
            entry = {"ok": False, "detail": f"检查无法完成: {type(exc).__name__}"}
        if entry is not None:
            checks[extra.name] = entry
    return checks


async def health_report(runtime: ServiceRuntime) -> dict[str, Any]:
    """Readiness plus the degraded states (each `ok` False names a reason, none stops the API).

    Also brings the gauges the alert rules read up to date (yb_service_ready, yb_broker_connected,
    yb_consumer_attached, yb_service_degraded, the outbox backlog, the pool's connections)."""
    checks = await readiness_checks(runtime)
    ready = all(check["ok"] for check in checks.values())
    readiness = set(checks)
    checks["broker"] = broker_check(runtime)
    checks["consumer"] = consumer_check(runtime)
    database = checks["database"]["ok"]
    checks["outbox"] = (
        await outbox_check(runtime) if database else {"ok": False, "detail": "数据库不可用，无法读取发件箱"}
    )
    checks["audit"] = audit_check(runtime)
    if ready:  # the service's own checks read its database
        checks |= await _service_checks(runtime, readiness=False)
    degraded = [name for name, check in checks.items() if name not in readiness and not check["ok"]]
    service = runtime.service
    metrics.SERVICE_READY.labels(service).set(1 if ready else 0)
    metrics.SERVICE_DEGRADED.labels(service).set(1 if degraded else 0)
    metrics.BROKER_CONNECTED.labels(service).set(1 if checks["broker"]["ok"] else 0)
    metrics.CONSUMER_ATTACHED.labels(service).set(1 if checks["consumer"]["ok"] else 0)
    pool = runtime.engine.sync_engine.pool
    metrics.DB_POOL_CONNECTIONS.labels(service, "in_use").set(pool.checkedout())  # type: ignore[attr-defined]
    metrics.DB_POOL_CONNECTIONS.labels(service, "idle").set(pool.checkedin())  # type: ignore[attr-defined]
    status = "not_ready" if not ready else "degraded" if degraded else "ready"
    return {"status": status, "service": service, "ready": ready, "degraded": degraded, "checks": checks}


def broker_check(runtime: ServiceRuntime) -> dict[str, Any]:
    if runtime.broker.is_connected:
        return {"ok": True}
    away = runtime.broker.disconnected_s
    detail = "消息代理未连接" + (
        f"（已 {away:.0f} 秒），事件在发件箱中等待" if away is not None else "，事件在发件箱中等待"
    )
    return {"ok": False, "detail": detail}


def consumer_check(runtime: ServiceRuntime) -> dict[str, Any]:
    queue = runtime.consumer.names.queue
    if runtime.consumer.is_attached:
        return {"ok": True, "queue": queue}
    return {"ok": False, "queue": queue, "detail": "消费者未挂接到队列，事件暂不处理"}


async def outbox_check(runtime: ServiceRuntime) -> dict[str, Any]:
    try:
        count, oldest = await asyncio.wait_for(
            _update_backlog_gauges(runtime), timeout=DATABASE_PING_TIMEOUT_S
        )
    except Exception as exc:
        return {"ok": False, "detail": f"发件箱不可读: {type(exc).__name__}"}
    limit = runtime.settings.outbox_backlog_degraded_limit
    check: dict[str, Any] = {"ok": count <= limit, "backlog": count, "oldest_unsent_s": round(oldest, 1)}
    if count > limit:
        check["detail"] = f"发件箱积压 {count} 条，超过 {limit}"
    return check


def audit_check(runtime: ServiceRuntime) -> dict[str, Any]:
    waiting = runtime.audit.waiting
    if waiting <= AUDIT_WAITING_DEGRADED:
        return {"ok": True, "waiting": waiting}
    return {"ok": False, "waiting": waiting, "detail": f"访问审计有 {waiting} 条未写入数据库"}


async def _update_backlog_gauges(runtime: ServiceRuntime) -> tuple[int, float]:
    async with runtime.sessions() as session:
        count, oldest = await outbox_backlog(session)
    metrics.OUTBOX_BACKLOG.labels(runtime.service).set(count)
    metrics.OUTBOX_OLDEST_AGE.labels(runtime.service).set(oldest)
    return count, oldest


class BusinessDateIn(BaseModel):
    date: date_type | None = Field(description="业务日期；null 恢复为真实日期")


def business_date_router(service: str) -> APIRouter:
    """Moving the business date of a non-production deployment at run time (demos, deadline tests)."""
    router = APIRouter(prefix=f"/api/v1/{service}/admin", tags=["管理"])

    @router.get("/business-date", summary="当前业务日期")
    async def current(runtime: Runtime) -> dict[str, Any]:
        return {
            "date": runtime.clock.today().isoformat(),
            "overridden": not isinstance(runtime.clock, SystemClock),
        }

    @router.put(
        "/business-date", summary="设置业务日期（非生产环境）", dependencies=[require_roles(Role.admin)]
    )
    async def move(body: BusinessDateIn, runtime: Runtime) -> dict[str, Any]:
        try:
            runtime.clock = make_clock(runtime.settings.environment, body.date)
        except ClockOverrideRefused as exc:
            raise Problem(403, "clock_override_refused", "生产环境不允许设置业务日期") from exc
        return {"date": runtime.clock.today().isoformat(), "overridden": body.date is not None}

    return router


def create_service_app(
    service: str,
    title: str,
    settings: CommonSettings,
    routers: Sequence[APIRouter],
    subscriptions: Sequence[Subscription[Any]] = (),
    description: str = "",
    jobs: Sequence[PeriodicJob] = (),
    ops: OpsHooks | None = None,
    health_checks: Sequence[HealthCheck] = (),
) -> FastAPI:
    """The FastAPI app of a service: its routers under /api/v1/<service>, health, metrics, problems.

    `routers` come busiest first: FastAPI tries a request's path against every route in turn, so a
    route late in the list pays for all those before it (their paths do not overlap, so the order
    changes nothing else). `ops` declares what the service adds to the ops page: deadline probes and inter-office delivery
    status (see shared.ops for the hooks and their use); `health_checks` what it adds to its health.
    """
    configure_logging(service, settings.log_level, settings.log_json)
    runtime = build_runtime(service, settings, subscriptions)
    runtime.health_checks = health_checks

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Every process of every service listens for published holiday notices (shared.holiday_notices).
        async with running(runtime, [*jobs, holiday_notices.LISTENER]):
            yield

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=f"/api/v1/{service}/openapi.json",
        docs_url=f"/api/v1/{service}/docs",
        redoc_url=None,
        default_response_class=ApiJSONResponse,
        # No OpenTelemetry here (metrics are Prometheus'): FastAPI then skips its check per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.verifier = runtime.verifier
    app.state.ops = OpsState(ops or OpsHooks())
    install_problem_handlers(app)
    document_problems(app, service)
    app.add_middleware(RequestContextMiddleware, service=service, audit=runtime.audit)
    # Matched in this order, route by route, on every request: the API's own routes first.
    for router in routers:
        app.include_router(router, prefix=f"/api/v1/{service}")
    app.include_router(business_date_router(service))
    app.include_router(health_router())
    app.include_router(ops_router())
    return app
