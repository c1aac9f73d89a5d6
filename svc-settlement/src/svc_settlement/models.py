"""Tables of the settlement schema."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import new_metadata
from shared.tables import access_audit, dead_letter_replays, facility_projection

metadata = new_metadata()

MONEY = Numeric(16, 2)

# Projection of facility's registry events (the newest version wins).
facilities = facility_projection(
    metadata,
    Column("district_code", String(6), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# A facility's yearly budget per insurance type and care type, with its twelve monthly quotas.
budgets = Table(
    "budgets",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("facility_code", String(20), nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("insurance_type", String(20), nullable=False),
    Column("care_type", String(20), nullable=False),
    Column("total", MONEY, nullable=False),
    Column("weights", JSONB),
    Column("quotas", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("facility_code", "year", "insurance_type", "care_type"),
)

# Every setting and change of a budget: who, when, why (append-only).
budget_history = Table(
    "budget_history",
    metadata,
    Column("budget_id", UUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("total", MONEY, nullable=False),
    Column("weights", JSONB),
    Column("quotas", JSONB, nullable=False),
    Column("by", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500), nullable=False),
)

# Monthly declarations (月结申报): a correction is a new version, never an overwrite.
declarations = Table(
    "declarations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("facility_code", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("insurance_type", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("totals", JSONB, nullable=False),
    Column("bill_count", Integer, nullable=False),
    Column("declared_by", String(120), nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("declared_on", Date, nullable=False),
    Column("reason", String(500)),
    UniqueConstraint("facility_code", "period", "insurance_type", "version"),
)

# Per-bill detail of a declaration (optional).
declaration_bills = Table(
    "declaration_bills",
    metadata,
    Column("declaration_id", UUID(as_uuid=True), primary_key=True),
    Column("bill_no", String(40), primary_key=True),
    Column("care_type", String(20), nullable=False),
    Column("origin", String(20), nullable=False),
    Column("amounts", JSONB, nullable=False),
)

# Amounts staff enter against a facility-month: rejections, adjustments, year-end results (append-only).
entries = Table(
    "entries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("facility_code", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("insurance_type", String(20), nullable=False),
    Column("care_type", String(20), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("by", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index(
    "ix_entries_key", entries.c.facility_code, entries.c.period, entries.c.insurance_type, entries.c.care_type
)

# The clearing table of a facility-month per insurance and care type: lines, carries, inputs, the way to payment.
clearings = Table(
    "clearings",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("facility_code", String(20), nullable=False),
    Column("office_code", String(6), nullable=False),
    Column("period", String(7), nullable=False),
    Column("insurance_type", String(20), nullable=False),
    Column("care_type", String(20), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("carry", JSONB, nullable=False),
    Column("inputs", JSONB, nullable=False),
    Column("previous", JSONB, nullable=False),
    Column("reserve_rate", Numeric(6, 4), nullable=False),
    Column("declaration_version", Integer),
    Column("declared_on", Date),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("steps", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("payment", JSONB),
    # Adjustment lines for earlier months already paid (domain/restatement.py) and line 41 plus them.
    Column("adjustments", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("payable", MONEY, nullable=False),
    UniqueConstraint("facility_code", "period", "insurance_type", "care_type"),
)
Index("ix_clearings_office_period", clearings.c.office_code, clearings.c.period)

# The money paid, per month it was paid for: a table's own line 41 (kind "table") and each adjustment line it
# carried for an earlier month (kind "adjustment"). A month's table, so each declaration version of it, is
# paid once; a table pays an earlier month at most once.
payments = Table(
    "payments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("clearing_id", UUID(as_uuid=True), nullable=False),
    Column("facility_code", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("insurance_type", String(20), nullable=False),
    Column("care_type", String(20), nullable=False),
    Column("declaration_version", Integer),
    Column("kind", String(20), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("order_no", String(40), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("paid_by", String(120), nullable=False),
    UniqueConstraint("clearing_id", "period", name="uq_payments_table_pays_a_month_once"),
    CheckConstraint("kind IN ('table', 'adjustment')", name="ck_payments_kind"),
)
Index("uq_payments_month_table_once", payments.c.facility_code, payments.c.insurance_type, payments.c.care_type, payments.c.period,
      unique=True, postgresql_where=payments.c.kind == "table")  # fmt: skip
Index("uq_payments_declaration_version_once", payments.c.facility_code, payments.c.insurance_type, payments.c.care_type, payments.c.period,
      payments.c.declaration_version, unique=True, postgresql_where=payments.c.kind == "table", postgresql_nulls_not_distinct=True)  # fmt: skip

# Every computation that changed a clearing's lines (append-only): recomputation stays traceable.
clearing_history = Table(
    "clearing_history",
    metadata,
    Column("clearing_id", UUID(as_uuid=True), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("lines", JSONB, nullable=False),
    Column("inputs", JSONB, nullable=False),
    Column("cause", String(200), nullable=False),
    Column("by", String(120), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Dead letters an administrator replayed from the ops page (shared.ops; append-only).
dead_letter_replays.to_metadata(metadata)

# Who read or changed which record (shared.http.audit; append-only).
access_audit.to_metadata(metadata)
