"""Initial registration schema: infrastructure tables, persons, enrollments.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.tables import create_infrastructure_v1, drop_infrastructure_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infrastructure_v1(op)
    op.create_table(
        "persons",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("id_type", sa.String(40), nullable=False),
        sa.Column("id_number", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(10)),
        sa.Column("birth_date", sa.Date),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("phone", sa.String(30)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("uq_persons_identity", "persons", ["id_type", "id_number"], unique=True)
    op.create_table(
        "enrollments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(20)),
        sa.Column("coverage_year", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submitted_by", sa.String(120), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decisions", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_index(
        "uq_enrollments_one_active", "enrollments", ["person_id", "coverage_year"], unique=True,
        postgresql_where=sa.text("status IN ('submitted', 'approved')"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("enrollments")
    op.drop_table("persons")
    drop_infrastructure_v1(op)
