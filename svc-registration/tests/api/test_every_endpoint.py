"""Every registration endpoint: a role it does not serve gets 403, an unknown object 404, a body with
nothing in it a 422 problem+json naming the fields — and none of those writes anything."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration

PREFIX = "/api/v1/registration"
TABLES = (
    "persons",
    "units",
    "enrollments",
    "benefit_registrations",
    "drive_lists",
    "drive_rows",
    "outbox",
    "idempotency_keys",
)
STAFF = {"office_code": "120101", "office_level": "district"}


def operations(app) -> list[tuple[str, str, dict]]:  # type: ignore[no-untyped-def]
    """(method, path, operation) of every business endpoint, from the service's OpenAPI document."""
    return [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        if path.startswith(PREFIX) and "/admin/" not in path
        for method, operation in item.items()
    ]


def concrete(path: str) -> str:
    """Path parameters filled with values no record has."""
    return path.replace("{code}", "91120101MA05K8Q4X9").replace("{enrollment_id}", str(uuid.uuid4())).replace(
        "{registration_id}", str(uuid.uuid4())).replace("{list_id}", str(uuid.uuid4()))  # fmt: skip


async def row_counts(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return {t: await connection.fetchval(f"SELECT count(*) FROM registration.{t}") for t in TABLES}
    finally:
        await connection.close()


def test_the_ops_role_is_refused_everywhere_with_nothing_written(registration, migrated_database) -> None:  # type: ignore[no-untyped-def]
    before = asyncio.run(row_counts(migrated_database))
    ops = registration.token(Role.ops)
    checked = 0
    for method, path, _ in operations(registration.client.app):
        answer = registration.client.request(method, concrete(path), json={}, headers=ops)
        assert answer.status_code == 403, f"{method} {path}: {answer.status_code}"
        assert answer.headers["content-type"].startswith("application/problem+json")
        checked += 1
    assert checked >= 30
    assert asyncio.run(row_counts(migrated_database)) == before


def test_empty_bodies_are_refused_naming_the_fields_with_nothing_written(
    registration, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    before = asyncio.run(row_counts(migrated_database))
    staff = registration.token(Role.staff, **STAFF)
    checked = 0
    for method, path, operation in operations(registration.client.app):
        if method != "POST" or "requestBody" not in operation:
            continue
        answer = registration.client.post(concrete(path), json={}, headers=staff)
        assert answer.status_code == 422, f"POST {path}: {answer.status_code} {answer.text}"
        problem = answer.json()
        assert problem["code"] == "validation_failed" and problem["title"] and problem["errors"], path
        assert all(e["field"] for e in problem["errors"]), path
        checked += 1
    assert checked >= 20
    assert asyncio.run(row_counts(migrated_database)) == before


def test_unknown_objects_are_404_for_the_roles_that_may_read_them(registration) -> None:  # type: ignore[no-untyped-def]
    staff = registration.token(Role.staff, **STAFF)
    for method, path, _ in operations(registration.client.app):
        if method != "GET" or "{" not in path:
            continue
        answer = registration.client.get(concrete(path), headers=staff)
        assert answer.status_code == 404, f"GET {path}: {answer.status_code}"
        assert answer.json()["title"].endswith("不存在")
