"""Benefit payments computed by rule (maternity, account withdrawal), the personal account's history,
and why a coverage ended.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coverages", sa.Column("ended_reason", sa.String(30)))
    op.create_table(
        "benefit_payments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("unit_code", sa.String(18), index=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("overdue_announced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", JSONB, nullable=False),
    )
    op.create_table(
        "account_entries",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("reference", sa.String(80), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("account_entries")
    op.drop_table("benefit_payments")
    op.drop_column("coverages", "ended_reason")
