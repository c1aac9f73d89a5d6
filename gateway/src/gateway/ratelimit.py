"""Per-client token buckets (per gateway process; each replica limits its own share)."""

from __future__ import annotations

import time
from collections import OrderedDict

MAX_CLIENTS = 100_000


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int):
        self.rate, self.burst = rate_per_s, float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str, now: float | None = None) -> tuple[bool, float]:
        """Take one token; returns (allowed, seconds until the next token when refused)."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - tokens) / self.rate
