"""Tables of the facility schema."""

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, SmallInteger, String, Table, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from shared.db import new_metadata
from shared.tables import access_audit, dead_letter_replays

metadata = new_metadata()

# The registry of designated institutions: what the other services look facilities up in.
registry = Table(
    "registry",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("institution_type", String(40)),
    Column("level", SmallInteger),
    Column("district_code", String(6), nullable=False),
    Column("office_code", String(6), nullable=False),
    Column("programmes", ARRAY(String(40)), nullable=False, server_default=text("'{}'")),
    Column("physical_hospital_code", String(20)),
    Column("agreement_number", String(60)),
    Column("agreement_valid_from", Date),
    Column("agreement_valid_to", Date),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
Index("ix_registry_search", registry.c.status, registry.c.district_code, registry.c.level)

# Applications for designation: key columns for queries, the whole aggregate as a document.
applications = Table(
    "applications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("applicant_id", String(120), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("name", String(200), nullable=False),
    Column("office_code", String(6), nullable=False),
    Column("status", String(30), nullable=False),
    Column("version", Integer, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("document", JSONB, nullable=False),
    # Which overdue limits were already announced, so the scan raises each alert once.
    Column("overdue_notices", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("concluded", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
Index("ix_applications_office_status", applications.c.office_code, applications.c.status)

# Who changed a registry record, when and why (append-only).
registry_history = Table(
    "registry_history",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("change", String(30), nullable=False),
    Column("by", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500)),
    Column("details", JSONB, nullable=False),
)

# Dead letters an administrator replayed from the ops page (shared.ops; append-only).
dead_letter_replays.to_metadata(metadata)

# Who read or changed which record (shared.http.audit; append-only).
access_audit.to_metadata(metadata)
