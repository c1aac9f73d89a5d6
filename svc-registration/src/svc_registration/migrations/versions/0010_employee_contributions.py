"""Employee-scheme money: declared contribution bases, monthly notices (one per payer and month) with
their lines, payments from the bank's file (the bank reference is the natural key, a notice is paid
once), and the personal account's history.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contribution_bases",
        sa.Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("effective_from", sa.Date, primary_key=True),
        sa.Column("declared_wage", sa.Numeric(14, 2), nullable=False),
        sa.Column("declared_by", sa.String(120), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "contribution_notices",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("number", sa.String(60), nullable=False, unique=True),
        sa.Column("payer_kind", sa.String(10), nullable=False),
        sa.Column("payer_code", sa.String(40), nullable=False),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("total", sa.Numeric(16, 2), nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.Column("sample", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issued_by", sa.String(120), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_on", sa.Date),
        sa.Column("late_fee", sa.Numeric(14, 2)),
        sa.Column("bank_reference", sa.String(60)),
        sa.Column("interrupted_on", sa.Date),
    )
    op.create_index(
        "uq_contribution_notices_payer_month",
        "contribution_notices",
        ["payer_kind", "payer_code", "month"],
        unique=True,
    )
    op.create_index("ix_contribution_notices_office_month", "contribution_notices", ["office_code", "month"])
    op.create_index(
        "ix_contribution_notices_unpaid",
        "contribution_notices",
        ["due_on"],
        postgresql_where=sa.text("status = 'issued' AND interrupted_on IS NULL"),
    )
    op.create_table(
        "contribution_lines",
        sa.Column("notice_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("base", sa.Numeric(14, 2), nullable=False),
        sa.Column("unit_part", sa.Numeric(14, 2), nullable=False),
        sa.Column("personal_part", sa.Numeric(14, 2), nullable=False),
        sa.Column("account_credit", sa.Numeric(14, 2), nullable=False),
    )
    op.create_table(
        "contribution_payments",
        sa.Column("bank_reference", sa.String(60), primary_key=True),
        sa.Column("notice_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("late_fee", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("imported_by", sa.String(120), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "account_entries",
        sa.Column("person_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("reference", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("month", sa.Date),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )


def downgrade() -> None:
    for table in (
        "account_entries",
        "contribution_payments",
        "contribution_lines",
        "contribution_notices",
        "contribution_bases",
    ):
        op.drop_table(table)
