"""Every operation of the merged OpenAPI document, fed generated input through the gateway: never a 5xx.

Two callers: an insured person nobody knows (writes are refused by role, ownership or validation,
so the shared test database is not disturbed) and a district clerk on read-only operations.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from shared.auth import Principal, Role
from shared.auth.issuer import DevIssuer
from shared.testing.e2e import bearer
from yb_deploy.platform import AUDIENCE, ISSUER, PlatformConfig


@schemathesis.serializer("application/jose")
def as_compact_jws(_, value) -> bytes:  # type: ignore[no-untyped-def]
    """Inter-office messages are compact JWS strings; the generated ones are never validly signed."""
    return str(value).encode()


FUZZ = settings(
    max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


@pytest.fixture(scope="module")
def merged_schema(gateway: httpx.Client, platform: PlatformConfig):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_dict(gateway.get("/openapi.json").json())
    schema.config.update(base_url=platform.gateway_url)
    return schema


def server_errors(schema, headers: dict[str, str], methods: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Call each operation with generated input; returns what answered 5xx."""
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in methods:
            continue

        @FUZZ
        @given(case=operation.as_strategy())
        def call(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers, timeout=30)
            if response.status_code >= 500:
                what = f"{case.method.upper()} {case.path}"
                found.append(f"{what} → {response.status_code}: {response.text[:200]}")

        call()
    return found


def test_no_operation_answers_a_server_error_to_a_stranger(merged_schema, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    issuer = DevIssuer.load_or_create(platform.keys_dir, ISSUER, AUDIENCE)
    stranger = bearer(
        issuer.issue(Principal(subject="fuzz-person", role=Role.insured, person_id=uuid.uuid4()))
    )
    assert server_errors(merged_schema, stranger, {"GET", "POST", "PUT", "PATCH", "DELETE"}) == []


def test_no_read_answers_a_server_error_to_staff(merged_schema, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    issuer = DevIssuer.load_or_create(platform.keys_dir, ISSUER, AUDIENCE)
    clerk = Principal(subject="fuzz-clerk", role=Role.staff, office_code="120101", office_level="district")
    assert server_errors(merged_schema, bearer(issuer.issue(clerk)), {"GET"}) == []


@pytest.fixture(autouse=True)
def refilled_rate_limits():  # type: ignore[no-untyped-def]
    """The fuzzing spends this machine's allowance of public requests: let it refill for the next tests."""
    yield
    time.sleep(3)
