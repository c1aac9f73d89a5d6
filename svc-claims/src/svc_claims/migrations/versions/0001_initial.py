"""Initial claims schema: infrastructure tables and the coverage projection.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from shared.tables import create_infrastructure_v1, drop_infrastructure_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infrastructure_v1(op)
    op.create_table(
        "coverages",
        sa.Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(20)),
        sa.Column("benefit_start", sa.Date, nullable=False),
        sa.Column("benefit_end", sa.Date, nullable=False),
        sa.Column("source_event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )


def downgrade() -> None:
    op.drop_table("coverages")
    drop_infrastructure_v1(op)
