"""Remote care through the service's API: an emergency filing expires after its 30 days, announced once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from shared.auth import Role
from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from shared.testing.e2e import new_resident_id
from svc_registration import usecases

pytestmark = pytest.mark.integration

API = "/api/v1/registration"
OFFICE = "120101"
FILED = date(2026, 3, 2)


async def expire_on(database_url: str, day: date) -> int:
    engine = make_engine(service_database_url(database_url, "registration"), 2, schema="registration")
    try:
        async with UnitOfWork(make_session_factory(engine), FixedClock(datetime(day.year, day.month, day.day, 2, tzinfo=UTC)), "registration") as uow:
            expired = await usecases.expire_benefits(uow)
            await uow.commit()
        return expired
    finally:
        await engine.dispose()


async def expiry_events(database_url: str, registration_id: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM registration.outbox WHERE event_type = 'registration.benefit_expired'"
            " AND envelope->'payload'->>'registration_id' = $1", registration_id,
        )  # fmt: skip
    finally:
        await connection.close()


def covered_person(registration, staff) -> str:  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": new_resident_id(OFFICE), "name": "外出人"}, "office_code": OFFICE, "tier": "adult_middle",
            "coverage_year": 2026, "paid_on": "2025-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = registration.client.post(f"{API}/enrollments/residents", json=body, headers=staff).json()
    assert registration.client.post(f"{API}/enrollments/{created['id']}/approve", json={"version": 1}, headers=staff).status_code == 200
    return created["person_id"]


def test_an_emergency_filing_expires_after_30_days_and_is_announced_once(registration, migrated_database) -> None:  # type: ignore[no-untyped-def]
    staff = registration.token(Role.staff, office_code=OFFICE, office_level="district")
    person = covered_person(registration, staff)
    me = registration.token(Role.insured, person_id=person)
    registration.business_date(FILED.isoformat())
    try:
        filed = registration.client.post(f"{API}/benefit-registrations/remote-care",
                                         json={"kind": "temporary", "reason": "emergency", "destination": "310101", "commitment": True}, headers=me)  # fmt: skip
    finally:
        registration.business_date(None)
    assert filed.status_code == 201, filed.text
    f = filed.json()
    assert (f["valid_from"], f["valid_to"], f["details"]["remote_class"]) == ("2026-03-02", "2026-04-01", "temporary_emergency")

    asyncio.run(expire_on(migrated_database, FILED + timedelta(days=30)))
    mine = registration.client.get(f"{API}/benefit-registrations", params={"kind": "remote_care"}, headers=me).json()
    assert [(r["id"], r["status"]) for r in mine] == [(f["id"], "active")]  # day 30: still valid

    asyncio.run(expire_on(migrated_database, FILED + timedelta(days=31)))
    asyncio.run(expire_on(migrated_database, FILED + timedelta(days=32)))  # a second run changes nothing
    assert registration.client.get(f"{API}/benefit-registrations/{f['id']}", headers=me).json()["status"] == "expired"
    assert asyncio.run(expiry_events(migrated_database, f["id"])) == 1


def test_a_new_trip_replaces_the_last_and_others_see_nothing(registration) -> None:  # type: ignore[no-untyped-def]
    staff = registration.token(Role.staff, office_code=OFFICE, office_level="district")
    person = covered_person(registration, staff)
    me = registration.token(Role.insured, person_id=person)
    registration.business_date("2026-05-10")
    try:
        body = {"kind": "temporary", "reason": "referral", "destination": "110101", "commitment": True}
        first = registration.client.post(f"{API}/benefit-registrations/remote-care", json=body, headers=me).json()
        by_staff = registration.client.post(f"{API}/benefit-registrations/remote-care", json={**body, "person_id": person}, headers=staff)
        assert by_staff.status_code == 201 and by_staff.json()["valid_to"] == "2026-08-08"
        assert registration.client.get(f"{API}/benefit-registrations/{first['id']}", headers=me).json()["status"] == "replaced"
        stranger = registration.token(Role.insured)
        assert registration.client.get(f"{API}/benefit-registrations/{first['id']}", headers=stranger).status_code == 404
        assert registration.client.get(f"{API}/benefit-registrations", headers=stranger).json() == []
        assert registration.client.post(f"{API}/benefit-registrations/remote-care", json=body, headers=registration.token(Role.unit, unit_id="x")).status_code == 403
        bad = registration.client.post(f"{API}/benefit-registrations/remote-care", json={**body, "destination": "上海"}, headers=me)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("destination")
        uncovered = registration.client.post(f"{API}/benefit-registrations/remote-care", json=body, headers=stranger)
        assert uncovered.status_code == 409 and uncovered.json()["code"] == "no_coverage"
    finally:
        registration.business_date(None)
