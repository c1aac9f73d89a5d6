"""Sign-in of the staff pages through an OpenID Connect provider (code + PKCE), in production mode:
the gateway in process, the small test provider (shared.testing.oidc_provider) on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gateway.main import create_app
from gateway.settings import GatewaySettings
from shared.auth import Principal, Role
from shared.testing.asgi import serve
from shared.testing.oidc_provider import OidcProvider, provider_app, s256

GATEWAY = "http://gateway.test"
CALLBACK = f"{GATEWAY}/api/v1/auth/oidc/callback"
CLIENT = "yibao-staff-pages"


@dataclass
class World:
    provider: OidcProvider
    idp: httpx.AsyncClient
    gateway: httpx.AsyncClient


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    provider = OidcProvider("", "yibao-platform", tmp_path / "idp", clients={CLIENT: CALLBACK})
    provider.add("ops-li", "s3cret-pass", Principal(subject="ops-li", role=Role.ops, name="李运维"))
    provider.add("clerk-wang", "s3cret-pass", Principal(subject="clerk-wang", role=Role.staff, office_code="120101",
                                                     office_level="district"))  # fmt: skip
    with serve(provider_app(provider)) as idp_url:
        provider.located_at(idp_url)
        settings = GatewaySettings(
            environment="production",
            dev_issuer=False,
            person_id_key="a-production-person-key-of-32-bytes!",
            key_dir=tmp_path / "keys",
            auth_issuer=idp_url,
            auth_jwks_url=f"{idp_url}/jwks",
            oidc_issuer=idp_url,
            oidc_redirect_uri=CALLBACK,
        )
        app = create_app(settings)
        async with (
            httpx.AsyncClient(base_url=idp_url, timeout=10) as idp,
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=GATEWAY, timeout=10) as gateway,
        ):
            yield World(provider, idp, gateway)


async def start(world: World, return_to: str = "/ops") -> dict[str, str]:
    """The gateway's login step: the query it sends the browser to the provider with."""
    answer = await world.gateway.get("/api/v1/auth/oidc/login", params={"return_to": return_to})
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    return {k: v[0] for k, v in parse_qs(target.query).items()}


async def approve(world: World, query: dict[str, str], username: str = "ops-li") -> dict[str, str]:
    """The user signs in at the provider; answers the callback's query."""
    answer = await world.idp.post(
        "/authorize", data={**query, "username": username, "password": "s3cret-pass"}
    )
    assert answer.status_code == 303, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def fragment(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


async def test_an_ops_user_signs_in_through_the_provider_with_pkce_and_the_token_opens_the_ops_api(
    world: World,
) -> None:
    query = await start(world)
    assert query["code_challenge_method"] == "S256" and query["client_id"] == CLIENT
    back = await world.gateway.get("/api/v1/auth/oidc/callback", params=await approve(world, query))

    assert back.status_code == 303 and back.headers["location"].startswith("/ops#")
    token = fragment(back.headers["location"])["access_token"]
    me = await world.gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["subject"] == "ops-li" and me.json()["role"] == "ops"
    # The gateway sent the verifier whose S256 is the challenge it had sent the browser with.
    assert s256(world.provider.token_requests[-1]["code_verifier"]) == query["code_challenge"]


async def test_a_district_clerk_lands_back_on_the_workbench_with_their_office_in_the_token(
    world: World,
) -> None:
    query = await start(world, "/workbench/worklist")
    back = await world.gateway.get(
        "/api/v1/auth/oidc/callback", params=await approve(world, query, "clerk-wang")
    )
    assert back.headers["location"].startswith("/workbench/worklist#access_token=")
    token = fragment(back.headers["location"])["access_token"]
    me = (await world.gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert (me["role"], me["office_code"], me["office_level"]) == ("staff", "120101", "district")


async def test_a_callback_whose_state_is_not_the_one_sent_signs_nobody_in(world: World) -> None:
    callback = await approve(world, await start(world))
    back = await world.gateway.get("/api/v1/auth/oidc/callback", params={**callback, "state": "forged"})
    assert fragment(back.headers["location"]) == {"signin_error": "state_mismatch"}


async def test_a_callback_without_the_login_cookie_signs_nobody_in(world: World) -> None:
    callback = await approve(world, await start(world))
    world.gateway.cookies.clear()  # another browser replaying the code
    back = await world.gateway.get("/api/v1/auth/oidc/callback", params=callback)
    assert fragment(back.headers["location"]) == {"signin_error": "state_mismatch"}


async def test_the_provider_refuses_a_code_exchanged_without_the_right_verifier(world: World) -> None:
    query = await start(world)
    callback = await approve(world, query)
    answer = await world.idp.post("/token", data={"grant_type": "authorization_code", "code": callback["code"],
                                                  "redirect_uri": CALLBACK, "client_id": CLIENT,
                                                  "code_verifier": "x" * 43})  # fmt: skip
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    # The code was used up by the wrong try: the gateway's own exchange is refused too.
    back = await world.gateway.get("/api/v1/auth/oidc/callback", params=callback)
    assert fragment(back.headers["location"]) == {"signin_error": "code_refused"}


async def test_the_provider_refuses_an_authorization_without_an_s256_challenge(world: World) -> None:
    query = await start(world)
    plain = {**query, "code_challenge_method": "plain"}
    answer = await world.idp.get("/authorize", params=plain)
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["location"]).query)["error"] == ["invalid_request"]


async def test_the_login_returns_only_to_the_staff_pages_never_to_another_site(world: World) -> None:
    for outside in ("https://evil.example/", "//evil.example/ops", "/ops//evil.example", "/api/v1/x"):
        query = await start(world, outside)
        back = await world.gateway.get("/api/v1/auth/oidc/callback", params=await approve(world, query))
        assert back.headers["location"].startswith("/workbench/#access_token="), outside


async def test_the_development_sign_in_is_refused_in_production(world: World) -> None:
    answer = await world.gateway.post("/api/v1/auth/token", data={"username": "ops", "password": "ops"})
    assert answer.status_code == 404 and answer.json()["code"] == "dev_signin_disabled"
    config = (await world.gateway.get("/api/v1/auth/config")).json()
    assert config == {"development_sign_in": False, "oidc_login": "/api/v1/auth/oidc/login"}
