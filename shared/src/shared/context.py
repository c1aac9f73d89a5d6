"""Per-request and per-event context carried through logs and into the events a step raises."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# The event being handled: new events raised while handling it name it as their cause.
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
