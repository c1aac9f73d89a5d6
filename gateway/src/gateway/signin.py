"""Sign-in limits: per address (a token bucket) and per account (a lockout after repeated failures).

Both answer 429 with `Retry-After`. A locked account stays locked for the lockout even with the
right password, so guessing cannot go on slowly either; another account is not affected. Per
gateway process (each replica counts its own share), like the request rate limits.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from gateway.ratelimit import RateLimiter
from shared.errors import Problem

MAX_TRACKED_ACCOUNTS = 100_000


@dataclass
class _Failures:
    count: int
    first_at: float
    locked_until: float = 0.0


class SignInGuard:
    def __init__(
        self, per_address_per_min: int, max_failures: int, failure_window_s: float, lockout_s: float
    ):
        self.addresses = RateLimiter(per_address_per_min / 60.0, per_address_per_min)
        self.max_failures, self.window_s, self.lockout_s = max_failures, failure_window_s, lockout_s
        self._accounts: OrderedDict[str, _Failures] = OrderedDict()

    def admit(self, address: str, username: str, now: float | None = None) -> None:
        """Before the password is looked at: the address's allowance, then the account's lock."""
        now = time.monotonic() if now is None else now
        allowed, wait = self.addresses.allow(f"signin:{address}", now=now)
        if not allowed:
            raise _too_many("signin_rate_limited", "登录尝试过于频繁，请稍后再试", wait)
        failures = self._accounts.get(username)
        if failures is not None and failures.locked_until > now:
            raise _too_many("signin_locked", "密码错误次数过多，账号暂时锁定", failures.locked_until - now)

    def failed(self, username: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        failures = self._accounts.pop(username, None)
        if failures is None or now - failures.first_at > self.window_s:
            failures = _Failures(0, now)
        failures.count += 1
        if failures.count >= self.max_failures:
            failures.locked_until = now + self.lockout_s
        self._accounts[username] = failures
        if len(self._accounts) > MAX_TRACKED_ACCOUNTS:
            self._accounts.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._accounts.pop(username, None)


def _too_many(code: str, title: str, wait_s: float) -> Problem:
    seconds = max(1, round(wait_s + 0.5))
    return Problem(429, code, title, f"请 {seconds} 秒后再试", headers={"Retry-After": str(seconds)})
