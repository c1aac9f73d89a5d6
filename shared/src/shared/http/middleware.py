"""Request and correlation ids in and out, and per-route request metrics (plain ASGI: cheap)."""

from __future__ import annotations

import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import context, metrics
from shared.http.audit import AccessAudit

REQUEST_ID = b"x-request-id"
CORRELATION_ID = b"x-correlation-id"
MAX_ID_LENGTH = 128


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text = value.decode("latin-1")
            return text if 0 < len(text) <= MAX_ID_LENGTH and text.isprintable() else None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, service: str, audit: AccessAudit | None = None):
        self.app = app
        self.service = service
        self.audit = audit

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

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID, request_id.encode()),
                    (CORRELATION_ID, correlation_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = scope.get("route")
            metrics.HTTP_REQUESTS.labels(
                self.service, scope["method"], getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)
            principal = scope.get("state", {}).get("principal")
            if self.audit is not None and principal is not None and scope["path"].startswith("/api/v1/"):
                self.audit.record(principal, scope["method"], scope["path"], status, request_id)
