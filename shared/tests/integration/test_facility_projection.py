"""The facility registry's projection, written once for every service that keeps one: the newest version
of a record wins whatever order its events arrive in, and each service's own columns are filled from
the event by name."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import SystemClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.events.catalog import (
    FacilityDesignatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
    FacilityUpdatedV1,
)
from shared.events.relay import asyncpg_dsn
from shared.projections import facility_subscriptions, record_facility, record_facility_if_newer
from shared.tables import facility_projection
from shared.testing.runs import RunServers

pytestmark = pytest.mark.integration

metadata = MetaData()
facilities = facility_projection(
    metadata,
    Column("level", Integer),
    Column("programmes", JSONB, nullable=False),
    Column("district_code", String(6), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)


@pytest.fixture
async def sessions(test_servers: RunServers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    schema = f"facilities_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    engine = make_engine(test_servers.admin_url, schema=schema)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()
    conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


def designated(version: int, name: str, programmes: list[str]) -> FacilityDesignatedV1:
    return FacilityDesignatedV1(code="H12010100001", name=name, kind="medical_institution", level=2, district_code="120101",
                                office_code="120101", programmes=programmes, status="designated", version=version)  # fmt: skip


async def record(sessions: async_sessionmaker[AsyncSession], event: FacilityDesignatedV1) -> None:
    uow = UnitOfWork(sessions, SystemClock(), "test")
    await uow.run(record_facility, facilities, event)


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[dict]:
    async with sessions() as session:
        return [dict(r) for r in (await session.execute(select(facilities))).mappings()]


async def test_an_older_version_arriving_late_does_not_undo_the_newer_one(sessions) -> None:  # type: ignore[no-untyped-def]
    await record(sessions, designated(2, "新名称医院", ["resident", "employee"]))
    await record(sessions, designated(1, "旧名称医院", ["employee"]))

    [row] = await rows(sessions)
    assert (row["version"], row["name"], row["level"], row["district_code"]) == (2, "新名称医院", 2, "120101")
    assert row["programmes"] == [
        "employee",
        "resident",
    ]  # sorted: the row does not depend on the registry's order
    assert row["recorded_at"] is not None


async def test_a_newer_version_replaces_the_row(sessions) -> None:  # type: ignore[no-untyped-def]
    await record(sessions, designated(1, "旧名称医院", ["employee"]))
    await record(sessions, designated(3, "新名称医院", []))

    [row] = await rows(sessions)
    assert (row["version"], row["name"], row["programmes"]) == (3, "新名称医院", [])


def test_a_service_subscribes_to_all_four_registry_events() -> None:
    models = [s.model for s in facility_subscriptions(facilities)]
    assert models == [FacilityDesignatedV1, FacilityUpdatedV1, FacilitySuspendedV1, FacilityTerminatedV1]


async def test_a_record_seeded_outside_the_events_is_kept_the_same_way(sessions) -> None:  # type: ignore[no-untyped-def]
    seed = {"code": "H12010100002", "name": "种子医院", "kind": "medical_institution", "level": 3, "office_code": "120101",
            "district_code": "120101", "programmes": frozenset({"resident", "employee"}), "status": "designated",
            "version": 2, "not_a_column": "left out"}  # fmt: skip
    uow = UnitOfWork(sessions, SystemClock(), "test")
    await uow.run(record_facility_if_newer, facilities, seed)
    await uow.run(record_facility_if_newer, facilities, seed | {"name": "旧名称", "version": 1})

    [row] = await rows(sessions)
    assert (row["version"], row["name"], row["level"]) == (2, "种子医院", 3)
    assert row["programmes"] == ["employee", "resident"] and row["recorded_at"] is not None
