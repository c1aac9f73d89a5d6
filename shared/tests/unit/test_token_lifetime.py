"""Tokens are short-lived by construction: a token issued for years, issued in the future, or meant
for refreshing is not an access token anywhere (gateway and services verify the same way)."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from shared.auth import Principal, Role, TokenVerifier
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.auth.verify import REFRESH
from shared.errors import Problem

ISSUER, AUDIENCE = "https://auth.test", "yibao-test"
PERSON = Principal(subject="zhangsan", role=Role.insured, name="张三", person_id=uuid.uuid4())


@pytest.fixture
def issuer(tmp_path) -> DevIssuer:  # type: ignore[no-untyped-def]
    return DevIssuer.load_or_create(tmp_path, ISSUER, AUDIENCE)


@pytest.fixture
def verifier(tmp_path, issuer) -> TokenVerifier:  # type: ignore[no-untyped-def]
    return TokenVerifier(ISSUER, AUDIENCE, "ES256", jwks_file=tmp_path / JWKS_FILE)


async def detail_of_refusal(verifier: TokenVerifier, token: str, use: str = "access") -> str:
    with pytest.raises(Problem) as caught:
        await verifier.verify(token, use)
    assert caught.value.status == 401
    return caught.value.detail or ""


async def test_a_ten_year_token_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    assert await detail_of_refusal(verifier, issuer.issue(PERSON, ttl_s=10 * 365 * 86400)) == "令牌有效期过长"


async def test_a_token_issued_in_the_future_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    assert await detail_of_refusal(verifier, issuer.issue(PERSON, ttl_s=600, now=time.time() + 3600)) in (
        "令牌无效",
        "令牌签发时间在未来",
    )


async def test_a_refresh_token_opens_no_api_and_an_access_token_refreshes_nothing(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    refresh = issuer.issue(PERSON, ttl_s=3600, use=REFRESH)
    assert await detail_of_refusal(verifier, refresh) == "令牌用途不符"
    assert await detail_of_refusal(verifier, issuer.issue(PERSON), use=REFRESH) == "令牌用途不符"
    assert (await verifier.verify(refresh, REFRESH)).subject == PERSON.subject


def test_a_token_carries_no_name(issuer: DevIssuer) -> None:
    claims = jwt.decode(issuer.issue(PERSON), options={"verify_signature": False})
    assert "name" not in claims and "张三" not in str(claims)
