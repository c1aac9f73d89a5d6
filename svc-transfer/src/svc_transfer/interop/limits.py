"""Peers are not the public: each peer office has its own allowance of messages, counted after its
signature was verified (an address can be shared by many; a forged sender never spends a real
peer's allowance)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from shared.errors import Problem


@dataclass
class PeerRateLimit:
    """A token bucket per sender office: `per_s` messages a second on average, bursts of `burst`."""

    per_s: float
    burst: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # office → (tokens, at)

    def take(self, office: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.get(office, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_s)
        if tokens < 1:
            wait = (1 - tokens) / self.per_s
            raise Problem(
                429, "rate_limited", "报文过于频繁", f"请 {wait:.0f} 秒后重试（按 Retry-After 等待，报文可原样重发）",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )  # fmt: skip
        self._buckets[office] = (tokens - 1, now)
