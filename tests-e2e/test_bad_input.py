"""Bad input, through the gateway: always a 4xx application/problem+json, never a 500, and nothing
written (the registration schema's rows are counted before and after each rejected command)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, PRIVATE_KEY_FILE, DevIssuer
from shared.events.relay import asyncpg_dsn
from shared.testing.e2e import PROBLEM_JSON, assert_problem, bearer, business_today, new_resident_id
from shared.testing.tokens import listed_token
from yb_deploy.platform import AUDIENCE, ISSUER, PlatformConfig

pytestmark = pytest.mark.e2e

ZHANGSAN_ID = "120101199003071235"
ENROLL = "/api/v1/registration/enrollments/residents"
# Years used by this module. No command here should succeed, except the fixture's own enrollment.
YEAR_REJECTED = 2052
YEAR_NUL_NAME = 2054

COUNTED_TABLES = ("enrollments", "outbox", "persons", "idempotency_keys")


def body(year: int = YEAR_REJECTED, **person: Any) -> dict:
    return {
        "person": {"id_type": "resident_id", "id_number": ZHANGSAN_ID, "name": "张三", **person},
        "office_code": "120101",
        "tier": "adult_middle",
        "coverage_year": year,
        "materials": {"id_document": "original"},
    }


def error_fields(problem: dict) -> list[str]:
    return [str(e.get("field", "")) for e in problem.get("errors") or []]


# --------------------------------------------------------------------------- database row counts


async def _count(admin_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM registration.{t}") for t in COUNTED_TABLES}
    finally:
        await conn.close()


def row_counts(admin_url: str) -> dict[str, int]:
    return asyncio.run(_count(admin_url))


@contextmanager
def nothing_written(admin_url: str) -> Iterator[None]:
    before = row_counts(admin_url)
    yield
    after = row_counts(admin_url)
    assert after == before, f"a rejected command wrote rows: before {before}, after {after}"


# --------------------------------------------------------------------------- tokens


@dataclass
class Keys:
    real: DevIssuer
    kid: str


@pytest.fixture(scope="module")
def keys(platform: PlatformConfig) -> Keys:
    """The platform's own signing key (read, not rewritten: the services read jwks.json)."""
    key = serialization.load_pem_private_key(
        (platform.keys_dir / PRIVATE_KEY_FILE).read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    kid = json.loads((platform.keys_dir / JWKS_FILE).read_text())["keys"][0]["kid"]
    return Keys(DevIssuer(key, ISSUER, AUDIENCE, kid), kid)


def staff_principal() -> Principal:
    return Principal(
        subject="staff-heping",
        role=Role.staff,
        name="王经办",
        office_code="120101",
        office_level="district",
        token_version=0,  # the demo account as the gateway lists it: each bad token differs only in its defect
    )


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict:
    now = int(time.time())
    return {
        **staff_principal().to_claims(),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


def bad_tokens(keys: Keys) -> dict[str, str]:
    import jwt

    stranger = ec.generate_private_key(ec.SECP256R1())
    real_key = keys.real._key
    missing_exp = claims()
    del missing_exp["exp"]
    public_pem = real_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "garbage": "this-is-not-a-jwt",
        "three garbage parts": "aaa.bbb.ccc",
        "expired": keys.real.issue(staff_principal(), ttl_s=3600, now=time.time() - 7200),
        "forged, same kid": DevIssuer(stranger, ISSUER, AUDIENCE, keys.kid).issue(staff_principal()),
        "forged, other kid": DevIssuer(stranger, ISSUER, AUDIENCE, "dev-forged-key").issue(staff_principal()),
        "wrong audience": DevIssuer(real_key, ISSUER, "another-platform", keys.kid).issue(staff_principal()),
        "wrong issuer": DevIssuer(real_key, "https://evil.example", AUDIENCE, keys.kid).issue(
            staff_principal()
        ),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': keys.kid})}.{b64(claims())}.",
        "alg none, no kid": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
        "HS256 with the public key": hs256(claims(), public_pem, keys.kid),
        "no exp": jwt.encode(missing_exp, real_key, algorithm="ES256", headers={"kid": keys.kid}),
        "unknown role": jwt.encode(
            claims(role="superuser"), real_key, algorithm="ES256", headers={"kid": keys.kid}
        ),
        "not a json payload": f"{b64({'alg': 'ES256', 'kid': keys.kid})}.{base64.urlsafe_b64encode(b'[1,2').decode()}.c2ln",
    }


def hs256(payload: dict, secret: bytes, kid: str) -> str:
    """Algorithm confusion: an HMAC "signature" keyed with the public key (PyJWT refuses to make one)."""
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


BAD_TOKEN_NAMES = [
    "garbage",
    "three garbage parts",
    "expired",
    "forged, same kid",
    "forged, other kid",
    "wrong audience",
    "wrong issuer",
    "alg none",
    "alg none, no kid",
    "HS256 with the public key",
    "no exp",
    "unknown role",
    "not a json payload",
]


# --------------------------------------------------------------------------- an enrollment to aim at


@pytest.fixture(scope="module")
def target(gateway: httpx.Client, tokens: dict[str, str]) -> dict:
    """A submitted enrollment the approve/reject cases aim their bad input at."""
    year = business_today().year  # paid in its enrollment period (1 Sep – 31 Dec of the year before)
    target_body = {
        **body(year),
        "person": {"id_type": "resident_id", "id_number": new_resident_id("120101"), "name": "靶子"},
    }
    response = gateway.post(
        ENROLL, json={**target_body, "paid_on": f"{year - 1}-10-15"}, headers=bearer(tokens["staff-heping"])
    )
    assert response.status_code == 201, response.text
    return response.json()


# --------------------------------------------------------------------------- submitting


@dataclass
class Case:
    content: bytes | None = None
    json_body: Any = None
    status: int = 422
    code: str | None = "validation_failed"
    field_part: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


SUBMIT_CASES: dict[str, Case] = {
    "malformed json": Case(
        content=b'{"person": {"id_type": "resident_id",', status=400, code="malformed_json"
    ),
    "json cut after a key": Case(content=b'{"person"', status=400, code="malformed_json"),
    "coverage_year is text": Case(json_body={**body(), "coverage_year": "abc"}, field_part="coverage_year"),
    "coverage_year out of range": Case(
        json_body={**body(), "coverage_year": 1999}, field_part="coverage_year"
    ),
    "unknown tier": Case(json_body={**body(), "tier": "platinum"}, field_part="tier"),
    "office code not six digits": Case(
        json_body={**body(), "office_code": "12010"}, field_part="office_code"
    ),
    "person missing": Case(json_body={k: v for k, v in body().items() if k != "person"}, field_part="person"),
    "person is a string": Case(json_body={**body(), "person": "张三"}, field_part="person"),
    "unknown id type": Case(json_body=body(id_type="driving_licence"), field_part="id_type"),
    "id number too short": Case(json_body=body(id_number="12"), field_part="id_number"),
    "empty name": Case(json_body=body(name=""), field_part="name"),
    "bad phone": Case(json_body=body(phone="call me maybe"), field_part="phone"),
    "birth date not a date": Case(json_body=body(birth_date="1990-02-30"), field_part="birth_date"),
    "body is a list": Case(json_body=[body()]),
    "empty body": Case(content=b""),
    "invalid check digit": Case(
        json_body=body(id_number="120101199003071234"), code="invalid_resident_id", field_part="id_number"
    ),
    "impossible birth date in the ID": Case(
        json_body=body(id_number="120101199002311233"), code="invalid_resident_id", field_part="id_number"
    ),
    "sex contradicts the ID": Case(json_body=body(sex="female"), code="identity_mismatch", field_part="sex"),
    "birth date contradicts the ID": Case(
        json_body=body(birth_date="1990-03-08"), code="identity_mismatch", field_part="birth_date"
    ),
    "idempotency key too short": Case(
        json_body=body(), headers={"Idempotency-Key": "abc"}, field_part="idempotency"
    ),
}


@pytest.mark.parametrize("name", list(SUBMIT_CASES))
def test_bad_enrollment_is_refused_and_changes_nothing(
    name: str, gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    case = SUBMIT_CASES[name]
    headers = {**bearer(tokens["staff-heping"]), **case.headers}
    with nothing_written(test_servers.admin_url):
        if case.content is not None:
            response = gateway.post(
                ENROLL, content=case.content, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            response = gateway.post(ENROLL, json=case.json_body, headers=headers)
        problem = assert_problem(response, case.status, case.code)
    if case.field_part is not None:
        fields = error_fields(problem)
        assert any(case.field_part in f.lower() for f in fields), (
            f"errors should name {case.field_part!r}: {problem}"
        )
    for error in problem.get("errors") or []:
        assert ZHANGSAN_ID not in json.dumps(error, ensure_ascii=False), (
            "the ID number must not be echoed back"
        )


def test_nul_character_in_the_name_is_bad_input_not_a_server_error(
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    """PostgreSQL text cannot hold U+0000: the API must refuse it as a 4xx before it reaches the database."""
    with nothing_written(test_servers.admin_url):
        response = gateway.post(
            ENROLL, json=body(YEAR_NUL_NAME, name="张\u0000三"), headers=bearer(tokens["staff-heping"])
        )
        assert 400 <= response.status_code < 500, (
            f"expected a 4xx, got {response.status_code}: {response.text}"
        )
        assert response.headers.get("content-type", "").startswith(PROBLEM_JSON)


# --------------------------------------------------------------------------- who is calling


def test_missing_token_is_401(gateway: httpx.Client, test_servers) -> None:
    with nothing_written(test_servers.admin_url):
        problem = assert_problem(gateway.post(ENROLL, json=body()), 401, "unauthenticated")
    assert problem.get("detail")


def test_wrong_authorization_scheme_is_401(
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    with nothing_written(test_servers.admin_url):
        response = gateway.post(
            ENROLL, json=body(), headers={"Authorization": f"Basic {tokens['staff-heping']}"}
        )
        assert_problem(response, 401, "unauthenticated")
        response = gateway.post(ENROLL, json=body(), headers={"Authorization": "Bearer"})
        assert_problem(response, 401, "unauthenticated")
        response = gateway.post(ENROLL, json=body(), headers={"Authorization": tokens["staff-heping"]})
        assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("name", BAD_TOKEN_NAMES)
def test_bad_token_is_401(name: str, keys: Keys, gateway: httpx.Client, test_servers) -> None:
    token = bad_tokens(keys)[name]
    with nothing_written(test_servers.admin_url):
        response = gateway.post(ENROLL, json=body(), headers=bearer(token))
        assert_problem(response, 401, "unauthenticated")
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    read = gateway.get("/api/v1/claims/eligibility/me", headers=bearer(token))
    assert_problem(read, 401, "unauthenticated")


def test_a_token_signed_with_the_platform_key_is_accepted(keys: Keys, gateway: httpx.Client) -> None:
    """Control for the bad-token cases: the same construction with good claims passes."""
    token = keys.real.issue(staff_principal())
    response = gateway.get(f"/api/v1/registration/enrollments/{uuid.uuid4()}", headers=bearer(token))
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("name", ["garbage", "expired", "forged, same kid", "wrong audience", "alg none"])
def test_services_verify_the_token_again(
    name: str, keys: Keys, platform: PlatformConfig, test_servers
) -> None:
    """A request that reaches a service directly (not through the gateway) is checked there too."""
    token = bad_tokens(keys)[name]
    with httpx.Client(base_url=platform.service_url("registration"), timeout=10) as direct:
        with nothing_written(test_servers.admin_url):
            assert_problem(direct.post(ENROLL, json=body()), 401, "unauthenticated")
            assert_problem(direct.post(ENROLL, json=body(), headers=bearer(token)), 401, "unauthenticated")
    with httpx.Client(base_url=platform.service_url("claims"), timeout=10) as direct:
        assert_problem(
            direct.get("/api/v1/claims/eligibility/me", headers=bearer(token)), 401, "unauthenticated"
        )


def test_peer_office_token_is_403_on_the_api(
    platform: PlatformConfig, gateway: httpx.Client, test_servers
) -> None:
    peer = Principal(
        subject="peer-310000", role=Role.peer_office, name="上海市医保中心", office_code="310000"
    )
    token = listed_token(platform.keys_dir, peer)
    with nothing_written(test_servers.admin_url):
        assert_problem(gateway.post(ENROLL, json=body(), headers=bearer(token)), 403, "forbidden")
    assert_problem(gateway.get("/api/v1/claims/eligibility/me", headers=bearer(token)), 403, "forbidden")


@pytest.mark.parametrize("user", ["ops", "unit-demo", "facility-demo"])
def test_roles_that_do_not_enroll_residents_are_403(
    user: str, gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    with nothing_written(test_servers.admin_url):
        assert_problem(gateway.post(ENROLL, json=body(), headers=bearer(tokens[user])), 403, "forbidden")


def test_insured_person_cannot_enroll_someone_else(
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    with nothing_written(test_servers.admin_url):
        assert_problem(
            gateway.post(ENROLL, json=body(), headers=bearer(tokens["lisi"])), 403, "not_own_identity"
        )


def test_staff_cannot_enroll_at_another_office(
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    with nothing_written(test_servers.admin_url):
        response = gateway.post(ENROLL, json=body(), headers=bearer(tokens["staff-hexi"]))
        assert_problem(response, 403, "other_office")


# --------------------------------------------------------------------------- approving and rejecting


def decision_cases(enrollment_id: str) -> dict[str, tuple[str, dict, int, str, str | None]]:
    base = f"/api/v1/registration/enrollments/{enrollment_id}"
    unknown = f"/api/v1/registration/enrollments/{uuid.uuid4()}"
    return {
        # name: (path, request kwargs, status, code, field part)
        "approve: malformed json": (
            f"{base}/approve",
            {"content": b"{version: 1}", "headers": {"Content-Type": "application/json"}},
            400,
            "malformed_json",
            None,
        ),
        "approve: version is text": (
            f"{base}/approve",
            {"json": {"version": "one"}},
            422,
            "validation_failed",
            "version",
        ),
        "approve: version 0": (
            f"{base}/approve",
            {"json": {"version": 0}},
            422,
            "validation_failed",
            "version",
        ),
        "approve: no body": (f"{base}/approve", {}, 422, "validation_failed", "body"),
        "approve: unknown id": (f"{unknown}/approve", {"json": {"version": 1}}, 404, "not_found", None),
        "approve: id not a uuid": (
            "/api/v1/registration/enrollments/not-a-uuid/approve",
            {"json": {"version": 1}},
            422,
            "validation_failed",
            "enrollment_id",
        ),
        "approve: stale version": (
            f"{base}/approve",
            {"json": {"version": 2}},
            409,
            "version_conflict",
            None,
        ),
        "reject: reason too short": (
            f"{base}/reject",
            {"json": {"version": 1, "reason": "x"}},
            422,
            "validation_failed",
            "reason",
        ),
        "reject: reason missing": (
            f"{base}/reject",
            {"json": {"version": 1}},
            422,
            "validation_failed",
            "reason",
        ),
        "reject: unknown id": (
            f"{unknown}/reject",
            {"json": {"version": 1, "reason": "材料不全"}},
            404,
            "not_found",
            None,
        ),
        "reject: id not a uuid": (
            "/api/v1/registration/enrollments/123/reject",
            {"json": {"version": 1, "reason": "材料不全"}},
            422,
            "validation_failed",
            "enrollment_id",
        ),
    }


DECISION_CASE_NAMES = list(decision_cases("x"))


@pytest.mark.parametrize("name", DECISION_CASE_NAMES)
def test_bad_decision_is_refused_and_changes_nothing(
    name: str, target: dict, gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    path, kwargs, status, code, field_part = decision_cases(target["id"])[name]
    headers = {**bearer(tokens["staff-heping"]), **kwargs.pop("headers", {})}
    with nothing_written(test_servers.admin_url):
        problem = assert_problem(gateway.post(path, headers=headers, **kwargs), status, code)
    if field_part is not None:
        assert any(field_part in f for f in error_fields(problem)), (
            f"errors should name {field_part!r}: {problem}"
        )
    current = gateway.get(
        f"/api/v1/registration/enrollments/{target['id']}", headers=bearer(tokens["staff-heping"])
    )
    assert current.status_code == 200, current.text
    assert current.json()["status"] == "submitted"
    assert current.json()["version"] == 1
    assert current.json()["decisions"] == []


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field_part"),
    [
        (f"/api/v1/registration/enrollments/{uuid.UUID(int=1)}", None, 404, "not_found", None),
        ("/api/v1/registration/enrollments/not-a-uuid", None, 422, "validation_failed", "enrollment_id"),
        ("/api/v1/claims/eligibility/me", {"on": "2026-02-30"}, 422, "validation_failed", "on"),
        ("/api/v1/claims/persons/not-a-uuid/eligibility", None, 422, "validation_failed", "person_id"),
        (f"/api/v1/claims/persons/{uuid.UUID(int=2)}/eligibility", None, 404, "not_found", None),
        (
            f"/api/v1/claims/persons/{uuid.UUID(int=2)}/eligibility",
            {"on": "tomorrow"},
            422,
            "validation_failed",
            "on",
        ),
    ],
)
def test_bad_read_is_a_problem(
    path: str,
    params: dict | None,
    status: int,
    code: str,
    field_part: str | None,
    gateway: httpx.Client,
    tokens: dict[str, str],
) -> None:
    problem = assert_problem(
        gateway.get(path, params=params, headers=bearer(tokens["staff-heping"])), status, code
    )
    if field_part is not None:
        assert any(field_part in f for f in error_fields(problem)), problem


def test_insured_without_coverage_reads_nothing_of_others(
    gateway: httpx.Client, tokens: dict[str, str], target: dict
) -> None:
    """lisi asking for zhangsan's enrollment: 404, as if it did not exist (OWASP API1)."""
    assert_problem(
        gateway.get(f"/api/v1/registration/enrollments/{target['id']}", headers=bearer(tokens["lisi"])),
        404,
        "not_found",
    )


# --------------------------------------------------------------------------- personal data in logs


def test_logs_never_show_an_id_number(platform: PlatformConfig) -> None:
    """PIPL: ID numbers are masked in every log line, including tracebacks of failed requests.

    Runs last in this module, after the requests above put the ID number in bodies and errors.
    """
    leaks = {}
    for log in sorted(platform.log_dir.glob("*.log")):
        lines = [
            n for n, line in enumerate(log.read_text(errors="replace").splitlines(), 1) if ZHANGSAN_ID in line
        ]
        if lines:
            leaks[log.name] = lines[:5]
    assert not leaks, f"unmasked ID number in the logs (file: line numbers): {leaks}"
