"""Facility projection, budgets, declarations, staff entries, clearings.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(16, 2)


def upgrade() -> None:
    op.create_table(
        "facilities",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "budgets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("facility_code", sa.String(20), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("insurance_type", sa.String(20), nullable=False),
        sa.Column("care_type", sa.String(20), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("weights", JSONB),
        sa.Column("quotas", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("facility_code", "year", "insurance_type", "care_type",
                            name="uq_budgets_facility_code_year_insurance_type_care_type"),
    )  # fmt: skip
    op.create_table(
        "budget_history",
        sa.Column("budget_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("weights", JSONB),
        sa.Column("quotas", JSONB, nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
    )
    op.create_table(
        "declarations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("facility_code", sa.String(20), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("insurance_type", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("totals", JSONB, nullable=False),
        sa.Column("bill_count", sa.Integer, nullable=False),
        sa.Column("declared_by", sa.String(120), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_on", sa.Date, nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.UniqueConstraint("facility_code", "period", "insurance_type", "version",
                            name="uq_declarations_facility_code_period_insurance_type_version"),
    )  # fmt: skip
    op.create_table(
        "declaration_bills",
        sa.Column("declaration_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("bill_no", sa.String(40), primary_key=True),
        sa.Column("care_type", sa.String(20), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("amounts", JSONB, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("facility_code", sa.String(20), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("insurance_type", sa.String(20), nullable=False),
        sa.Column("care_type", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_entries_key", "entries", ["facility_code", "period", "insurance_type", "care_type"])
    op.create_table(
        "clearings",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("facility_code", sa.String(20), nullable=False),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("insurance_type", sa.String(20), nullable=False),
        sa.Column("care_type", sa.String(20), nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("carry", JSONB, nullable=False),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("previous", JSONB, nullable=False),
        sa.Column("reserve_rate", sa.Numeric(6, 4), nullable=False),
        sa.Column("declaration_version", sa.Integer),
        sa.Column("declared_on", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("steps", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("payment", JSONB),
        sa.UniqueConstraint("facility_code", "period", "insurance_type", "care_type",
                            name="uq_clearings_facility_code_period_insurance_type_care_type"),
    )  # fmt: skip
    op.create_index("ix_clearings_office_period", "clearings", ["office_code", "period"])
    op.create_table(
        "clearing_history",
        sa.Column("clearing_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("cause", sa.String(200), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("clearing_history", "clearings", "entries", "declaration_bills", "declarations", "budget_history", "budgets", "facilities"):
        op.drop_table(table)
