"""Money integrity: the coverage projection keeps the person's sex and each special group's evidence and
validity (registration.approved); a maternity event (a pregnancy's prenatal checks, its delivery or
termination, an operation on a day …) is claimed once (natural key, UNIQUE).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coverages", sa.Column("sex", sa.String(6)))
    op.add_column(
        "coverages",
        sa.Column("special_group_records", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_table(
        "maternity_events",
        sa.Column("person_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_key", sa.String(120), primary_key=True),
        sa.Column("payment_id", UUID(as_uuid=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("maternity_events")
    op.drop_column("coverages", "special_group_records")
    op.drop_column("coverages", "sex")
