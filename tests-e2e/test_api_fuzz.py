"""Every operation of the merged OpenAPI document, fed generated input through the gateway, with all of
schemathesis's checks: no 5xx, every status code, content type, header and body as documented, bad
input refused, good input not refused for its shape.

Two callers: an insured person nobody knows (writes are refused by role, ownership or validation,
so the shared test database is not disturbed) and a district clerk on read-only operations. Each
operation gets a few valid and a few invalid cases (derandomized, so a run is repeatable).

Left out, with the reason (docs/integrators.md says the same):
- `use_after_free`, `ensure_resource_availability`, `object_level_authorization`: stateful checks
  that follow a created resource across calls; these callers create nothing (they are refused).
- `max_response_time`: speed is measured by the benchmarks, never asserted in a test.
- Server-sent event streams (`/api/v1/me/cases/events`) answer by holding the connection open;
  tests-e2e/test_my_cases.py reads them.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup

from shared.auth import Principal, Role
from shared.testing.e2e import bearer
from shared.testing.tokens import listed_token
from yb_deploy.platform import PlatformConfig

STATEFUL = {"use_after_free", "ensure_resource_availability", "object_level_authorization"}
LOG = os.environ.get("YB_FUZZ_LOG")  # progress and failures as they come, for a long run
CHECKED = [check for check in CHECKS.get_all() if check.__name__ not in STATEFUL]


@schemathesis.serializer("application/jose")
def as_compact_jws(_, value) -> bytes:  # type: ignore[no-untyped-def]
    """Inter-office messages are compact JWS strings; the generated ones are never validly signed."""
    return str(value).encode()


FUZZ = settings(
    max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


@pytest.fixture(scope="module")
def merged_schema(gateway: httpx.Client, platform: PlatformConfig):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_dict(gateway.get("/openapi.json").json())
    schema.config.update(base_url=platform.gateway_url)
    return schema


def failures_of(schema, headers: dict[str, str], methods: set[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Call each operation with valid and invalid generated input; every check that failed, as text."""
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in methods or is_subscription(operation):
            continue
        before = len(found)
        for mode in GenerationMode:
            exercise(operation, mode, headers, found.append)
        if LOG:
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(
                    "".join(
                        f"{line}\n"
                        for line in [f"{operation.method.upper()} {operation.path}", *found[before:]]
                    )
                )
    return found


def is_subscription(operation) -> bool:  # type: ignore[no-untyped-def]
    """A server-sent events stream answers by holding the connection open (tests-e2e/test_my_cases.py)."""
    answer = operation.definition.raw.get("responses", {}).get("200", {})
    return "text/event-stream" in answer.get("content", {})


def exercise(operation, mode: GenerationMode, headers: dict[str, str], report: Callable[[str], Any]) -> None:  # type: ignore[no-untyped-def]
    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKED, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                report(
                    f"{mode.value} {case.method.upper()} {case.path} → {response.status_code}: {failure.title}: {failure.message[:300]}"
                )
        except AssertionError as failure:
            report(
                f"{mode.value} {case.method.upper()} {case.path} → {response.status_code}: {str(failure)[:300]}"
            )

    try:
        call()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, f"no valid input for {operation.method} {operation.path}"
        # Nothing to make invalid: an operation without parameters or body.


def summary(failures: Iterable[str]) -> str:
    by_check = Counter(line.split(": ", 2)[1] for line in failures)
    return "\n".join(
        [f"{count} × {title}" for title, count in by_check.most_common()] + sorted(set(failures))[:60]
    )


def stranger(platform: PlatformConfig) -> dict[str, str]:
    person = Principal(subject="fuzz-person", role=Role.insured, person_id=uuid.uuid4())
    return bearer(listed_token(platform.keys_dir, person))


@pytest.mark.timeout(1200)
def test_every_operation_keeps_its_documented_contract_for_a_stranger(
    merged_schema, platform: PlatformConfig
) -> None:  # type: ignore[no-untyped-def]
    failures = failures_of(merged_schema, stranger(platform), {"GET", "POST", "PUT", "PATCH", "DELETE"})
    assert failures == [], summary(failures)


@pytest.mark.timeout(600)
def test_every_read_keeps_its_documented_contract_for_staff(merged_schema, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    clerk = Principal(subject="fuzz-clerk", role=Role.staff, office_code="120101", office_level="district")
    failures = failures_of(merged_schema, bearer(listed_token(platform.keys_dir, clerk)), {"GET"})
    assert failures == [], summary(failures)


@pytest.fixture(autouse=True)
def refilled_rate_limits():  # type: ignore[no-untyped-def]
    """The fuzzing spends this machine's allowance of public requests: let it refill for the next tests."""
    yield
    time.sleep(3)
