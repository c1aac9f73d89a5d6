"""Coverage details (unit, category, special groups) and the projection of benefit registrations.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coverages", sa.Column("unit_code", sa.String(18), index=True))
    op.add_column("coverages", sa.Column("category", sa.String(20)))
    op.add_column("coverages", sa.Column("special_groups", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.create_table(
        "entitlements",
        sa.Column("registration_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("facility_codes", JSONB, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("details", JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("entitlements")
    for column in ("special_groups", "category", "unit_code"):
        op.drop_column("coverages", column)
