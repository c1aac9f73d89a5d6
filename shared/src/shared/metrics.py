"""Prometheus metrics every process exposes at /metrics."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "yb_http_request_duration_seconds",
    "HTTP requests by route and status",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter("yb_events_published_total", "Events confirmed by the broker", ["service"])
EVENTS_PUBLISH_FAILED = Counter(
    "yb_events_publish_failed_total", "Publishes refused or unroutable", ["service"]
)
EVENTS_CONSUMED = Counter("yb_events_consumed_total", "Events handled with effect", ["service", "event_type"])
EVENTS_DUPLICATE = Counter(
    "yb_events_duplicate_total", "Duplicate deliveries skipped", ["service", "event_type"]
)
EVENTS_RETRIED = Counter("yb_events_retried_total", "Handler failures sent to a retry queue", ["service"])
EVENTS_DEAD_LETTERED = Counter(
    "yb_events_dead_lettered_total", "Messages moved to the dead-letter queue", ["service"]
)
OUTBOX_BACKLOG = Gauge("yb_outbox_backlog", "Unsent outbox rows", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "yb_outbox_oldest_unsent_seconds", "Age of the oldest unsent outbox row", ["service"]
)

# What operations watch (refreshed on every scrape and every ops status read; see shared.ops).
SERVICE_READY = Gauge(
    "yb_service_ready", "1 when /health/ready answers ready (the database answers)", ["service"]
)
SERVICE_DEGRADED = Gauge(
    "yb_service_degraded",
    "1 when /health reports a degraded state (broker, consumer, outbox backlog, audit)",
    ["service"],
)
BROKER_CONNECTED = Gauge("yb_broker_connected", "1 while the process's broker connection holds", ["service"])
CONSUMER_ATTACHED = Gauge(
    "yb_consumer_attached",
    "1 while the broker delivers to this process's consumer (not only connected)",
    ["service"],
)
DB_POOL_CONNECTIONS = Gauge(
    "yb_db_pool_connections",
    "Open pooled database connections of the process, in use or idle",
    ["service", "state"],
)
QUEUE_MESSAGES = Gauge("yb_queue_messages", "Messages waiting in the service's queues", ["service", "queue"])
QUEUE_CONSUMERS = Gauge("yb_queue_consumers", "Consumers attached to the service's main queue", ["service"])
DEAD_LETTERS = Gauge("yb_dead_letters", "Messages in the service's dead-letter queue", ["service"])
DEADLINES_AT_RISK = Gauge(
    "yb_deadlines_at_risk", "Open items close to their legal deadline", ["service", "kind"]
)
DEADLINES_OVERDUE = Gauge("yb_deadlines_overdue", "Open items past their legal deadline", ["service", "kind"])
DEADLINES_OLDEST_OVERDUE = Gauge(
    "yb_deadlines_oldest_overdue_seconds",
    "How long the oldest overdue item is past its deadline",
    ["service", "kind"],
)
PEER_PENDING = Gauge(
    "yb_peer_pending_messages", "Inter-office messages not yet acknowledged by the peer", ["service", "peer"]
)
PEER_LAST_SUCCESS = Gauge(
    "yb_peer_last_success_timestamp_seconds",
    "When the peer last acknowledged a message (Unix time; 0 never)",
    ["service", "peer"],
)
PEER_FAILING = Gauge("yb_peer_failing", "1 when the last delivery to the peer failed", ["service", "peer"])
PEER_GIVEN_UP = Counter(
    "yb_peer_messages_given_up_total",
    "Inter-office messages the peer refused for good or that were given up after their retries",
    ["service", "peer", "reason"],
)
PEER_AWAITING_RESEND = Gauge(
    "yb_peer_cases_awaiting_resend",
    "Cases whose message to the peer was refused or given up and waits for staff to re-send it",
    ["service", "peer"],
)
DEAD_LETTER_REPLAYS = Counter(
    "yb_dead_letter_replays_total", "Dead letters replayed by an administrator", ["service"]
)


class Throughput:
    """Events counted in one-second buckets, for the ops page's "messages per minute".

    Prometheus computes rates from the counters above; the page has no Prometheus behind it, so
    each process keeps the last minute itself (a few dozen integers).
    """

    WINDOW_S = 60

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], deque[list[int]]] = defaultdict(deque)

    def add(self, service: str, kind: str, count: int = 1, now: float | None = None) -> None:
        second = int(now if now is not None else time.time())
        buckets = self._buckets[(service, kind)]
        if buckets and buckets[-1][0] == second:
            buckets[-1][1] += count
        else:
            buckets.append([second, count])
        self._trim(buckets, second)

    def last_minute(self, service: str, kind: str, now: float | None = None) -> int:
        second = int(now if now is not None else time.time())
        buckets = self._buckets.get((service, kind))
        if not buckets:
            return 0
        self._trim(buckets, second)
        return sum(count for _, count in buckets)

    def _trim(self, buckets: deque[list[int]], second: int) -> None:
        while buckets and buckets[0][0] <= second - self.WINDOW_S:
            buckets.popleft()


THROUGHPUT = Throughput()

# The access audit (shared.http.audit): it must never fall silent (PIPL; alert YbAccessAuditFailing).
ACCESS_AUDIT_WRITE_FAILURES = Counter(
    "yb_access_audit_write_failures_total",
    "Access audit batches the database did not take (kept for the next try)",
    ["service"],
)
ACCESS_AUDIT_ROWS_DROPPED = Counter(
    "yb_access_audit_rows_dropped_total",
    "Access audit rows given up (refused even in their safest form, or overflow)",
    ["service"],
)
ACCESS_AUDIT_WAITING = Gauge("yb_access_audit_waiting", "Access audit rows not yet written", ["service"])
