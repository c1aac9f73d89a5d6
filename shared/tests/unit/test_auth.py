"""Token verification: asymmetric, algorithm pinned, iss/aud/exp required; forged tokens refused."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import Principal, Role, TokenVerifier
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.errors import Problem

ISSUER, AUDIENCE = "https://auth.test", "yibao-test"
PERSON = Principal(subject="zhangsan", role=Role.insured, person_id=uuid.uuid4())


@pytest.fixture
def issuer(tmp_path) -> DevIssuer:  # type: ignore[no-untyped-def]
    return DevIssuer.load_or_create(tmp_path, ISSUER, AUDIENCE)


@pytest.fixture
def verifier(tmp_path, issuer) -> TokenVerifier:  # type: ignore[no-untyped-def]
    return TokenVerifier(ISSUER, AUDIENCE, "ES256", jwks_file=tmp_path / JWKS_FILE)


async def refused(verifier: TokenVerifier, token: str) -> Problem:
    with pytest.raises(Problem) as caught:
        await verifier.verify(token)
    assert caught.value.status == 401 and caught.value.code == "unauthenticated"
    return caught.value


async def test_a_token_of_the_issuer_gives_its_principal(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(issuer.issue(PERSON))
    assert principal == PERSON


async def test_the_key_pair_is_kept_between_starts(
    tmp_path, issuer: DevIssuer, verifier: TokenVerifier
) -> None:  # type: ignore[no-untyped-def]
    again = DevIssuer.load_or_create(tmp_path, ISSUER, AUDIENCE)
    assert again.kid == issuer.kid
    assert await verifier.verify(again.issue(PERSON)) == PERSON


async def test_expired_tokens_are_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    problem = await refused(verifier, issuer.issue(PERSON, ttl_s=60, now=time.time() - 3600))
    assert problem.detail == "令牌已过期"


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub", "iat"])
async def test_tokens_missing_a_required_claim_are_refused(
    issuer: DevIssuer, verifier: TokenVerifier, claim: str
) -> None:
    claims = jwt.decode(issuer.issue(PERSON), options={"verify_signature": False})
    del claims[claim]
    await refused(verifier, jwt.encode(claims, issuer._key, algorithm="ES256", headers={"kid": issuer.kid}))


@pytest.mark.parametrize(("field", "value"), [("iss", "https://evil.example"), ("aud", "another-app")])
async def test_tokens_for_another_issuer_or_audience_are_refused(issuer, verifier, field, value) -> None:  # type: ignore[no-untyped-def]
    claims = jwt.decode(issuer.issue(PERSON), options={"verify_signature": False})
    claims[field] = value
    await refused(verifier, jwt.encode(claims, issuer._key, algorithm="ES256", headers={"kid": issuer.kid}))


async def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    claims = jwt.decode(issuer.issue(PERSON), options={"verify_signature": False})
    forged = jwt.encode(
        claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": issuer.kid}
    )
    await refused(verifier, forged)


async def test_an_altered_token_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    header, payload, signature = issuer.issue(PERSON).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    await refused(verifier, f"{header}.{altered}.{signature}")


async def test_alg_none_and_algorithm_confusion_are_refused(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    claims = jwt.decode(issuer.issue(PERSON), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": issuer.kid})
    await refused(verifier, unsigned)
    public_pem = issuer._key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # HS256 with the public key as the secret: the classic confusion attack.
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    ).rstrip(b"=")
    await refused(verifier, (header + b"." + body + b"." + signature).decode())


async def test_garbage_is_refused(verifier: TokenVerifier) -> None:
    await refused(verifier, "not-a-token")
    await refused(verifier, "a.b.c")


async def test_a_verifier_needs_keys() -> None:
    with pytest.raises(ValueError):
        TokenVerifier(ISSUER, AUDIENCE, "ES256")


async def test_keys_come_from_a_jwks_url_and_a_rotated_key_is_picked_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import http.server
    import threading

    first = DevIssuer.load_or_create(tmp_path / "first", ISSUER, AUDIENCE)
    second = DevIssuer.load_or_create(tmp_path / "second", ISSUER, AUDIENCE)
    published = {"jwks": first.jwks()}

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(published["jwks"]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/jwks.json"
        verifier = TokenVerifier(ISSUER, AUDIENCE, "ES256", jwks_url=url, refresh_interval_s=0)
        assert await verifier.verify(first.issue(PERSON)) == PERSON
        await refused(verifier, second.issue(PERSON))  # not published yet
        published["jwks"] = {"keys": first.jwks()["keys"] + second.jwks()["keys"]}  # the issuer rotates
        assert await verifier.verify(second.issue(PERSON)) == PERSON
    finally:
        server.shutdown()
