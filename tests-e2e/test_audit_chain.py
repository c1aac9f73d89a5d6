"""The sealed audit tables are hash-chained by the database: every service's access audit and the
inter-office audit form unbroken chains, and a row removed or changed behind the services' backs (by
a superuser, who alone can) is found where it was."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import httpx

from shared.audit_chain import ChainCheck, check_chain, check_chains
from shared.events.relay import asyncpg_dsn
from shared.testing.e2e import bearer, poll
from shared.testing.runs import RunServers
from yb_deploy.platform import SERVICES

T = TypeVar("T")
# A city reviewer's read in each service (audited: it names who asked, and for what).
AUDITED_READS = (
    "/api/v1/claims/policies",
    "/api/v1/facility/applications",
    f"/api/v1/registration/enrollments/{uuid.uuid4()}",
    "/api/v1/settlement/budgets",
    "/api/v1/transfer/transfers",
)


def as_superuser(test_servers: RunServers, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def audited_by_every_service(gateway: httpx.Client, tokens: dict[str, str]) -> str:
    """One audited request per service, all with the same request id; returns it."""
    request_id = f"chain-{uuid.uuid4()}"
    headers = {**bearer(tokens["staff-city"]), "X-Request-ID": request_id}
    for path in AUDITED_READS:
        assert gateway.get(path, headers=headers).status_code in (200, 404)
    return request_id


def chains(test_servers: RunServers) -> dict[str, ChainCheck]:
    return {c.table: c for c in as_superuser(test_servers, check_chains)}


def test_every_sealed_audit_table_is_one_unbroken_hash_chain(
    gateway: httpx.Client, tokens: dict[str, str], test_servers: RunServers
) -> None:
    audited_by_every_service(gateway, tokens)
    expected = {f"{s}.access_audit" for s in SERVICES} | {"transfer.interop_audit"}
    seen: dict[str, ChainCheck] = {}

    def all_written() -> bool:
        seen.update(chains(test_servers))
        return all(f"{s}.access_audit" in seen and seen[f"{s}.access_audit"].chained for s in SERVICES)

    try:
        poll(all_written, what="every service's audit to be written")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {[str(c) for c in seen.values()]}") from None
    found = seen
    assert set(found) == expected
    assert all(check.intact for check in found.values()), [str(c) for c in found.values()]


def test_a_row_deleted_or_changed_by_a_superuser_breaks_the_chain_where_it_was(
    gateway: httpx.Client, tokens: dict[str, str], test_servers: RunServers
) -> None:
    request_id = audited_by_every_service(gateway, tokens)
    table = "registration.access_audit"

    async def written(conn: asyncpg.Connection) -> int | None:
        return await conn.fetchval(f"SELECT chain_seq FROM {table} WHERE request_id = $1", request_id)

    position = poll(lambda: as_superuser(test_servers, written), what="the request to be audited")
    audited_by_every_service(gateway, tokens)  # a row after it, so the chain goes on past it
    poll(lambda: chains(test_servers)[table].chained > position, what="a later row")

    def tampered(statement: str) -> tuple[ChainCheck, ChainCheck]:
        async def work(conn: asyncpg.Connection) -> tuple[ChainCheck, ChainCheck]:
            transaction = conn.transaction()
            await transaction.start()
            try:
                # The append-only trigger holds even for a superuser; only switching triggers off
                # for the session (a superuser's power) lets the row be touched.
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(statement.format(table=table), position)
                return await check_chain(conn, table), await check_chain(conn, "transfer.access_audit")
            finally:
                await transaction.rollback()  # the run's audit stays whole for the other tests

        return as_superuser(test_servers, work)

    deleted, elsewhere = tampered("DELETE FROM {table} WHERE chain_seq = $1")
    assert deleted.broken_at == position and "missing" in (deleted.reason or ""), str(deleted)
    assert elsewhere.intact  # one chain per table: another service's audit is not affected
    changed, _ = tampered("UPDATE {table} SET subject = 'someone-else' WHERE chain_seq = $1")
    assert changed.broken_at == position and "changed" in (changed.reason or ""), str(changed)
    assert chains(test_servers)[table].intact  # rolled back: nothing was left broken
