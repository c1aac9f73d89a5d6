"""Entitlement from records (issue 19) and object access (issue 18) in registration: a transition
applies once, special groups are recorded with their evidence and validity and announced to claims,
coverage is not backdated on a caller's word, and cases are filed only at offices that exist, by
the staff who serve them."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from shared.auth import Role
from shared.testing.e2e import new_resident_id

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
OFFICE = "120101"
RESIDENT_PAPERS = {"id_document": "original"}


def outbox(database_url: str, event_type: str, enrollment_id: str) -> list[dict]:
    async def query() -> list[dict]:
        connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            rows = await connection.fetch(
                "SELECT envelope FROM registration.outbox WHERE event_type = $1 AND envelope->'payload'->>'enrollment_id' = $2",
                event_type, enrollment_id,
            )  # fmt: skip
            return [json.loads(row["envelope"])["payload"] for row in rows]
        finally:
            await connection.close()

    return asyncio.run(query())


@pytest.fixture
def staff(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code=OFFICE, office_level="district")


@pytest.fixture
def city(registration):  # type: ignore[no-untyped-def]
    return registration.token(Role.staff, office_code="120000", office_level="city")


def resident_body(**extra) -> dict:  # type: ignore[no-untyped-def]
    from shared.testing.e2e import business_today

    year = business_today().year
    return {"person": {"id_number": new_resident_id(OFFICE), "name": "居民"}, "office_code": OFFICE, "tier": "adult_low",
            "coverage_year": year, "paid_on": f"{year - 1}-10-15", "materials": RESIDENT_PAPERS, **extra}  # fmt: skip


def test_approving_an_enrollment_three_times_approves_it_once(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    created = registration.client.post(f"{API}/enrollments/residents", json=resident_body(), headers=staff).json()
    first = registration.client.post(f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff)
    assert first.status_code == 200, first.text
    for version in (2, 1):  # the current version, then the retry of the first request
        again = registration.client.post(f"{API}/enrollments/{created['id']}/approve", json={"version": version}, headers=staff)
        assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["code"] == "transition_already_applied" and again.json()["current_status"] == "approved"
    assert len(outbox(migrated_database, "registration.approved", created["id"])) == 1
    shown = registration.client.get(f"{API}/enrollments/{created['id']}", headers=staff).json()
    assert (shown["version"], [d["outcome"] for d in shown["decisions"]]) == (2, ["approved"])


def test_terminating_twice_ends_the_coverage_once(registration, staff, migrated_database) -> None:  # type: ignore[no-untyped-def]
    created = registration.client.post(f"{API}/enrollments/residents", json=resident_body(), headers=staff).json()
    registration.client.post(f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff)
    ended = registration.client.post(f"{API}/enrollments/{created['id']}/terminate", json={"version": 2, "reason": "emigration"}, headers=staff)
    assert ended.status_code == 200, ended.text
    again = registration.client.post(f"{API}/enrollments/{created['id']}/terminate", json={"version": 3, "reason": "emigration"}, headers=staff)
    assert again.status_code == 409 and again.json()["code"] == "transition_already_applied"
    assert len(outbox(migrated_database, "registration.terminated", created["id"])) == 1
