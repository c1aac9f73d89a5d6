"""“我的业务” for the insured person's app: every case of theirs across the services, and its changes.

The gateway composes the view from the services' own lists, called with the caller's token, so each
service applies its own rule (an insured person sees only their own records) and the gateway keeps no
data. Each case comes with its status and the next date it is due by.

Changes: the view answers a `cursor` (a compact, opaque summary of what the app has seen: per case a
short fingerprint of its status, version and due date). `GET /me/cases/changes?since=<cursor>` answers
what is new, changed or gone since then, with the next cursor; `GET /me/cases/events` is the same as
server-sent events (`Last-Event-ID` resumes), for an app that would rather be told. Stateless, so any
gateway replica answers, and a service that is down is reported (`unavailable`), its cases kept as
they were in the cursor rather than reported gone.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import aiohttp
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from gateway.proxy import Upstreams
from shared import context
from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import Problem
from shared.http.responses import canonical_timestamps

log = logging.getLogger(__name__)

Insured = Annotated[Principal, require_roles(Role.insured)]
ListKind = Literal["enrollment", "benefit_registration", "reimbursement", "benefit_payment", "transfer"]
ChangeKind = Literal["new", "changed", "gone"]
MAX_CURSOR = 16_384


@dataclass(frozen=True)
class Source:
    kind: ListKind
    title: str
    service: str
    path: str
    due_label: str
    due_on: Callable[[dict[str, Any]], str | None]


def _open_step(case: dict[str, Any]) -> str | None:
    steps = [s for s in case.get("steps") or [] if not s.get("done_on")]
    return steps[0].get("due_on") if steps else (case.get("whole_limit") or {}).get("due_on")


def _unless_done(field: str, *done: str) -> Callable[[dict[str, Any]], str | None]:
    return lambda item: None if item.get("status") in done else item.get(field)


SOURCES = (
    Source("enrollment", "参保登记", "registration", "/api/v1/registration/enrollments?size=500",
           "待遇享受期截止（此前续缴）", _unless_done("benefit_end", "rejected", "interrupted", "resumed", "stopped",
                                                         "transferred_out", "terminated", "refunded")),
    Source("benefit_registration", "待遇登记", "registration", "/api/v1/registration/benefit-registrations?size=100",
           "登记有效期至", _unless_done("valid_to", "replaced", "expired")),
    Source("reimbursement", "手工报销", "claims", "/api/v1/claims/reimbursements?size=100",
           "预计支付日期", _unless_done("expected_payment_by", "paid", "rejected")),
    Source("benefit_payment", "待遇支付", "claims", "/api/v1/claims/payments?size=100",
           "预计支付日期", _unless_done("expected_payment_by", "paid", "rejected")),
    Source("transfer", "转移接续", "transfer", "/api/v1/transfer/transfers?size=100",
           "当前步骤办理时限", _open_step),
)  # fmt: skip
LINKS = {
    "enrollment": "/api/v1/registration/enrollments/{id}",
    "benefit_registration": "/api/v1/registration/benefit-registrations/{id}",
    "reimbursement": "/api/v1/claims/reimbursements/{id}",
    "benefit_payment": "/api/v1/claims/payments/{id}",
    "transfer": "/api/v1/transfer/transfers/{id}",
}


class CaseOut(BaseModel):
    kind: ListKind = Field(description="业务类别")
    title: str = Field(description="业务类别的中文名称")
    id: str = Field(description="业务编号")
    status: str = Field(description="当前状态（各服务的状态代码）")
    version: int | None = Field(None, description="版本号：每次办理加一")
    due_on: str | None = Field(None, description="下一个截止日期（YYYY-MM-DD），没有时为空")
    due_label: str | None = Field(None, description="截止日期的含义")
    link: str = Field(description="业务详情的接口地址")


class CasesOut(BaseModel):
    items: list[CaseOut]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1)
    cursor: str = Field(description="本次所见的摘要；作为 since 传给 /me/cases/changes 取此后的变化")
    unavailable: list[str] = Field(description="暂时无法读取的服务（其业务未列出）")


class ChangeOut(BaseModel):
    change: ChangeKind = Field(description="new 新增、changed 状态或截止日期变化、gone 不再可见")
    key: str = Field(description="业务键：类别:编号")
    case: CaseOut | None = Field(description="业务现状（gone 时为空）")


class ChangesOut(BaseModel):
    items: list[ChangeOut]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    size: int = Field(ge=1)
    cursor: str = Field(description="下一次的 since")
    unavailable: list[str]


@dataclass(frozen=True)
class View:
    cases: dict[str, CaseOut]
    unavailable: list[str]

    def seen(self, carried: dict[str, str]) -> dict[str, str]:
        """Fingerprints of what the app now has seen; a down service's cases as they were."""
        down = {s.kind for s in SOURCES if s.service in self.unavailable}
        kept = {key: fp for key, fp in carried.items() if key.split(":", 1)[0] in down}
        return kept | {key: fingerprint(case) for key, case in self.cases.items()}


def fingerprint(case: CaseOut) -> str:
    text = f"{case.status}|{case.version}|{case.due_on}"
    return hashlib.blake2s(text.encode(), digest_size=5).hexdigest()


def encode_cursor(seen: dict[str, str]) -> str:
    packed = zlib.compress(json.dumps(seen, separators=(",", ":"), sort_keys=True).encode(), 9)
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        packed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        seen = json.loads(zlib.decompressobj().decompress(packed, MAX_CURSOR * 8))
        if not isinstance(seen, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in seen.items()
        ):
            raise ValueError("not a cursor")
        return seen
    except (ValueError, binascii.Error, zlib.error, UnicodeDecodeError) as exc:
        raise Problem(
            422, "invalid_cursor", "游标无效", "since 须为 /me/cases 或上次变化应答中的 cursor"
        ) from exc


def changes_between(seen: dict[str, str], view: View) -> list[ChangeOut]:
    now = view.seen(seen)
    found = [
        ChangeOut(change="new" if key not in seen else "changed", key=key, case=case)
        for key, case in view.cases.items()
        if seen.get(key) != now[key]
    ]
    return found + [ChangeOut(change="gone", key=key, case=None) for key in seen if key not in now]


class MyCases:
    """Reads the caller's cases from the services through the gateway's client session."""

    def __init__(self, session_source: Callable[[], aiohttp.ClientSession | None], upstreams: Upstreams):
        self._session_source, self._upstreams = session_source, upstreams

    async def view(self, principal: Principal, authorization: str) -> View:
        sources = [s for s in SOURCES if s.service in self._upstreams]
        answers = await asyncio.gather(*(self._items(s, authorization) for s in sources))
        cases: dict[str, CaseOut] = {}
        unavailable: set[str] = {s.service for s in SOURCES if s.service not in self._upstreams}
        for source, items in zip(sources, answers, strict=True):
            if items is None:
                unavailable.add(source.service)
                continue
            for item in items:
                # The service already answered only the caller's own; a record naming someone else is dropped.
                if "person_id" in item and str(item["person_id"]) != str(principal.person_id):
                    continue
                case = _case(source, item)
                cases[f"{case.kind}:{case.id}"] = case
        return View(cases, sorted(unavailable))

    async def _items(self, source: Source, authorization: str) -> list[dict[str, Any]] | None:
        session = self._session_source()
        if session is None:
            return None
        headers = {"Authorization": authorization, "X-Request-ID": context.request_id.get() or ""}
        for base in self._upstreams.in_turn(source.service):
            try:
                async with session.get(base + source.path, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=10)) as response:  # fmt: skip
                    if response.status != 200:
                        log.warning("my cases: %s answered %s", source.path, response.status)
                        return None
                    body = json.loads(await response.read())
                    return list(body.get("items", [])) if isinstance(body, dict) else None
            except aiohttp.ClientConnectorError:
                continue
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                log.warning("my cases: %s failed: %r", source.path, exc)
                return None
        return None


def _case(source: Source, item: dict[str, Any]) -> CaseOut:
    due = source.due_on(item)
    return CaseOut(
        kind=source.kind, title=source.title, id=str(item["id"]), status=str(item.get("status", "")),
        version=item.get("version") if isinstance(item.get("version"), int) else None,
        due_on=str(due) if due else None, due_label=source.due_label if due else None,
        link=LINKS[source.kind].format(id=item["id"]),
    )  # fmt: skip


def _without(seen: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in seen.items() if k != key}


def _sorted(cases: list[CaseOut]) -> list[CaseOut]:
    # Soonest due first; cases without a date after them, in a stable order.
    return sorted(cases, key=lambda c: (c.due_on is None, c.due_on or "", c.kind, c.id))


def my_cases_router(cases: MyCases, poll_s: float, stream_s: float) -> APIRouter:
    router = APIRouter(prefix="/api/v1/me", tags=["我的业务"])

    def page_of(items: list[Any], page: int, size: int) -> dict[str, Any]:
        return {
            "items": items[(page - 1) * size : page * size],
            "total": len(items),
            "page": page,
            "size": size,
        }

    @router.get(
        "/cases", response_model=CasesOut, summary="我的业务：参保、待遇登记、报销、待遇支付、转移接续"
    )
    async def my_cases(
        request: Request, actor: Insured,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1, size: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:  # fmt: skip
        """The caller's own cases from every service, each with its status and next due date (soonest first).

        本人在各服务的业务及其状态与下一个截止日期（最近的在前）；cursor 用于之后查询变化。
        """
        view = await cases.view(actor, request.headers["authorization"])
        listed = _sorted(list(view.cases.values()))
        return {
            **page_of(listed, page, size),
            "cursor": encode_cursor(view.seen({})),
            "unavailable": view.unavailable,
        }

    @router.get("/cases/changes", response_model=ChangesOut, summary="我的业务的变化（轮询）")
    async def my_changes(
        request: Request, actor: Insured,
        since: Annotated[str | None, Query(max_length=MAX_CURSOR, description="上次应答的 cursor；缺省为从头")] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1, size: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:  # fmt: skip
        """What is new, changed or gone since the cursor, and the next cursor. 自 since 以来新增、变化、不再可见的业务。"""
        seen = decode_cursor(since)
        view = await cases.view(actor, request.headers["authorization"])
        found = changes_between(seen, view)
        return {
            **page_of(found, page, size),
            "cursor": encode_cursor(view.seen(seen)),
            "unavailable": view.unavailable,
        }

    @router.get(
        "/cases/events",
        response_class=StreamingResponse,
        summary="我的业务的变化（服务器推送事件）",
        responses={200: {"description": "text/event-stream：每个变化一个 case 事件，id 为下一次的游标",
                         "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    )  # fmt: skip
    async def my_events(
        request: Request, actor: Insured,
        since: Annotated[str | None, Query(max_length=MAX_CURSOR, description="上次的游标；缺省为从头")] = None,
        last_event_id: Annotated[str | None, Header(max_length=MAX_CURSOR)] = None,
    ) -> StreamingResponse:  # fmt: skip
        """Server-sent events: one `case` event per change (data: the change as JSON), checked every few
        seconds; each event's id is the cursor to resume from (EventSource sends it back as Last-Event-ID).
        The stream closes after a few minutes; the app reconnects. 服务器推送：每个变化一个事件。
        """
        seen = decode_cursor(last_event_id or since)
        authorization = request.headers["authorization"]

        async def stream() -> AsyncIterator[bytes]:
            nonlocal seen
            yield f"retry: {int(poll_s * 1000)}\n\n".encode()
            until = time.monotonic() + stream_s
            while True:
                found = False
                view = await cases.view(actor, authorization)
                now = view.seen(seen)
                for change in changes_between(seen, view):
                    # Each event's id covers it and those before it: a resumed stream repeats nothing.
                    seen = (
                        {**seen, change.key: now[change.key]} if change.case else _without(seen, change.key)
                    )
                    data = json.dumps(
                        canonical_timestamps(change.model_dump(mode="json")), ensure_ascii=False
                    )
                    yield f"event: case\nid: {encode_cursor(seen)}\ndata: {data}\n\n".encode()
                    found = True
                if not found:
                    yield b": nothing new\n\n"
                if time.monotonic() >= until or await request.is_disconnected():
                    return
                await asyncio.sleep(poll_s)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    return router
