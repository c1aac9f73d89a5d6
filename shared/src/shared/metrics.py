"""Prometheus metrics every process exposes at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "yb_http_request_duration_seconds",
    "HTTP requests by route and status",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter("yb_events_published_total", "Events confirmed by the broker", ["service"])
EVENTS_PUBLISH_FAILED = Counter("yb_events_publish_failed_total", "Publishes refused or unroutable", ["service"])
EVENTS_CONSUMED = Counter("yb_events_consumed_total", "Events handled with effect", ["service", "event_type"])
EVENTS_DUPLICATE = Counter("yb_events_duplicate_total", "Duplicate deliveries skipped", ["service", "event_type"])
EVENTS_RETRIED = Counter("yb_events_retried_total", "Handler failures sent to a retry queue", ["service"])
EVENTS_DEAD_LETTERED = Counter("yb_events_dead_lettered_total", "Messages moved to the dead-letter queue", ["service"])
OUTBOX_BACKLOG = Gauge("yb_outbox_backlog", "Unsent outbox rows", ["service"])
OUTBOX_OLDEST_AGE = Gauge("yb_outbox_oldest_unsent_seconds", "Age of the oldest unsent outbox row", ["service"])
