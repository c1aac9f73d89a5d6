"""Forwarding /api/v1/<service>/… and /interop/v1/… to the services (plain ASGI, aiohttp client).

The gateway checks the token (services check it again), limits each client's rate, and maps
upstream failures to 502 (unreachable) and 504 (too slow). aiohttp forwards several times faster
than httpx under concurrency on this hardware (measured; docs/adr/0001-foundation.md).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
from starlette.types import Receive, Scope, Send

from gateway.ratelimit import RateLimiter
from gateway.settings import GatewaySettings
from shared import context
from shared.auth import Principal, Role
from shared.errors import Problem
from shared.http.problems import PROBLEM_JSON, problem_body


class Verifier(Protocol):
    """What the proxy needs of a token verifier (shared's TokenVerifier, or the gateway's account-checking one)."""

    async def verify(self, token: str) -> Principal: ...


log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
     b"transfer-encoding", b"upgrade", b"host", b"content-length"}
)  # fmt: skip
# Set by the gateway itself on every answer; the upstream's copies would be duplicates.
GATEWAY_SETS = frozenset({b"x-request-id", b"x-correlation-id", b"date", b"server"})


class Upstreams:
    """Base URLs per service, taken round-robin (several replicas of a service)."""

    def __init__(self, config: dict[str, str | list[str]]):
        self._urls = {name: [urls] if isinstance(urls, str) else list(urls) for name, urls in config.items()}
        self._turns = {name: itertools.cycle(range(len(urls))) for name, urls in self._urls.items()}

    def __contains__(self, service: str) -> bool:
        return service in self._urls

    @property
    def services(self) -> list[str]:
        return list(self._urls)

    def all_urls(self, service: str) -> list[str]:
        return self._urls[service]

    def in_turn(self, service: str) -> Iterator[str]:
        """Every replica once, starting with the next in turn."""
        urls = self._urls[service]
        start = next(self._turns[service])
        return (urls[(start + i) % len(urls)] for i in range(len(urls)))


class Proxy:
    def __init__(self, settings: GatewaySettings, verifier: Verifier, upstreams: Upstreams):
        self.settings = settings
        self.verifier = verifier
        self.upstreams = upstreams
        self.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        self.peer_ceiling = RateLimiter(settings.interop_address_rate_per_s, settings.interop_address_burst)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=512, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(
                total=self.settings.upstream_timeout_s, sock_connect=self.settings.upstream_connect_timeout_s
            ),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        """The client session, open from start-up to shutdown."""
        assert self.session is not None, "the proxy is not started"
        return self.session

    def target(self, path: str) -> str | None:
        """The service a path goes to, or None when the gateway itself answers it."""
        if path.startswith("/interop/v1/"):
            return self.settings.interop_service
        if path.startswith("/api/v1/"):
            service = path[8:].split("/", 1)[0]
            if service in self.upstreams:
                return service
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        try:
            await self._forward(scope, receive, send, service)
        except Problem as problem:
            await send_problem(send, problem)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        path: str = scope["path"]
        headers = dict_headers(scope)
        client = await self._admit(path, headers, scope)
        limiter = self.peer_ceiling if client.startswith("peer:") else self.limiter
        allowed, retry_after = limiter.allow(client)
        if not allowed:
            raise Problem(
                429,
                "rate_limited",
                "请求过于频繁，请稍后再试",
                headers={"Retry-After": str(max(1, round(retry_after)))},
            )
        body = await read_body(receive, self.settings.max_body_bytes)
        query = scope.get("query_string", b"").decode("latin-1")
        target_path = path + (f"?{query}" if query else "")
        outgoing = forwarded_headers(scope)
        status, response_headers, content = await self._send_upstream(
            service, scope["method"], target_path, outgoing, body
        )
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})

    async def _admit(self, path: str, headers: dict[bytes, bytes], scope: Scope) -> str:
        """Check the caller may go there; returns the key its rate is limited by."""
        client_ip = (scope.get("client") or ("unknown", 0))[0]
        if path.startswith("/interop/v1/"):
            return f"peer:{client_ip}"  # inter-office messages are signed; the transfer service checks them
        if any(path.startswith(p) for p in self.settings.public_prefixes) or path.endswith("/openapi.json"):
            return f"ip:{client_ip}"
        principal = await self._principal(headers)
        if principal.role is Role.peer_office:
            raise Problem(403, "forbidden", "无权执行此操作", "其他地区经办机构只能访问 /interop 接口")
        return f"sub:{principal.subject}"

    async def _principal(self, headers: dict[bytes, bytes]) -> Principal:
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(
                401,
                "unauthenticated",
                "未登录或登录已失效",
                "缺少访问令牌",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await self.verifier.verify(token.strip())

    async def _send_upstream(
        self, service: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self.session is not None
        last_error: Exception | None = None
        for base in self.upstreams.in_turn(service):
            try:
                async with self.session.request(
                    method, base + path, headers=headers, data=body or None, allow_redirects=False
                ) as response:
                    content = await response.read()
                    kept = [(k.lower(), _public_location(v) if k.lower() == b"location" else v)
                            for k, v in response.raw_headers if k.lower() not in HOP_BY_HOP | GATEWAY_SETS]  # fmt: skip
                    kept.append((b"content-length", str(len(content)).encode()))
                    return response.status, kept, content
            except aiohttp.ClientConnectorError as exc:  # nothing was sent: the next replica may take it
                last_error = exc
                continue
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                log.warning("upstream %s timed out", service)
                raise Problem(
                    504, "gateway_timeout", "上游服务响应超时", f"{service} 未在规定时间内响应"
                ) from exc
            except aiohttp.ClientError as exc:
                log.warning("upstream %s failed: %r", service, exc)
                raise Problem(502, "bad_gateway", "上游服务不可用", f"{service} 连接异常") from exc
        log.warning("upstream %s unreachable: %r", service, last_error)
        raise Problem(502, "bad_gateway", "上游服务不可用", f"{service} 暂时无法连接")


def _public_location(value: bytes) -> bytes:
    """A redirect the service built from its own address (http://127.0.0.1:8101/...; a trailing
    slash, say) points the caller at the path alone, through the gateway: never at an internal host."""
    parsed = urlsplit(value.decode("latin-1"))
    if not parsed.scheme and not parsed.netloc:
        return value
    path = parsed.path or "/"
    return (path + (f"?{parsed.query}" if parsed.query else "")).encode("latin-1")


def dict_headers(scope: Scope) -> dict[bytes, bytes]:
    return {k: v for k, v in scope.get("headers", ())}


def forwarded_headers(scope: Scope) -> list[tuple[str, str]]:
    kept = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in scope.get("headers", ())
        if k not in HOP_BY_HOP
        and not k.startswith(b"x-forwarded-")
        and k not in (b"x-request-id", b"x-correlation-id")
    ]
    client_ip = (scope.get("client") or ("unknown", 0))[0]
    kept += [
        ("x-forwarded-for", client_ip),
        ("x-forwarded-proto", scope.get("scheme", "http")),
        ("x-request-id", context.request_id.get() or ""),
        ("x-correlation-id", context.correlation_id.get() or ""),
    ]
    return kept


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Problem(413, "payload_too_large", "请求体过大", f"请求体不能超过 {limit} 字节")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_problem(send: Send, problem: Problem) -> None:
    body = json.dumps(
        problem_body(
            problem.status,
            problem.code,
            problem.title,
            problem.detail,
            errors=problem.errors,
            **problem.extra,
        ),
        ensure_ascii=False,
    ).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
