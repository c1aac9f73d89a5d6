"""JSON logs: one object a line with service, request, correlation and event ids; ID numbers masked."""

from __future__ import annotations

import logging
import sys
from collections import deque
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from shared import context
from shared.identity import mask_sensitive


class ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = context.request_id.get()
        record.correlation_id = context.correlation_id.get()
        record.event_id = context.event_id.get()
        return True


class MaskingJsonFormatter(JsonFormatter):
    """Masks resident ID numbers wherever they appear in the finished line (message, extras, traces)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_sensitive(super().format(record))


class MaskingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_sensitive(super().format(record))


class RecentErrors(logging.Handler):
    """The last warnings and errors of this process, for the ops page.

    Only what the code wrote is kept: the message template (never its arguments), the logger, the
    exception's type and the ids. Arguments and exception texts may carry a name or a payload value
    (a validation error quotes its input), and the ops page must show no personal data.
    """

    def __init__(self, capacity: int = 50):
        super().__init__(level=logging.WARNING)
        self.records: deque[dict[str, Any]] = deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        self.records.append(
            {
                "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": mask_sensitive(template)[:300],
                "error_type": record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None,
                "request_id": context.request_id.get(),
                "event_id": context.event_id.get(),
            }
        )

    def latest(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self.records)[-limit:][::-1]


RECENT_ERRORS = RecentErrors()


def configure_logging(service: str, level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(ContextFilter(service))
    if json_lines:
        handler.setFormatter(
            MaskingJsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(correlation_id)s %(event_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            MaskingTextFormatter("%(asctime)s %(levelname)s [%(service)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler, RECENT_ERRORS]
    root.setLevel(level)
    # uvicorn installs handlers of its own (its tracebacks would print unmasked parameters): route
    # its loggers through the one masking handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for noisy in ("aiormq", "aio_pika", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
