"""What the gateway does for every request before anything else (plain ASGI, cheap):

- the real client address: behind the ingress the peer is the proxy; its X-Forwarded-For is
  believed only when the peer is one of `trusted_proxies`, and then the rightmost address that is
  not a trusted proxy is the client (what rate limits, the audit and the services see);
- `/metrics` and the detailed `/health` only for callers inside the cluster that came straight
  (no proxy in between: Prometheus, the deployment's probes) or for ops and admin tokens; anyone
  else gets 404, as if they were not there;
- the gateway's own endpoints limited per address (the services' routes are limited per caller in
  the proxy); the probes' `/health/live` and `/health/ready` are not counted, sign-in has limits
  of its own (gateway.signin);
- the gateway's own endpoints read at most 64 KB of a body (413 beyond);
- security headers on every answer (CSP on pages).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.proxy import send_problem
from gateway.ratelimit import RateLimiter
from shared.auth import Role
from shared.errors import Problem

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

INTERNAL_ONLY = frozenset({"/metrics", "/health"})
# The probes, and sign-in (limited more strictly, per address and per account, by gateway.signin).
NOT_LIMITED = frozenset({"/health/live", "/health/ready", "/api/v1/auth/token"})
# The pages are the ops page and the API documentation (Swagger UI from its CDN, inline set-up).
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "font-src 'self' data: https://cdn.jsdelivr.net; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
OWN_MAX_BODY_BYTES = 64 * 1024
FORWARDED = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


@functools.lru_cache(maxsize=4096)  # every request parses its peer's address; the peers are few
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _within(address: str, nets: tuple[Network, ...]) -> bool:
    parsed = _address(address)
    return parsed is not None and any(parsed in net for net in nets)


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The caller's address: the peer, unless it is a trusted proxy naming who it forwards for."""
    if not forwarded_for or not _within(peer, trusted):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if _address(hop) is None:
            return peer  # a hop that is no address: believe none of the list
        if not _within(hop, trusted):
            return hop
    return peer


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        trusted_proxies: Iterable[str],
        internal_networks: Iterable[str],
        verifier,
        own_limiter: RateLimiter,
        is_own,
    ) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.trusted = networks(trusted_proxies)
        self.internal = networks(internal_networks)
        self.verifier = verifier
        self.own_limiter = own_limiter
        self.is_own = is_own  # path -> whether the gateway answers it itself

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        peer = (scope.get("client") or ("unknown", 0))[0]
        forwarded_for = headers.get(b"x-forwarded-for", b"").decode("latin-1") or None
        address = client_address(peer, forwarded_for, self.trusted)
        scope["client"] = (address, (scope.get("client") or ("", 0))[1])
        direct = not any(name in headers for name in FORWARDED)
        try:
            await self._admit(scope, headers, address, direct and _within(peer, self.internal))
        except Problem as problem:
            await send_problem(_secured(send), problem)
            return
        await self.app(
            scope, self._bounded(receive) if self.is_own(scope["path"]) else receive, _secured(send)
        )

    def _bounded(self, receive: Receive) -> Receive:
        """The gateway's own endpoints take small bodies; reading stops past OWN_MAX_BODY_BYTES."""
        received = 0

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > OWN_MAX_BODY_BYTES:
                raise HTTPException(413, f"请求体不能超过 {OWN_MAX_BODY_BYTES} 字节")
            return message

        return receive_bounded

    async def _admit(self, scope: Scope, headers: dict[bytes, bytes], address: str, internal: bool) -> None:
        path: str = scope["path"]
        if path in INTERNAL_ONLY and not internal and not await self._operator(headers):
            raise Problem(404, "not_found", "资源不存在")
        if self.is_own(path) and path not in NOT_LIMITED:
            allowed, wait = self.own_limiter.allow(f"ip:{address}")
            if not allowed:
                raise Problem(
                    429,
                    "rate_limited",
                    "请求过于频繁，请稍后再试",
                    headers={"Retry-After": str(max(1, round(wait + 0.5)))},
                )

    async def _operator(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        try:
            principal = await self.verifier.verify(token.strip())
        except Problem:
            return False
        return principal.role in (Role.ops, Role.admin)


def _secured(send: Send) -> Send:
    async def send_secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            added = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            content_type = next(
                (v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b""
            )
            if content_type.startswith(b"text/html") and b"content-security-policy" not in present:
                added.append((b"content-security-policy", PAGE_CSP.encode()))
            message["headers"] = [*message.get("headers", []), *added]
        await send(message)

    return send_secured
