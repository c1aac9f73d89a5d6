"""Verifying bearer tokens: asymmetric signature, pinned algorithm, iss/aud/exp/sub required.

Keys come from a JWKS file or URL. An unknown `kid` refetches the URL (rate-limited), so keys
rotate without a restart. Verified tokens are cached until they expire: every request is
verified by the gateway and again by the service, and the signature check is the costly part.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
import jwt
from pydantic import ValidationError

from shared.auth.principal import Principal
from shared.errors import Problem

CACHE_SIZE = 50_000
JWKS_REFRESH_MIN_INTERVAL_S = 30.0
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]
# No token lives longer than this (exp - iat): a token issued for years is refused whatever it says.
MAX_LIFETIME_S = 12 * 3600
CLOCK_SKEW_S = 60
# What a token is for (claim `token_use`; absent means access). Refresh tokens open no API.
ACCESS, REFRESH = "access", "refresh"


def unauthenticated(detail: str) -> Problem:
    return Problem(
        401, "unauthenticated", "未登录或登录已失效", detail, headers={"WWW-Authenticate": "Bearer"}
    )


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        algorithm: str,
        jwks_file: Path | None = None,
        jwks_url: str | None = None,
        refresh_interval_s: float = JWKS_REFRESH_MIN_INTERVAL_S,
        max_lifetime_s: int = MAX_LIFETIME_S,
    ):
        if not (jwks_file or jwks_url):
            raise ValueError("a JWKS file or URL is required to verify tokens")
        self.issuer, self.audience, self.algorithm = issuer, audience, algorithm
        self._jwks_file, self._jwks_url = jwks_file, jwks_url
        # Unknown kids refetch the keys at most this often, so random kids cannot flood the issuer.
        self._refresh_interval_s = refresh_interval_s
        self.max_lifetime_s = max_lifetime_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str, use: str = ACCESS) -> Principal:
        cached = self._cache.get(token) if use == ACCESS else None
        if cached is not None and cached[1] > time.time():
            return cached[0]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise unauthenticated("令牌格式错误") from exc
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
            principal = Principal.from_claims(claims)
        except jwt.ExpiredSignatureError as exc:
            raise unauthenticated("令牌已过期") from exc
        except (jwt.PyJWTError, ValidationError, KeyError) as exc:
            raise unauthenticated("令牌无效") from exc
        self._check_lifetime_and_use(claims, use)
        if use == ACCESS:
            self._remember(token, principal, float(claims["exp"]))
        return principal

    def _check_lifetime_and_use(self, claims: dict[str, Any], use: str) -> None:
        try:
            issued, expires = float(claims["iat"]), float(claims["exp"])
        except (TypeError, ValueError) as exc:
            raise unauthenticated("令牌无效") from exc
        if expires - issued > self.max_lifetime_s:
            raise unauthenticated("令牌有效期过长")
        if issued > time.time() + CLOCK_SKEW_S:
            raise unauthenticated("令牌签发时间在未来")
        if claims.get("token_use", ACCESS) != use:
            raise unauthenticated("令牌用途不符")

    def _remember(self, token: str, principal: Principal, expires_at: float) -> None:
        self._cache[token] = (principal, expires_at)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        if kid not in self._keys:
            await self._refresh()
        try:
            return self._keys[kid] if kid is not None else next(iter(self._keys.values()))
        except (KeyError, StopIteration):
            raise unauthenticated("签名密钥未知") from None

    async def _refresh(self) -> None:
        async with self._lock:
            if self._keys and time.monotonic() - self._fetched_at < self._refresh_interval_s:
                return
            document = await self._load_jwks()
            keys = {}
            for entry in document.get("keys", []):
                if entry.get("alg", self.algorithm) == self.algorithm:
                    keys[entry.get("kid")] = jwt.PyJWK(entry, algorithm=self.algorithm)
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def _load_jwks(self) -> dict[str, Any]:
        if self._jwks_file is not None:
            document: dict[str, Any] = json.loads(self._jwks_file.read_text())
            return document
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(self._jwks_url)  # type: ignore[arg-type]
            response.raise_for_status()
            fetched: dict[str, Any] = response.json()
            return fetched
