"""What a service tells operations: event flow, deadlines, inter-office delivery, recent errors, dead letters.

The gateway's ops page (`/ops`, `GET /api/v1/ops/status`) reads every replica's internal endpoints
below; Prometheus reads the same facts as gauges on `/metrics`. The internal endpoints sit outside
`/api/v1`, so the gateway never forwards them; they still ask for an `ops` or `admin` token.

    GET  /internal/ops/status                 event flow, deadlines, peers, recent errors
    GET  /internal/ops/dead-letters           the dead letters, personal fields masked
    POST /internal/ops/dead-letters/replay    admin: replay one dead letter, recorded in dead_letter_replays

Two hooks, declared when the service builds its app (``create_service_app(..., ops=OpsHooks(...))``):

**Deadlines.** One ``DeadlineProbe`` per kind of legal time limit the service watches. The query
gets a read-only unit of work (``uow.session`` and ``uow.clock``, nothing is committed) and returns
how many open items are at risk (close to the limit, not past it), how many are overdue, and how
long the oldest overdue item is past its limit, in seconds::

    from shared.ops import DeadlineCounts, DeadlineProbe, OpsHooks, overdue_seconds

    async def transfer_step_deadlines(uow: UnitOfWork) -> DeadlineCounts:
        today = uow.clock.today()
        due_dates = [...]  # due dates of the steps not yet done (a SELECT on the service's tables)
        overdue = [d for d in due_dates if d < today]
        at_risk = [d for d in due_dates if today <= d <= default_calendar().add_working_days(today, 2).date]
        return DeadlineCounts(len(at_risk), len(overdue), overdue_seconds(min(overdue), uow.clock) if overdue else None)

    create_service_app(..., ops=OpsHooks(deadlines=[
        DeadlineProbe("transfer_step", transfer_step_deadlines, title="转移接续环节"),
    ]))

The service names its kinds and their Chinese titles; this module knows no service. (The gateway's
ops page lists the kinds it expects, to show "未接入" for one no service reports yet.) Results are
cached for ``ops_probe_cache_s`` seconds, so a probe may scan the open items.

**Inter-office delivery.** A ``PeerQuery`` returns one ``PeerStatus`` per other office the
service exchanges messages with: its office code, the messages not yet acknowledged, when it last
acknowledged one and the last delivery error (a short reason written by the code, never message
contents)::

    async def peer_delivery(uow: UnitOfWork) -> list[PeerStatus]:
        rows = await uow.session.execute(...)  # per peer: pending count, last ack, last error
        return [PeerStatus(peer=r.office, pending=r.pending, last_success_at=r.acked_at,
                           last_error=r.error, last_error_at=r.failed_at) for r in rows]

    create_service_app(..., ops=OpsHooks(peers=peer_delivery))

The page shows "未配置外省经办机构" while no service reports a peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from shared import metrics
from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.clock import SHANGHAI, Clock
from shared.db import UnitOfWork
from shared.errors import Problem
from shared.events.deadletters import DeadLetter, list_dead_letters, replay
from shared.events.outbox import outbox_backlog
from shared.identity import mask_personal_fields, mask_sensitive
from shared.logs import RECENT_ERRORS
from shared.tables import dead_letter_replays

if TYPE_CHECKING:
    from shared.service import ServiceRuntime

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0
DEAD_LETTER_PAGE = 50


@dataclass(frozen=True)
class DeadlineCounts:
    at_risk: int = 0
    overdue: int = 0
    oldest_overdue_s: float | None = None


DeadlineQuery = Callable[[UnitOfWork], Awaitable[DeadlineCounts]]


@dataclass(frozen=True)
class DeadlineProbe:
    kind: str  # a machine name, unique on the platform (e.g. "claim_payment")
    query: DeadlineQuery
    title: str | None = None  # its name on the ops page, in Chinese (None: the kind itself)


@dataclass(frozen=True)
class PeerStatus:
    peer: str  # the other office's code
    pending: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    awaiting_resend: int = 0  # cases whose message was refused or given up, waiting for staff


PeerQuery = Callable[[UnitOfWork], Awaitable[Sequence[PeerStatus]]]


@dataclass(frozen=True)
class OpsHooks:
    deadlines: Sequence[DeadlineProbe] = ()
    peers: PeerQuery | None = None


def overdue_seconds(due_date: date, clock: Clock) -> float:
    """Seconds since a deadline "within … ending on `due_date`" ran out: it ends at that day's midnight."""
    ended = datetime.combine(due_date + timedelta(days=1), time_of_day(0), tzinfo=SHANGHAI)
    return max(0.0, (clock.now() - ended).total_seconds())


# --------------------------------------------------------------------------- reading the facts


@dataclass
class _Cache:
    at: float = 0.0
    value: Any = None


@dataclass
class OpsState:
    """Per process: the hooks and the cache of their last answers."""

    hooks: OpsHooks = field(default_factory=OpsHooks)
    probes: _Cache = field(default_factory=_Cache)


async def event_flow(runtime: ServiceRuntime) -> dict[str, Any]:
    outbox, queues = await asyncio.gather(_outbox(runtime), queue_depths(runtime))
    service = runtime.service
    return {
        "outbox": outbox,
        "queues": queues,
        "subscriptions": len(runtime.consumer.event_types),
        "broker": {
            "connected": runtime.broker.is_connected,
            "consumer_attached": runtime.consumer.is_attached,
        },
        "per_minute": {
            k: metrics.THROUGHPUT.last_minute(service, k) for k in ("published", "consumed", "dead_lettered")
        },
    }


async def _outbox(runtime: ServiceRuntime) -> dict[str, Any]:
    try:
        async with runtime.sessions() as session:
            count, oldest = await asyncio.wait_for(outbox_backlog(session), timeout=PROBE_TIMEOUT_S)
    except Exception as exc:
        return {"available": False, "detail": f"发件箱不可读: {type(exc).__name__}"}
    metrics.OUTBOX_BACKLOG.labels(runtime.service).set(count)
    metrics.OUTBOX_OLDEST_AGE.labels(runtime.service).set(oldest)
    return {"available": True, "backlog": count, "oldest_unsent_s": round(oldest, 1)}


async def queue_depths(runtime: ServiceRuntime) -> dict[str, Any]:
    """Messages and consumers of the service's queues, by passive declares (no management plugin)."""
    if not runtime.broker.is_connected:
        return {"available": False, "detail": "消息代理未连接"}
    names = runtime.consumer.names
    counts: dict[str, tuple[int, int] | None] = {}
    try:
        for queue in (names.queue, names.dead_letter_queue, *runtime.consumer.retry_queues):
            counts[queue] = await _declared(runtime, queue)
    except Exception as exc:
        return {"available": False, "detail": f"队列不可读: {type(exc).__name__}"}
    main, dead = counts[names.queue], counts[names.dead_letter_queue]
    retry = sum(c[0] for q, c in counts.items() if c and q in runtime.consumer.retry_queues)
    answer = {
        "available": True,
        "messages": main[0] if main else 0,
        "consumers": main[1] if main else 0,
        "retrying": retry,
        "dead_letters": dead[0] if dead else 0,
    }
    metrics.QUEUE_MESSAGES.labels(runtime.service, "main").set(answer["messages"])
    metrics.QUEUE_MESSAGES.labels(runtime.service, "retry").set(retry)
    metrics.QUEUE_CONSUMERS.labels(runtime.service).set(answer["consumers"])
    metrics.DEAD_LETTERS.labels(runtime.service).set(answer["dead_letters"])
    return answer


async def _declared(runtime: ServiceRuntime, queue: str) -> tuple[int, int] | None:
    """(messages, consumers) of a queue, or None when it does not exist yet."""
    from aiormq.exceptions import ChannelNotFoundEntity

    # A failed passive declare closes its channel, so each queue gets a channel of its own.
    channel = await runtime.broker.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        result = declared.declaration_result
        return int(result.message_count or 0), int(result.consumer_count or 0)
    except ChannelNotFoundEntity:
        return None
    finally:
        with contextlib.suppress(Exception):
            await channel.close()


async def probes(runtime: ServiceRuntime, state: OpsState) -> dict[str, Any]:
    """Deadlines and peers from the service's hooks, cached for `ops_probe_cache_s`."""
    if (
        state.probes.value is not None
        and time.monotonic() - state.probes.at < runtime.settings.ops_probe_cache_s
    ):
        cached: dict[str, Any] = state.probes.value
        return cached
    deadlines = [await _deadline(runtime, probe) for probe in state.hooks.deadlines]
    value = {"deadlines": deadlines, "peers": await _peers(runtime, state.hooks.peers)}
    state.probes = _Cache(time.monotonic(), value)
    return value


async def _deadline(runtime: ServiceRuntime, probe: DeadlineProbe) -> dict[str, Any]:
    answer: dict[str, Any] = {"kind": probe.kind, "title": probe.title}
    try:
        async with runtime.uow() as uow:  # never committed: probes only read
            counts = await asyncio.wait_for(probe.query(uow), timeout=PROBE_TIMEOUT_S)
    except Exception as exc:
        log.warning("deadline probe failed", exc_info=True)
        return {**answer, "available": False, "detail": f"查询失败: {type(exc).__name__}"}
    labels = (runtime.service, probe.kind)
    metrics.DEADLINES_AT_RISK.labels(*labels).set(counts.at_risk)
    metrics.DEADLINES_OVERDUE.labels(*labels).set(counts.overdue)
    metrics.DEADLINES_OLDEST_OVERDUE.labels(*labels).set(counts.oldest_overdue_s or 0)
    oldest = round(counts.oldest_overdue_s, 1) if counts.oldest_overdue_s is not None else None
    return {
        **answer,
        "available": True,
        "at_risk": counts.at_risk,
        "overdue": counts.overdue,
        "oldest_overdue_s": oldest,
    }


async def _peers(runtime: ServiceRuntime, query: PeerQuery | None) -> list[dict[str, Any]]:
    if query is None:
        return []
    try:
        async with runtime.uow() as uow:
            peers = list(await asyncio.wait_for(query(uow), timeout=PROBE_TIMEOUT_S))
    except Exception as exc:
        log.warning("peer status query failed", exc_info=True)
        return [{"peer": None, "available": False, "detail": f"查询失败: {type(exc).__name__}"}]
    for peer in peers:
        labels = (runtime.service, peer.peer)
        metrics.PEER_PENDING.labels(*labels).set(peer.pending)
        metrics.PEER_LAST_SUCCESS.labels(*labels).set(
            peer.last_success_at.timestamp() if peer.last_success_at else 0
        )
        failing = peer.last_error_at is not None and (
            peer.last_success_at is None or peer.last_error_at > peer.last_success_at
        )
        metrics.PEER_FAILING.labels(*labels).set(1 if failing else 0)
        metrics.PEER_AWAITING_RESEND.labels(*labels).set(peer.awaiting_resend)
    return [_peer_json(p) for p in peers]


def _peer_json(peer: PeerStatus) -> dict[str, Any]:
    answer = asdict(peer)
    for key in ("last_success_at", "last_error_at"):
        answer[key] = answer[key].isoformat() if answer[key] else None
    answer["last_error"] = mask_sensitive(peer.last_error)[:200] if peer.last_error else None
    return {**answer, "available": True}


async def service_status(runtime: ServiceRuntime, state: OpsState) -> dict[str, Any]:
    flow, probed = await asyncio.gather(event_flow(runtime), probes(runtime, state))
    return {"service": runtime.service, "event_flow": flow, **probed, "recent_errors": RECENT_ERRORS.latest()}


async def refresh_gauges(runtime: ServiceRuntime, state: OpsState) -> None:
    """Everything the alert rules read, brought up to date before a scrape."""
    from shared.service import readiness_checks

    checks = await readiness_checks(runtime)
    metrics.SERVICE_READY.labels(runtime.service).set(1 if all(c["ok"] for c in checks.values()) else 0)
    await asyncio.gather(queue_depths(runtime), probes(runtime, state))


# --------------------------------------------------------------------------- dead letters

# Pydantic quotes the refused input in its messages; a dead letter's error must not show it.
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]|$)", re.MULTILINE)


def safe_error(error: str) -> str:
    return mask_sensitive(_INPUT_VALUE.sub("input_value=***", error))[:500]


def shown(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as operators see it: personal fields masked, the error without quoted input."""
    return {
        "message_id": letter.message_id,
        "event_type": letter.event_type,
        "attempts": letter.attempts,
        "error": safe_error(letter.error),
        "dead_at": letter.dead_at,
        "envelope": mask_personal_fields(letter.envelope) if letter.envelope is not None else None,
    }


class ReplayIn(BaseModel):
    message_id: str = Field(min_length=1, max_length=200, description="死信的消息ID（即事件ID）")
    reason: str | None = Field(None, max_length=500, description="重放原因（记入审计）")


async def replay_audited(runtime: ServiceRuntime, principal: Principal, body: ReplayIn) -> dict[str, Any]:
    """Replay one dead letter and record who did it. Refused where the audit table is missing.

    The table is checked before the broker is touched and the record is written right after the
    replay, in one transaction; a replayed event is harmless twice (consumers skip duplicates).
    """
    async with runtime.uow() as uow:
        try:
            await uow.session.execute(text("SELECT 1 FROM dead_letter_replays LIMIT 0"))
        except (ProgrammingError, DBAPIError) as exc:
            raise Problem(
                503, "replay_not_audited", "本服务未建立死信重放审计表，不能重放", "请先执行数据库迁移"
            ) from exc
        if not runtime.broker.is_connected:
            raise Problem(503, "broker_unavailable", "消息代理未连接，暂不能重放")
        replayed = await replay(runtime.broker, runtime.service, {body.message_id})
        if not replayed:
            raise Problem(404, "dead_letter_not_found", "死信不存在", "该消息不在死信队列中（可能已被重放）")
        row = await uow.session.execute(
            insert(dead_letter_replays)
            .values(
                message_id=body.message_id,
                event_type=replayed[0].event_type,
                replayed_by=principal.subject,
                role=principal.role.value,
                reason=body.reason,
                replayed=len(replayed),
            )
            .returning(dead_letter_replays.c.id, dead_letter_replays.c.replayed_at)
        )
        audit_id, at = row.one()
        await uow.commit()
    metrics.DEAD_LETTER_REPLAYS.labels(runtime.service).inc(len(replayed))
    log.warning(
        "dead letter replayed by an administrator", extra={"audit_id": audit_id, "by": principal.subject}
    )
    return {
        "replayed": len(replayed),
        "audit": {"id": audit_id, "by": principal.subject, "at": at.isoformat()},
    }


# --------------------------------------------------------------------------- the internal endpoints


def ops_router() -> APIRouter:
    router = APIRouter(prefix="/internal/ops", tags=["运维（内部）"], include_in_schema=False)
    readers = require_roles(Role.ops, Role.admin)

    @router.get("/status", dependencies=[readers])
    async def status(request: Request) -> dict[str, Any]:
        runtime = request.app.state.runtime
        return await service_status(runtime, request.app.state.ops)

    @router.get("/dead-letters", dependencies=[readers])
    async def dead_letters(
        request: Request, limit: Annotated[int, Query(ge=1, le=500)] = DEAD_LETTER_PAGE
    ) -> dict[str, Any]:
        runtime = request.app.state.runtime
        if not runtime.broker.is_connected:
            raise Problem(503, "broker_unavailable", "消息代理未连接")
        letters = await list_dead_letters(runtime.broker, runtime.service, limit)
        return {"service": runtime.service, "items": [shown(letter) for letter in letters]}

    @router.post("/dead-letters/replay")
    async def replay_one(
        request: Request, body: ReplayIn, principal: Principal = require_roles(Role.admin)
    ) -> dict[str, Any]:
        return await replay_audited(request.app.state.runtime, principal, body)

    return router
