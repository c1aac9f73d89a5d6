"""Who read or changed which record: every signed-in API request is in the service's append-only audit."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from shared.migrations import service_database_url
from shared.testing.e2e import bearer, covered_resident, poll
from shared.testing.runs import RunServers


async def audit_rows(test_servers: RunServers, request_id: str) -> list[dict]:
    url = service_database_url(test_servers.admin_url, "registration").replace(
        "postgresql+asyncpg", "postgresql"
    )
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT * FROM registration.access_audit WHERE request_id = $1", request_id
        )
        return [dict(r) for r in rows]
    finally:
        await connection.close()


async def try_to_erase(test_servers: RunServers) -> str:
    url = service_database_url(test_servers.admin_url, "registration").replace(
        "postgresql+asyncpg", "postgresql"
    )
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DELETE FROM registration.access_audit")
    except asyncpg.PostgresError as exc:
        return str(exc)
    finally:
        await connection.close()
    return "deleted"


def test_reads_and_refusals_are_recorded_and_the_record_cannot_be_erased(
    gateway: httpx.Client, tokens: dict[str, str], test_servers: RunServers
) -> None:
    person = covered_resident(gateway, tokens["staff-heping"], "120101", name="被查阅人")
    coverage = poll(
        lambda: (
            gateway.get(
                f"/api/v1/claims/persons/{person}/eligibility", headers=bearer(tokens["staff-heping"])
            )
            .json()
            .get("coverage")
        ),
        what="the coverage in claims",
    )
    enrollment_id = coverage["enrollment_id"]
    read_id, denied_id = uuid.uuid4().hex, uuid.uuid4().hex
    read = gateway.get(f"/api/v1/registration/enrollments/{enrollment_id}",
                       headers={**bearer(tokens["staff-heping"]), "X-Request-ID": read_id})  # fmt: skip
    assert read.status_code == 200
    denied = gateway.get(f"/api/v1/registration/enrollments/{enrollment_id}",
                         headers={**bearer(tokens["lisi"]), "X-Request-ID": denied_id})  # fmt: skip
    assert denied.status_code == 404  # someone else's record: not there for them, but the attempt is kept

    [row] = poll(lambda: asyncio.run(audit_rows(test_servers, read_id)), what="the read in the audit")
    assert (row["subject"], row["role"], row["office_code"], row["method"], row["status"]) == (
        "staff-heping", "staff", "120101", "GET", 200,
    )  # fmt: skip
    assert row["path"] == f"/api/v1/registration/enrollments/{enrollment_id}"
    [attempt] = poll(
        lambda: asyncio.run(audit_rows(test_servers, denied_id)), what="the refused read in the audit"
    )
    assert (attempt["subject"], attempt["status"]) == ("lisi", 404)
    # The service's own role may only add and read rows (the table belongs to the audit role).
    assert "permission denied" in asyncio.run(try_to_erase(test_servers))
