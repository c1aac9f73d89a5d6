"""Tables of the claims schema."""

from sqlalchemy import Column, Date, DateTime, String, Table, text
from sqlalchemy.dialects.postgresql import UUID

from shared.db import new_metadata

metadata = new_metadata()

# Projection of registration's events: one row per enrollment that grants coverage.
coverages = Table(
    "coverages",
    metadata,
    Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("tier", String(20)),
    Column("benefit_start", Date, nullable=False),
    Column("benefit_end", Date, nullable=False),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
