"""A small OpenID Connect provider for tests: the office's identity provider in miniature.

It serves discovery, the JWKS, the authorization endpoint (a sign-in form; PKCE with S256 is
required and checked) and the token endpoint (authorization code, single use, bound to its client,
redirect URI and code challenge). Its access tokens follow the platform's token contract
(docs/integrators.md section 1: role, office, office_level, person_id, unit_id, facility_id); its
ID tokens carry the nonce the client sent. Test use only: accounts and codes live in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from shared.auth.issuer import DevIssuer
from shared.auth.principal import Principal


@dataclass(frozen=True)
class ProviderAccount:
    username: str
    password: str
    principal: Principal


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    username: str
    expires_at: float


@dataclass
class OidcProvider:
    issuer: str
    audience: str
    key_dir: Path
    clients: dict[str, str]  # client id → its one registered redirect URI
    accounts: dict[str, ProviderAccount] = field(default_factory=dict)
    token_ttl_s: int = 900
    grants: dict[str, _Grant] = field(default_factory=dict)
    # What the token endpoint was asked, so tests can show the client sent its verifier.
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.signer = DevIssuer.load_or_create(self.key_dir, self.issuer, self.audience)

    def located_at(self, url: str) -> None:
        """The issuer is the provider's own address, known once it is served (same key)."""
        self.issuer = url.rstrip("/")
        self.signer = DevIssuer.load_or_create(self.key_dir, self.issuer, self.audience)

    def add(self, username: str, password: str, principal: Principal) -> None:
        self.accounts[username] = ProviderAccount(username, password, principal)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def provider_app(provider: OidcProvider) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": provider.issuer,
            "authorization_endpoint": f"{provider.issuer}/authorize",
            "token_endpoint": f"{provider.issuer}/token",
            "jwks_uri": f"{provider.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return provider.signer.jwks()

    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        query = dict(request.query_params)
        refusal = _refuse_authorization(provider, query)
        if refusal is not None:
            return refusal
        return HTMLResponse(_form(query))

    @app.post("/authorize")
    async def sign_in(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        refusal = _refuse_authorization(provider, form)
        if refusal is not None:
            return refusal
        account = provider.accounts.get(form.get("username", ""))
        if account is None or not hmac.compare_digest(account.password, form.get("password", "")):
            return HTMLResponse(_form(form, error="用户名或密码错误"), status_code=401)
        code = secrets.token_urlsafe(24)
        provider.grants[code] = _Grant(
            form["client_id"], form["redirect_uri"], form["code_challenge"], form.get("nonce"),
            account.username, time.time() + 60,
        )  # fmt: skip
        answer = urlencode({"code": code, "state": form.get("state", "")})
        return RedirectResponse(f"{form['redirect_uri']}?{answer}", status_code=303)

    @app.post("/token")
    async def token(
        grant_type: str = Form(...),
        code: str = Form(...),
        redirect_uri: str = Form(...),
        client_id: str = Form(...),
        code_verifier: str = Form(""),
    ) -> Response:
        provider.token_requests.append({"code": code, "client_id": client_id, "code_verifier": code_verifier})
        grant = provider.grants.pop(code, None)  # single use, whatever the outcome
        if grant_type != "authorization_code" or grant is None or grant.expires_at < time.time():
            return _oauth_error("invalid_grant")
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            return _oauth_error("invalid_grant")
        if not code_verifier or not hmac.compare_digest(s256(code_verifier), grant.challenge):
            return _oauth_error("invalid_grant", "PKCE verification failed")
        principal = provider.accounts[grant.username].principal
        access = provider.signer.issue(principal, provider.token_ttl_s)
        now = int(time.time())
        id_claims = {"iss": provider.issuer, "aud": client_id, "sub": principal.subject, "iat": now,
                     "exp": now + provider.token_ttl_s, "nonce": grant.nonce, "name": principal.name}  # fmt: skip
        id_token = jwt.encode(
            id_claims, provider.signer._key, algorithm="ES256", headers={"kid": provider.signer.kid}
        )
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": provider.token_ttl_s,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    return app


def _refuse_authorization(provider: OidcProvider, query: dict[str, str]) -> Response | None:
    registered = provider.clients.get(query.get("client_id", ""))
    if registered is None or registered != query.get("redirect_uri"):
        # Never redirect to an unregistered address: answer the browser directly.
        return HTMLResponse("<p>unknown client or redirect_uri</p>", status_code=400)
    if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
        return _redirect_error(query, "invalid_request")
    if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
        return _redirect_error(query, "invalid_request")
    return None


def _redirect_error(query: dict[str, str], error: str) -> Response:
    answer = urlencode({"error": error, "state": query.get("state", "")})
    return RedirectResponse(f"{query['redirect_uri']}?{answer}", status_code=303)


def _oauth_error(error: str, description: str = "") -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=400)


def _form(fields: dict[str, str], error: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
        if k not in {"username", "password"}
    )
    message = f'<p role="alert" id="idp-error">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>统一身份认证</title></head>
<body><h1>统一身份认证（测试）</h1>{message}<form method="post" action="authorize">{hidden}
<label for="idp-username">用户名</label><input id="idp-username" name="username" autocomplete="username">
<label for="idp-password">密码</label><input id="idp-password" name="password" type="password">
<button id="idp-submit" type="submit">登录</button></form></body></html>"""
