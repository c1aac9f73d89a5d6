"""The access audit cannot be silenced and names whose data was read; the audit tables are sealed:
the services' own database roles may only add and read rows."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import asyncpg
import httpx
import pytest

from shared.identity import IdType, person_id_for
from shared.migrations import service_database_url
from shared.settings import DEVELOPMENT_PERSON_KEY
from shared.testing.e2e import bearer, covered_resident, new_resident_id, poll
from shared.testing.runs import RunServers


async def _as_service(test_servers: RunServers, service: str, query: str, *args: object) -> list[dict]:
    """Run `query` as the service's own database role (what the service itself could do)."""
    url = service_database_url(test_servers.admin_url, service).replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(url)
    try:
        return [dict(r) for r in await connection.fetch(query, *args)]
    finally:
        await connection.close()


def as_service(test_servers: RunServers, service: str, query: str, *args: object) -> list[dict]:
    return asyncio.run(_as_service(test_servers, service, query, *args))


def refusal(test_servers: RunServers, service: str, statement: str) -> str:
    try:
        as_service(test_servers, service, statement)
    except asyncpg.PostgresError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "done"


def audited(test_servers: RunServers, service: str, request_id: str) -> list[dict]:
    return as_service(
        test_servers, service, f"SELECT * FROM {service}.access_audit WHERE request_id = $1", request_id
    )


def test_a_request_with_a_nul_in_its_path_does_not_stop_the_audit(
    gateway: httpx.Client, tokens: dict[str, str], test_servers: RunServers
) -> None:
    nul_id, next_id = uuid.uuid4().hex, uuid.uuid4().hex
    nul = gateway.get(
        "/api/v1/registration/enrollments/%00",
        headers={**bearer(tokens["staff-heping"]), "X-Request-ID": nul_id},
    )
    assert nul.status_code in (404, 422)
    [nul_row] = poll(
        lambda: audited(test_servers, "registration", nul_id), what="the NUL request in the audit"
    )
    assert nul_row["path"] == "/api/v1/registration/enrollments/\\x00"
    after = gateway.get(f"/api/v1/registration/enrollments/{uuid.uuid4()}",
                        headers={**bearer(tokens["staff-heping"]), "X-Request-ID": next_id})  # fmt: skip
    assert after.status_code == 404
    [next_row] = poll(
        lambda: audited(test_servers, "registration", next_id), what="the next request in the audit"
    )
    assert next_row["id"] > nul_row["id"]


def test_a_search_by_id_number_in_the_body_records_whose_data_was_read_and_why(
    gateway: httpx.Client, tokens: dict[str, str], test_servers: RunServers
) -> None:
    id_number = new_resident_id("120101")
    person = person_id_for(IdType.resident_id, id_number, DEVELOPMENT_PERSON_KEY.encode())
    request_id = uuid.uuid4().hex
    gateway.post("/api/v1/registration/enrollments/search", json={"id_number": id_number},
                 headers={**bearer(tokens["staff-heping"]), "X-Request-ID": request_id})  # fmt: skip
    [row] = poll(lambda: audited(test_servers, "registration", request_id), what="the search in the audit")
    assert row["person_ids"] == [person]
    assert row["operation"] == "POST /api/v1/registration/enrollments/search"
    assert id_number not in json.dumps(row, default=str)  # the number itself is never kept


def test_a_person_id_in_the_query_names_the_person_read(
    gateway: httpx.Client, tokens: dict[str, str], test_servers: RunServers
) -> None:
    person = covered_resident(gateway, tokens["staff-heping"], "120101", name="按查询参数查阅")
    request_id = uuid.uuid4().hex
    read = gateway.get(f"/api/v1/registration/enrollments?person_id={person}",
                       headers={**bearer(tokens["staff-heping"]), "X-Request-ID": request_id})  # fmt: skip
    assert read.status_code == 200
    [row] = poll(lambda: audited(test_servers, "registration", request_id), what="the read in the audit")
    assert row["person_ids"] == [uuid.UUID(person)]
    assert (row["operation"], row["status"]) == ("GET /api/v1/registration/enrollments", 200)


@pytest.mark.parametrize("service", ["registration", "claims", "settlement", "transfer", "facility"])
def test_a_service_cannot_erase_or_silence_its_own_access_audit(
    test_servers: RunServers, gateway: httpx.Client, service: str
) -> None:
    for statement in (
        "TRUNCATE access_audit",
        "ALTER TABLE access_audit DISABLE TRIGGER access_audit_append_only",
        "DELETE FROM access_audit",
        "UPDATE access_audit SET subject = 'nobody'",
        "DROP TABLE access_audit",
        "CREATE OR REPLACE FUNCTION access_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    ):
        assert refusal(test_servers, service, statement) != "done", statement
    # ... but it can still add and read rows.
    as_service(
        test_servers,
        service,
        "INSERT INTO access_audit (subject, role, method, path, status) VALUES ('t', 'staff', 'GET', '/x', 200)",
    )
    assert as_service(test_servers, service, "SELECT count(*) AS n FROM access_audit")[0]["n"] >= 1


def _unsigned_message(sender: str, type_: str, message_id: str) -> str:
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'typ': 'JWT'})}.{part({'iss': sender, 'mid': message_id, 'typ': type_})}.c2ln"


def test_the_inter_office_audit_keeps_a_refusal_with_an_overlong_sender_and_cannot_be_erased(
    gateway: httpx.Client, test_servers: RunServers
) -> None:
    sender, type_, message_id = "9" * 40, "t" * 40, str(uuid.uuid4())
    refused = gateway.post("/interop/v1/messages", content=_unsigned_message(sender, type_, message_id),
                           headers={"Content-Type": "application/jose"})  # fmt: skip
    assert 400 <= refused.status_code < 500, refused.text
    [row] = poll(lambda: as_service(test_servers, "transfer", "SELECT * FROM interop_audit WHERE message_id = $1", message_id),
                 what="the refusal in the inter-office audit")  # fmt: skip
    assert row["outcome"] == f"refused:{refused.json()['code']}"
    assert sender.startswith(row["peer"]) and type_.startswith(row["type"])  # kept, however long the claim
    assert sender in row["detail"]
    for statement in ("TRUNCATE interop_audit", "DELETE FROM interop_audit", "UPDATE interop_audit SET outcome = 'x'",
                      "ALTER TABLE interop_audit DISABLE TRIGGER interop_audit_append_only"):  # fmt: skip
        assert refusal(test_servers, "transfer", statement) != "done", statement
