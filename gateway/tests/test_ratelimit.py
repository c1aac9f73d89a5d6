"""Per-client token buckets: a burst, then refusals until the bucket refills at the set rate."""

from __future__ import annotations

import pytest

from gateway import ratelimit
from gateway.ratelimit import RateLimiter


def take(limiter: RateLimiter, client: str, times: int, now: float) -> list[bool]:
    return [limiter.allow(client, now=now)[0] for _ in range(times)]


def test_a_full_burst_then_refusal() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=3)
    assert take(limiter, "sub:a", 3, now=100.0) == [True, True, True]
    allowed, retry_after = limiter.allow("sub:a", now=100.0)
    assert allowed is False
    assert retry_after == pytest.approx(1.0)


def test_an_allowed_request_has_no_wait() -> None:
    limiter = RateLimiter(rate_per_s=5.0, burst=2)
    assert limiter.allow("sub:a", now=0.0) == (True, 0.0)


def test_refill_over_time() -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=4)
    assert take(limiter, "sub:a", 4, now=10.0) == [True] * 4
    assert limiter.allow("sub:a", now=10.0)[0] is False

    # 0.25 s at 2 tokens/s is half a token: still refused, and told to wait the other half.
    allowed, retry_after = limiter.allow("sub:a", now=10.25)
    assert allowed is False
    assert retry_after == pytest.approx(0.25)

    # At 0.5 s a whole token is back: exactly one request passes.
    assert take(limiter, "sub:a", 2, now=10.5) == [True, False]

    # One more second: two more tokens.
    assert take(limiter, "sub:a", 3, now=11.5) == [True, True, False]


def test_refill_never_exceeds_the_burst() -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=3)
    assert take(limiter, "sub:a", 3, now=0.0) == [True] * 3
    # A long pause refills to the burst, not to rate × pause.
    assert take(limiter, "sub:a", 5, now=3600.0) == [True, True, True, False, False]


def test_refused_requests_do_not_push_the_wait_further() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1)
    assert limiter.allow("sub:a", now=0.0)[0] is True
    for _ in range(50):
        assert limiter.allow("sub:a", now=0.5)[0] is False
    assert limiter.allow("sub:a", now=1.0)[0] is True


def test_slow_rates_report_long_waits() -> None:
    limiter = RateLimiter(rate_per_s=0.5, burst=1)
    assert limiter.allow("ip:10.0.0.1", now=0.0)[0] is True
    allowed, retry_after = limiter.allow("ip:10.0.0.1", now=0.0)
    assert allowed is False
    assert retry_after == pytest.approx(2.0)


def test_each_client_has_its_own_bucket() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=2)
    assert take(limiter, "sub:zhangsan", 3, now=0.0) == [True, True, False]
    assert take(limiter, "sub:lisi", 2, now=0.0) == [True, True]
    assert limiter.allow("ip:127.0.0.1", now=0.0)[0] is True
    assert limiter.allow("sub:zhangsan", now=0.0)[0] is False


def test_real_clock_by_default() -> None:
    limiter = RateLimiter(rate_per_s=0.001, burst=2)
    assert [limiter.allow("sub:a")[0] for _ in range(3)] == [True, True, False]


def test_memory_is_bounded_and_active_clients_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_CLIENTS", 3)
    limiter = RateLimiter(rate_per_s=0.001, burst=1)
    assert limiter.allow("a", now=0.0)[0] is True
    assert limiter.allow("b", now=0.0)[0] is True
    assert limiter.allow("c", now=0.0)[0] is True
    assert limiter.allow("a", now=0.1)[0] is False  # "a" is the most recent now
    assert limiter.allow("d", now=0.2)[0] is True  # evicts the least recent: "b"
    assert len(limiter._buckets) == 3
    assert "b" not in limiter._buckets
    # "a" kept its empty bucket: still refused.
    assert limiter.allow("a", now=0.3)[0] is False
