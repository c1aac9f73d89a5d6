"""Special groups with their evidence and validity; the staff record that lets coverage start before
the current contribution month (补登: reason and the contribution papers).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("enrollments", sa.Column("special_group_records", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.add_column("enrollments", sa.Column("late_record", JSONB))


def downgrade() -> None:
    op.drop_column("enrollments", "late_record")
    op.drop_column("enrollments", "special_group_records")
