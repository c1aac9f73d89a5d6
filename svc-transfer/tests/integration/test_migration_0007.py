"""Revision 0007 on data written before it: certificates issued twice for one stopped coverage and
transfers out that shared a certificate (the defect it closes) must not stop the upgrade; one of each
is kept, the rest cannot move money again."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from shared.migrations import bootstrap, service_database_url, upgrade
from yb_deploy.platform import REPO
from yb_deploy.pytest_plugin import isolated_servers

pytestmark = pytest.mark.integration


async def _seed_before_0007(url: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    person, cases = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    try:
        for number, status in (("1200002026000001", "transferred"), ("1200002026000002", "issued")):
            document = {"number": number, "status": status, "coverage_ended_on": "2026-11-30"}
            await connection.execute(
                "INSERT INTO transfer.certificates (number, person_id, office_code, status, issued_on, document) "
                "VALUES ($1, $2, '120101', $3, '2026-12-01', $4::jsonb)",
                number, person, status, json.dumps(document),
            )  # fmt: skip
        for case_id, status in zip(cases, ("transferred_out", "transferred_out"), strict=True):
            document = {"certificate": {"number": "1200002026000001"}}
            await connection.execute(
                "INSERT INTO transfer.transfers (id, side, transfer_ref, office_code, person_id, status, version, document) "
                "VALUES ($1, 'outgoing', $2, '120101', $3, $4, 3, $5::jsonb)",
                case_id, uuid.uuid4(), person, status, json.dumps(document),
            )  # fmt: skip
        return person, cases
    finally:
        await connection.close()


async def _rows(url: str, query: str) -> list:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


def test_revision_0007_keeps_one_certificate_and_one_transfer_out_of_earlier_duplicates() -> None:
    with isolated_servers() as servers:
        asyncio.run(bootstrap(servers.admin_url, ("transfer",)))
        url = service_database_url(servers.admin_url, "transfer")
        upgrade(REPO / "svc-transfer", url, "0006")
        asyncio.run(_seed_before_0007(url))
        upgrade(REPO / "svc-transfer", url)
        certificates = asyncio.run(
            _rows(
                url,
                "SELECT number, status, document->>'status' AS kept FROM transfer.certificates ORDER BY number",
            )
        )
        assert [(r["number"], r["status"], r["kept"]) for r in certificates] == [
            ("1200002026000001", "transferred", "transferred"), ("1200002026000002", "superseded", "superseded"),
        ]  # fmt: skip
        holding = asyncio.run(
            _rows(url, "SELECT count(*) AS n FROM transfer.transfers WHERE certificate_number IS NOT NULL")
        )
        assert holding[0]["n"] == 1
