"""The registry of designated institutions and the applications for designation.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("institution_type", sa.String(40)),
        sa.Column("level", sa.SmallInteger),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("programmes", ARRAY(sa.String(40)), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("physical_hospital_code", sa.String(20)),
        sa.Column("agreement_number", sa.String(60)),
        sa.Column("agreement_valid_from", sa.Date),
        sa.Column("agreement_valid_to", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("ix_registry_search", "registry", ["status", "district_code", "level"])
    op.create_table(
        "applications",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("applicant_id", sa.String(120), nullable=False, index=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("overdue_notices", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("concluded", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("ix_applications_office_status", "applications", ["office_code", "status"])


def downgrade() -> None:
    op.drop_table("applications")
    op.drop_table("registry")
