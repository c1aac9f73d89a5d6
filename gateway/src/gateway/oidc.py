"""Sign-in through the office's identity provider: OpenID Connect, authorization code with PKCE.

The gateway is the OpenID client of the staff pages (the workbench and the ops page):

1. `GET /api/v1/auth/oidc/login?return_to=/workbench/` makes a state, a nonce and a PKCE verifier,
   keeps them in a short-lived HttpOnly cookie scoped to this path, and sends the browser to the
   provider's authorization endpoint with the S256 challenge.
2. The provider sends the browser back to `GET /api/v1/auth/oidc/callback?code&state`. The gateway
   checks the state against the cookie, exchanges the code with the verifier, checks the ID token
   (signature by the provider's JWKS, issuer, audience = the client id, nonce, lifetime) and the access
   token by the platform's own rules (docs/integrators.md section 1: the provider's access token is the
   platform token, with role, office... as claims), and that both name the same subject.
3. The browser goes back to the page with the access token in the address fragment (never sent to a
   server, so it reaches no log); the page takes it into sessionStorage and clears the address.

A failure sends the browser back to the page with `#signin_error=<code>` (the page says it in
Chinese); nothing is signed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import jwt
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from gateway.accounts import CheckedVerifier
from gateway.settings import GatewaySettings

PREFIX = "/api/v1/auth/oidc"
COOKIE = "yb_oidc"
COOKIE_TTL_S = 600
# Only the staff pages the gateway serves may be returned to (no open redirect).
RETURN_PAGES = ("/workbench", "/ops")
log = logging.getLogger(__name__)


class SignInConfigOut(BaseModel):
    development_sign_in: bool
    oidc_login: str | None = None


class SignInFailed(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def safe_return(path: str | None) -> str:
    if path and path.startswith(RETURN_PAGES) and "//" not in path and "\\" not in path and "#" not in path:
        return path
    return "/workbench/"


class OidcClient:
    def __init__(self, settings: GatewaySettings, verifier: CheckedVerifier):
        assert settings.oidc_issuer and settings.oidc_redirect_uri
        self.settings, self.verifier = settings, verifier
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._discovery: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._keys_at = 0.0

    async def discovery(self, http: httpx.AsyncClient) -> dict[str, Any]:
        if self._discovery is None:
            answer = await http.get(f"{self.issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            found = answer.json()
            if found.get("issuer", "").rstrip("/") != self.issuer:
                raise SignInFailed("provider_misconfigured")
            self._discovery = found
        return self._discovery

    async def keys(self, http: httpx.AsyncClient, refresh: bool = False) -> jwt.PyJWKSet:
        # An unknown key id refetches, at most every 30 s (the provider rotating its keys).
        if self._keys is None or (refresh and time.monotonic() - self._keys_at > 30):
            answer = await http.get((await self.discovery(http))["jwks_uri"])
            answer.raise_for_status()
            self._keys, self._keys_at = jwt.PyJWKSet.from_dict(answer.json()), time.monotonic()
        return self._keys

    async def authorization_url(self, http: httpx.AsyncClient, state: str, nonce: str, verifier: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": self.settings.oidc_redirect_uri,
            "scope": self.settings.oidc_scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        return f"{(await self.discovery(http))['authorization_endpoint']}?{urlencode(query)}"

    async def exchange(self, http: httpx.AsyncClient, code: str, verifier: str, nonce: str) -> str:
        """The code for tokens; answers the access token once the ID token and it are checked."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.oidc_redirect_uri or "",
            "client_id": self.settings.oidc_client_id,
            "code_verifier": verifier,
        }
        endpoint = (await self.discovery(http))["token_endpoint"]
        secret = self.settings.oidc_client_secret
        if secret:  # a confidential client: HTTP Basic with its secret, as well as the verifier
            answer = await http.post(endpoint, data=form, auth=(self.settings.oidc_client_id, secret))
        else:
            answer = await http.post(endpoint, data=form)
        if answer.status_code != 200:
            log.warning("oidc token endpoint refused the code: %s %s", answer.status_code, answer.text[:200])
            raise SignInFailed("code_refused")
        tokens = answer.json()
        if not isinstance(tokens.get("id_token"), str) or not isinstance(tokens.get("access_token"), str):
            raise SignInFailed("code_refused")
        identity = await self._id_claims(http, tokens["id_token"])
        if not identity.get("nonce") or not hmac.compare_digest(str(identity["nonce"]), nonce):
            raise SignInFailed("nonce_mismatch")
        try:
            principal = await self.verifier.verify(tokens["access_token"])
        except Exception as exc:  # the platform refuses the token: say so, sign nobody in
            log.warning("oidc access token refused by the platform rules: %s", exc)
            raise SignInFailed("token_not_accepted") from exc
        if principal.subject != identity.get("sub"):
            raise SignInFailed("subject_mismatch")
        return str(tokens["access_token"])

    async def _id_claims(self, http: httpx.AsyncClient, id_token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = _key(await self.keys(http), kid) or _key(await self.keys(http, refresh=True), kid)
            if key is None:
                raise SignInFailed("id_token_invalid")
            return jwt.decode(
                id_token,
                key,
                algorithms=[self.settings.auth_algorithm],
                audience=self.settings.oidc_client_id,
                issuer=(await self.discovery(http))["issuer"],
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            log.warning("oidc id token invalid: %s", exc)
            raise SignInFailed("id_token_invalid") from exc


def _key(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    return next((k for k in keys.keys if k.key_id == kid), None)


def oidc_router(settings: GatewaySettings, verifier: CheckedVerifier) -> APIRouter:
    router = APIRouter(prefix="/api/v1/auth", tags=["登录"])
    client = OidcClient(settings, verifier) if settings.oidc_issuer and settings.oidc_redirect_uri else None
    secure = bool(settings.oidc_redirect_uri and settings.oidc_redirect_uri.startswith("https://"))

    # Plumbing of the gateway's own staff pages (which sign-in to offer), not an API for apps.
    @router.get("/config", response_model=SignInConfigOut, response_model_exclude_none=True,
                include_in_schema=False)  # fmt: skip
    async def config() -> SignInConfigOut:
        return SignInConfigOut(
            development_sign_in=settings.dev_issuer, oidc_login=f"{PREFIX}/login" if client else None
        )

    if client is None:
        return router

    @router.get("/oidc/login", include_in_schema=False)
    async def login(return_to: Annotated[str | None, Query(max_length=500)] = None) -> RedirectResponse:
        state, nonce, verifier = (
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(48),
        )
        back = safe_return(return_to)
        try:
            async with _http(settings) as http:
                target = await client.authorization_url(http, state, nonce, verifier)
        except (httpx.HTTPError, SignInFailed, KeyError, ValueError) as exc:
            log.warning("oidc provider discovery failed: %s", exc)
            return _back(back, "provider_unreachable")
        answer = RedirectResponse(target, status_code=303)
        cookie = json.dumps({"state": state, "nonce": nonce, "verifier": verifier, "return_to": back})
        answer.set_cookie(COOKIE, base64.urlsafe_b64encode(cookie.encode()).decode(), max_age=COOKIE_TTL_S,
                          path=PREFIX, httponly=True, samesite="lax", secure=secure)  # fmt: skip
        return answer

    @router.get("/oidc/callback", include_in_schema=False)
    async def callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=2000)] = None,
        state: Annotated[str | None, Query(max_length=500)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
    ) -> RedirectResponse:
        kept = _kept(request.cookies.get(COOKIE))
        back = safe_return(kept.get("return_to"))
        try:
            if not kept or not state or not hmac.compare_digest(state, kept["state"]):
                raise SignInFailed("state_mismatch")
            if error or not code:
                raise SignInFailed("provider_refused")
            async with _http(settings) as http:
                access = await client.exchange(http, code, kept["verifier"], kept["nonce"])
        except SignInFailed as failed:
            answer = _back(back, failed.code)
        except httpx.HTTPError as exc:
            log.warning("oidc provider unreachable: %s", exc)
            answer = _back(back, "provider_unreachable")
        else:
            fragment = urlencode({"access_token": access, "token_type": "Bearer"})
            answer = RedirectResponse(f"{back}#{fragment}", status_code=303)
            answer.headers["Cache-Control"] = "no-store"
        answer.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="lax", secure=secure)
        return answer

    return router


def _http(settings: GatewaySettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s)
    )


def _kept(raw: str | None) -> dict[str, str]:
    try:
        kept = json.loads(base64.urlsafe_b64decode((raw or "").encode()))
    except ValueError:
        return {}
    if not isinstance(kept, dict) or not all(
        isinstance(kept.get(k), str) for k in ("state", "nonce", "verifier")
    ):
        return {}
    return kept


def _back(page: str, code: str) -> RedirectResponse:
    return RedirectResponse(f"{page}#{urlencode({'signin_error': code})}", status_code=303)
