"""Check the hash chains of the sealed audit tables (``access_audit``, ``interop_audit``).

    uv run python -m shared.audit_chain postgresql://admin@host/yibao

Each sealed audit table carries a hash chain the database keeps as rows are inserted (see
``shared.migrations``: ``yb_audit.chain``). This walks every chain with ``yb_audit.verify_chain``
and prints, per table, how many rows are chained and where a chain breaks (a row missing or
changed); the exit status is 1 when one does. It reads only; any role that may read the tables
may run it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass

import asyncpg

from shared.tables import AUDIT_OWNER_ROLE, AUDIT_SCHEMA, SEALED_AUDIT_TABLES


@dataclass(frozen=True)
class ChainCheck:
    table: str
    chained: int
    broken_at: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def __str__(self) -> str:
        if self.intact:
            return f"{self.table}: {self.chained} rows chained, intact"
        return f"{self.table}: broken at row {self.broken_at} of the chain ({self.reason}); {self.chained} rows intact before it"


async def check_chains(conn: asyncpg.Connection) -> list[ChainCheck]:
    """Every sealed audit table of the database, checked."""
    tables = await conn.fetch(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND pg_get_userbyid(c.relowner) = $1 AND c.relname = ANY($2::text[]) ORDER BY 1",
        AUDIT_OWNER_ROLE,
        list(SEALED_AUDIT_TABLES),
    )
    return [await check_chain(conn, row["name"]) for row in tables]


async def check_chain(conn: asyncpg.Connection, table: str) -> ChainCheck:
    row = await conn.fetchrow(f"SELECT * FROM {AUDIT_SCHEMA}.verify_chain($1::regclass)", table)
    assert row is not None
    return ChainCheck(table, row["chained"], row["broken_at"], row["reason"])


async def _main(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        checks = await check_chains(conn)
    finally:
        await conn.close()
    for check in checks:
        print(check)
    return 0 if all(c.intact for c in checks) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description="Check the hash chains of the sealed audit tables.")
    parser.add_argument("database_url", help="postgresql://user@host:port/database")
    args = parser.parse_args()
    sys.exit(asyncio.run(_main(args.database_url.replace("postgresql+asyncpg://", "postgresql://"))))


if __name__ == "__main__":
    main()
