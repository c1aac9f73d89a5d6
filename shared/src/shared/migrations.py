"""Database set-up written once: per-service roles and schemas, and the Alembic environment.

`bootstrap` runs with an administrator URL: the database, then for each service a role that owns
its schema and has no rights elsewhere. Migrations then run as that role, one service at a time,
with Alembic's version table inside the service's schema.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

import asyncpg
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shared.events.relay import asyncpg_dsn
from shared.tables import AUDIT_OWNER_ROLE, AUDIT_SCHEMA, SEALED_AUDIT_TABLES

log = logging.getLogger(__name__)


def role_for(service: str) -> str:
    return f"yb_{service}"


async def create_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), database="postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


async def bootstrap(admin_url: str, services: Iterable[str], passwords: dict[str, str] | None = None) -> None:
    """Create the database, and per service its role (login, no other rights) and its own schema."""
    database = make_url(admin_url).database
    assert database, "the admin URL must name the database"
    await create_database(admin_url, database)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await _create_audit_owner(conn)
        for service in services:
            role = role_for(service)
            await _create_role(conn, role)
            if passwords and passwords.get(service):
                await conn.execute(f"ALTER ROLE {role} PASSWORD {_quote_literal(passwords[service])}")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {service} AUTHORIZATION {role}")
            await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
            await conn.execute(f"ALTER ROLE {role} SET search_path = {service}")
            await conn.execute(f"GRANT USAGE ON SCHEMA {AUDIT_SCHEMA} TO {role}")
            await conn.execute(f"GRANT EXECUTE ON FUNCTION {AUDIT_SCHEMA}.seal(regclass) TO {role}")
    finally:
        await conn.close()


# Sealing an audit table (see shared.tables.seal_audit_table): a service's migration, running as the
# service's role, hands the table to the audit owner role and keeps INSERT and SELECT on it. Only the
# role that owns the table may seal it, and only audit tables; run as the administrator who defined it.
_SEAL_FUNCTION = f"""CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.seal(audit_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
    serial text;
    keeper regprocedure;
BEGIN
    SELECT c.relname, n.nspname, pg_get_userbyid(c.relowner) AS owner INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = audit_table;
    IF rel.relname NOT IN ({", ".join(f"'{t}'" for t in SEALED_AUDIT_TABLES)}) THEN
        RAISE EXCEPTION '% is not an audit table', audit_table;
    END IF;
    IF rel.owner = '{AUDIT_OWNER_ROLE}' THEN
        PERFORM {AUDIT_SCHEMA}.chain(audit_table);
        RETURN;
    END IF;
    IF rel.owner <> session_user THEN
        RAISE EXCEPTION '% belongs to %, not to %', audit_table, rel.owner, session_user;
    END IF;
    EXECUTE format('ALTER TABLE %s OWNER TO {AUDIT_OWNER_ROLE}', audit_table);
    EXECUTE format('GRANT SELECT, INSERT ON %s TO %I', audit_table, session_user);
    serial := pg_get_serial_sequence(audit_table::text, 'id');
    IF serial IS NOT NULL THEN
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', serial, session_user);
    END IF;
    keeper := to_regprocedure(format('%I.%I()', rel.nspname, rel.relname || '_append_only'));
    IF keeper IS NOT NULL THEN
        EXECUTE format('ALTER FUNCTION %s OWNER TO {AUDIT_OWNER_ROLE}', keeper);
    END IF;
    PERFORM {AUDIT_SCHEMA}.chain(audit_table);
END $$"""

# The hash chain of a sealed audit table: each row, as it is inserted, gets the next number of its
# table's chain (chain_seq), the hash of the row before (prev_hash) and a hash of that and its own
# content (row_hash). The numbers are taken under a transaction lock of the table's chain, so
# concurrent inserters (several replicas of a service) form one chain in commit order. A row
# deleted, or changed, later (by a superuser, the only one who can) breaks the chain there, which
# yb_audit.verify_chain finds. Removing the newest rows leaves no gap: the newest chain_seq and
# row_hash should be copied out of the database now and then (see docs/security.md).
_CHAIN_FUNCTIONS = (
    f"""CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.chain_link(content jsonb, prev bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, '\\x'::bytea)
                  || convert_to((content - 'chain_seq' - 'prev_hash' - 'row_hash')::text, 'UTF8'))
$$""",
    f"""CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.chain_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('yb_audit.chain:' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, 0));
    EXECUTE format('SELECT chain_seq, row_hash FROM %I.%I WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO last_seq, last_hash;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := last_hash;
    NEW.row_hash := {AUDIT_SCHEMA}.chain_link(to_jsonb(NEW), last_hash);
    RETURN NEW;
END $$""",
    f"""CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.chain(audit_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel record;
BEGIN
    SELECT c.relname, pg_get_userbyid(c.relowner) AS owner INTO rel FROM pg_class c WHERE c.oid = audit_table;
    IF rel.relname NOT IN ({", ".join(f"'{t}'" for t in SEALED_AUDIT_TABLES)}) OR rel.owner <> '{AUDIT_OWNER_ROLE}' THEN
        RAISE EXCEPTION '% is not a sealed audit table', audit_table;
    END IF;
    EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS chain_seq bigint, ADD COLUMN IF NOT EXISTS prev_hash bytea, '
                   'ADD COLUMN IF NOT EXISTS row_hash bytea', audit_table);
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %s (chain_seq)', rel.relname || '_chain_seq', audit_table);
    EXECUTE format('CREATE OR REPLACE TRIGGER %I BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION {AUDIT_SCHEMA}.chain_row()',
                   rel.relname || '_chain', audit_table);
END $$""",
    f"""CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.verify_chain(audit_table regclass)
RETURNS TABLE (chained bigint, broken_at bigint, reason text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    r record;
    expected bigint := 1;
    last_hash bytea := NULL;
BEGIN
    FOR r IN EXECUTE format('SELECT to_jsonb(t) AS content, t.chain_seq, t.prev_hash, t.row_hash FROM %s t '
                            'WHERE t.chain_seq IS NOT NULL ORDER BY t.chain_seq', audit_table) LOOP
        IF r.chain_seq <> expected THEN
            RETURN QUERY SELECT expected - 1, expected, format('rows %s to %s of the chain are missing', expected, r.chain_seq - 1);
            RETURN;
        END IF;
        IF r.prev_hash IS DISTINCT FROM last_hash THEN
            RETURN QUERY SELECT expected - 1, r.chain_seq, 'the row does not link to the row before it'::text;
            RETURN;
        END IF;
        IF r.row_hash IS DISTINCT FROM {AUDIT_SCHEMA}.chain_link(r.content, r.prev_hash) THEN
            RETURN QUERY SELECT expected - 1, r.chain_seq, 'the row was changed after it was written'::text;
            RETURN;
        END IF;
        expected := expected + 1;
        last_hash := r.row_hash;
    END LOOP;
    RETURN QUERY SELECT expected - 1, NULL::bigint, NULL::text;
END $$""",
)

# Tables sealed before the chain existed get it at the next bootstrap (new rows only).
_CHAIN_SEALED_TABLES = f"""SELECT {AUDIT_SCHEMA}.chain(c.oid) FROM pg_class c
 WHERE c.relkind = 'r' AND pg_get_userbyid(c.relowner) = '{AUDIT_OWNER_ROLE}'
   AND c.relname IN ({", ".join(f"'{t}'" for t in SEALED_AUDIT_TABLES)})"""

# The owner of a schema may drop what is in it, sealed tables included: this event trigger refuses
# dropping an audit table (or a schema holding one) to everyone but a superuser.
_KEEP_FUNCTION = f"""CREATE OR REPLACE FUNCTION {AUDIT_SCHEMA}.keep_audit_tables() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    dropped record;
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN;
    END IF;
    FOR dropped IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF dropped.object_type = 'table' AND dropped.object_name IN ({", ".join(f"'{t}'" for t in SEALED_AUDIT_TABLES)}) THEN
            RAISE EXCEPTION '% is an audit table: only the database administrator may drop it', dropped.object_identity;
        END IF;
    END LOOP;
END $$"""


async def _create_audit_owner(conn: asyncpg.Connection) -> None:
    """The role that owns the sealed audit tables (no login), its schema and functions."""
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", AUDIT_OWNER_ROLE):
        try:
            await conn.execute(f"CREATE ROLE {AUDIT_OWNER_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        except asyncpg.DuplicateObjectError:
            pass
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA}")
    await conn.execute(f"REVOKE ALL ON SCHEMA {AUDIT_SCHEMA} FROM PUBLIC")
    await conn.execute(_SEAL_FUNCTION)
    await conn.execute(f"REVOKE ALL ON FUNCTION {AUDIT_SCHEMA}.seal(regclass) FROM PUBLIC")
    await conn.execute(_KEEP_FUNCTION)
    for function in _CHAIN_FUNCTIONS:
        await conn.execute(function)
    await conn.execute(f"REVOKE ALL ON FUNCTION {AUDIT_SCHEMA}.chain(regclass) FROM PUBLIC")
    await conn.execute(_CHAIN_SEALED_TABLES)
    if not await conn.fetchval("SELECT 1 FROM pg_event_trigger WHERE evtname = 'yb_keep_audit_tables'"):
        try:
            await conn.execute(
                f"CREATE EVENT TRIGGER yb_keep_audit_tables ON sql_drop EXECUTE FUNCTION {AUDIT_SCHEMA}.keep_audit_tables()"
            )
        except asyncpg.InsufficientPrivilegeError:
            # Event triggers need a superuser; a managed database's administrator may not be one.
            log.warning("bootstrap: not a superuser, so no event trigger keeps the sealed audit tables from being "
                        "dropped by their schema's owner; ask the database's superuser to create yb_keep_audit_tables")  # fmt: skip


async def _create_role(conn: asyncpg.Connection, role: str) -> None:
    # Roles are cluster-wide; two runs may race to create the same one.
    if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
        return
    try:
        await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    except asyncpg.DuplicateObjectError:
        pass


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def service_database_url(admin_url: str, service: str) -> str:
    """The URL a service uses locally: same server and database, its own role (trust auth)."""
    admin = make_url(admin_url)
    # A new URL rather than .set(password=None), which keeps the administrator's password.
    url = URL.create("postgresql+asyncpg", username=role_for(service), host=admin.host, port=admin.port,
                     database=admin.database, query=admin.query)  # fmt: skip
    return url.render_as_string(hide_password=False)


def alembic_config(service_dir: Path, database_url: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option(
        "script_location", str(service_dir / config.get_main_option("script_location", ""))
    )
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(service_dir: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service_dir, database_url), revision)


def run_migrations(schema: str, metadata: MetaData | None = None) -> None:
    """The body of every service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table_schema=schema, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    assert url is not None, "alembic.ini or the caller sets sqlalchemy.url"
    asyncio.run(_run_online(url, schema, metadata))


async def _run_online(url: str, schema: str, metadata: MetaData | None) -> None:
    engine = create_async_engine(
        url, poolclass=pool.NullPool, connect_args={"server_settings": {"search_path": schema}}
    )
    async with engine.connect() as connection:
        await connection.run_sync(_configure_and_run, schema, metadata)
    await engine.dispose()


def _configure_and_run(connection: Connection, schema: str, metadata: MetaData | None) -> None:
    context.configure(
        connection=connection, target_metadata=metadata, version_table_schema=schema, include_schemas=False
    )
    with context.begin_transaction():
        context.run_migrations()
