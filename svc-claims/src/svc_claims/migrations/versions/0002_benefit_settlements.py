"""Settled bills and the per-person, per-year accumulators they use.

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


def upgrade() -> None:
    op.create_table(
        "benefit_years",
        sa.Column("person_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("accumulators", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "benefit_settlements",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("request", JSONB, nullable=False),
        sa.Column("bill", JSONB, nullable=False),
        sa.Column("settled_by", sa.String(120), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("benefit_settlements")
    op.drop_table("benefit_years")
