"""Infrastructure tables every service has in its own schema: outbox, inbox, idempotency keys.

Services create them in their first migration with `create_infrastructure_v1`, so they are
written once here and live unqualified in each service's schema (its role's search_path).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from shared.db import new_metadata

infrastructure = new_metadata()

outbox = Table(
    "outbox",
    infrastructure,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(120), nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Column("published_at", DateTime(timezone=True)),
)
# The relay claims unsent rows by status; this index holds only those, so it stays small.
Index(
    "ix_outbox_unsent",
    outbox.c.next_attempt_at,
    outbox.c.id,
    postgresql_where=outbox.c.published_at.is_(None),
)

inbox = Table(
    "inbox",
    infrastructure,
    Column("consumer", String(80), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", String(120), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    infrastructure,
    Column("principal", String(120), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_fingerprint", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response_body", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("principal", "key"),
)


def create_infrastructure_v1(op) -> None:  # type: ignore[no-untyped-def]
    """Revision 1 of the infrastructure tables, frozen: called from each service's first migration.

    Spelled out rather than taken from the tables above, so a later change to them (made by a new
    migration calling a new revision function) never rewrites what an old migration did.
    """
    op.create_table(
        "outbox",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Column("published_at", DateTime(timezone=True)),
    )
    op.create_index(
        "ix_outbox_unsent", "outbox", ["next_attempt_at", "id"], postgresql_where=text("published_at IS NULL")
    )
    op.create_table(
        "inbox",
        Column("consumer", String(80), nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("event_type", String(120), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "idempotency_keys",
        Column("principal", String(120), nullable=False),
        Column("key", String(200), nullable=False),
        Column("request_fingerprint", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response_body", JSONB),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("principal", "key"),
    )


def drop_infrastructure_v1(op) -> None:  # type: ignore[no-untyped-def]
    for table in ("idempotency_keys", "inbox", "outbox"):
        op.drop_table(table)


def create_infrastructure_tables(bind) -> None:  # type: ignore[no-untyped-def]
    """The current tables at once (test harnesses that need no migration history)."""
    infrastructure.create_all(bind=bind)


# --------------------------------------------------------------------------- audited dead-letter replays

# Who replayed which dead letter, when and why (append-only: a trigger refuses UPDATE and DELETE).
# A service opts in by adding this table to its models (`dead_letter_replays.to_metadata(metadata)`)
# and a migration calling `create_dead_letter_replays_v1(op)`; until then shared.ops refuses replays
# for it rather than replaying without a record.
replay_audit = new_metadata()

dead_letter_replays = Table(
    "dead_letter_replays",
    replay_audit,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("message_id", String(200), nullable=False),
    Column("event_type", String(120)),
    Column("replayed_by", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("reason", String(500)),
    Column("replayed", Integer, nullable=False),
    Column("replayed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def _append_only(table: str) -> tuple[str, str]:
    """A trigger refusing UPDATE and DELETE on `table`. One statement each: asyncpg prepares what it
    runs, and a prepared statement holds one command."""
    return (
        f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{table} is append-only';
    END $$""",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
    )


def create_dead_letter_replays_v1(op) -> None:  # type: ignore[no-untyped-def]
    """Revision 1 of the replay audit table, frozen (spelled out, like `create_infrastructure_v1`)."""
    op.create_table(
        "dead_letter_replays",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("message_id", String(200), nullable=False),
        Column("event_type", String(120)),
        Column("replayed_by", String(120), nullable=False),
        Column("role", String(20), nullable=False),
        Column("reason", String(500)),
        Column("replayed", Integer, nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    for statement in _append_only("dead_letter_replays"):
        op.execute(statement)


def drop_dead_letter_replays_v1(op) -> None:  # type: ignore[no-untyped-def]
    op.drop_table("dead_letter_replays")
    op.execute("DROP FUNCTION dead_letter_replays_append_only()")


# --------------------------------------------------------------------------- access audit (PIPL)

# Who read or changed which record (shared.http.audit): one row per signed-in API request,
# append-only like the replay audit. Every service has it from its migration calling
# `create_access_audit_v1(op)`.
access_audit_metadata = new_metadata()


def chain_columns() -> tuple[Column, ...]:  # type: ignore[type-arg]
    """The columns of a sealed audit table's hash chain (added by the database's ``yb_audit.chain``, which
    shared.migrations.bootstrap defines and sealing calls): the row's place in the chain, the hash of the
    row before and the row's own hash over that and its content."""
    return (
        Column("chain_seq", BigInteger),
        Column("prev_hash", LargeBinary),
        Column("row_hash", LargeBinary),
    )


access_audit = Table(
    "access_audit",
    access_audit_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("subject", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("office_code", String(12)),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("status", Integer, nullable=False),
    Column("request_id", String(128)),
    # Since revision 2: what the request was for (the route it matched) and whose data it touched
    # (person ids from the path, the query, an ID number or person id in the body, the answer).
    Column("operation", String(200)),
    Column("person_ids", ARRAY(UUID(as_uuid=True))),
    # The hash chain, filled by the database as each row is inserted (never by the service):
    *chain_columns(),
)
Index("ix_access_audit_subject_at", access_audit.c.subject, access_audit.c.at)
Index("ix_access_audit_person_ids", access_audit.c.person_ids, postgresql_using="gin")
Index("access_audit_chain_seq", access_audit.c.chain_seq, unique=True)


def create_access_audit_v1(op) -> None:  # type: ignore[no-untyped-def]
    """Revision 1 of the access audit table, frozen."""
    op.create_table(
        "access_audit",
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("subject", String(120), nullable=False),
        Column("role", String(20), nullable=False),
        Column("office_code", String(12)),
        Column("method", String(10), nullable=False),
        Column("path", String(500), nullable=False),
        Column("status", Integer, nullable=False),
        Column("request_id", String(128)),
    )
    op.create_index("ix_access_audit_subject_at", "access_audit", ["subject", "at"])
    for statement in _append_only("access_audit"):
        op.execute(statement)


def drop_access_audit_v1(op) -> None:  # type: ignore[no-untyped-def]
    op.drop_table("access_audit")
    op.execute("DROP FUNCTION access_audit_append_only()")


def add_access_audit_subjects_v2(op) -> None:  # type: ignore[no-untyped-def]
    """Revision 2 of the access audit, frozen: the operation and the persons a request touched; then
    the table is sealed (handed to the audit owner role, see `seal_audit_table`)."""
    op.add_column("access_audit", Column("operation", String(200)))
    op.add_column("access_audit", Column("person_ids", ARRAY(UUID(as_uuid=True))))
    op.create_index("ix_access_audit_person_ids", "access_audit", ["person_ids"], postgresql_using="gin")
    seal_audit_table(op, "access_audit")


# --------------------------------------------------------------------------- sealed audit tables

# The role that owns every audit table once sealed, and the function (created by
# shared.migrations.bootstrap as the database administrator) a service's migration calls to hand
# its audit table over. After that the service's own role may only INSERT and SELECT: no UPDATE,
# DELETE or TRUNCATE, no ALTER TABLE ... DISABLE TRIGGER, no replacing the append-only trigger's
# function; a database-wide event trigger refuses dropping a sealed table (or its schema).
AUDIT_OWNER_ROLE = "yb_audit"
AUDIT_SCHEMA = "yb_audit"
SEALED_AUDIT_TABLES = ("access_audit", "interop_audit")


def append_only_statements(table: str) -> tuple[str, str]:
    """The statements making `table` refuse UPDATE and DELETE (for a service's own audit tables)."""
    return _append_only(table)


def seal_audit_table(op, table: str) -> None:  # type: ignore[no-untyped-def]
    op.execute(f"SELECT {AUDIT_SCHEMA}.seal('{table}')")


def facility_projection(metadata: MetaData, *columns: Column) -> Table:  # type: ignore[type-arg]
    """A service's copy of facility's registry, kept from the ``facility.*`` events by ``shared.db.upsert_newer``
    (the newest version wins): the columns every copy needs, then the service's own (``columns``)."""
    return Table(
        "facilities",
        metadata,
        Column("code", String(20), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("kind", String(30), nullable=False),
        Column("office_code", String(6), nullable=False),
        Column("status", String(20), nullable=False),
        Column("version", Integer, nullable=False),
        *columns,
    )
