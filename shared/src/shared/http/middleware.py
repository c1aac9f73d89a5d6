"""Request and correlation ids in and out, and per-route request metrics (plain ASGI: cheap)."""

from __future__ import annotations

import time
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import context, metrics
from shared.http.audit import MAX_SCANNED_BODY, AccessAudit

REQUEST_ID = b"x-request-id"
CORRELATION_ID = b"x-correlation-id"
MAX_ID_LENGTH = 128
MAX_BODY_BYTES = 32 * 1024 * 1024  # above the largest upload a route takes (a 20 MB enrollment list)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text = value.decode("latin-1")
            return text if 0 < len(text) <= MAX_ID_LENGTH and text.isprintable() else None
    return None


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        service: str,
        audit: AccessAudit | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        self.app = app
        self.service = service
        self.audit = audit
        # No route reads more than this of a body (a service reached past the gateway included).
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, REQUEST_ID) or uuid.uuid4().hex
        correlation_id = _header(scope, CORRELATION_ID) or request_id
        # Not reset afterwards: each request runs in its own task context, and the server-error
        # handler (outside this middleware) still logs with these ids.
        context.request_id.set(request_id)
        context.correlation_id.set(correlation_id)
        started = time.perf_counter()
        status = 500
        audited = self.audit is not None and scope["path"].startswith("/api/v1/")
        # What the request and its answer carry, kept (up to a bound) to name whose data was touched.
        request_body, answer_body = _Capture(), _Capture()

        received = 0

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    # An HTTPException: FastAPI passes it on from a body it is parsing (others become 400).
                    raise HTTPException(413, f"请求体不能超过 {self.max_body_bytes} 字节")
                if audited:
                    request_body.add(chunk)
            return message

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID, request_id.encode()),
                    (CORRELATION_ID, correlation_id.encode()),
                ]
            elif message["type"] == "http.response.body" and audited:
                answer_body.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_bounded, send_with_ids)
        finally:
            route = scope.get("route")
            route_path = getattr(route, "path", None)
            metrics.HTTP_REQUESTS.labels(
                self.service, scope["method"], route_path or "unmatched", str(status)
            ).observe(time.perf_counter() - started)
            principal = scope.get("state", {}).get("principal")
            if audited and principal is not None:
                self._record(scope, principal, status, request_id, route_path, request_body, answer_body)

    def _record(
        self, scope: Scope, principal: object, status: int, request_id: str, route_path: str | None,
        request_body: _Capture, answer_body: _Capture,
    ) -> None:  # fmt: skip
        assert self.audit is not None
        persons = self.audit.persons.in_request(
            route_path, scope.get("path_params") or {}, scope.get("query_string", b""), request_body.value()
        )
        if 200 <= status < 300:
            persons += self.audit.persons.in_answer(answer_body.value())
        own = getattr(principal, "person_id", None)
        if own is not None and str(getattr(principal, "role", "")) == "insured":
            persons.append(own)  # an insured person reaches only their own data
        operation = _operation(scope["method"], scope["path"], route_path)
        self.audit.record(principal, scope["method"], scope["path"], status, request_id, operation, persons)


def _operation(method: str, path: str, route_path: str | None) -> str | None:
    """The route a request matched, in full: FastAPI gives an included router's routes without the
    prefix it was included under (e.g. /api/v1/registration), which the path's leading segments are."""
    if route_path is None:
        return None
    extra = path.rstrip("/").count("/") - route_path.rstrip("/").count("/")
    prefix = "/".join(path.split("/")[: extra + 1]) if extra > 0 and ":path}" not in route_path else ""
    return f"{method} {prefix}{route_path}"


class _Capture:
    """The first MAX_SCANNED_BODY bytes of a body; a longer body is not searched (marked too long)."""

    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= MAX_SCANNED_BODY:
            self.chunks.append(chunk)

    def value(self) -> bytes:
        return b"".join(self.chunks) if self.size <= MAX_SCANNED_BODY else b""
