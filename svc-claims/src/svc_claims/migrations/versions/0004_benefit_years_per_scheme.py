"""Accumulators per person, scheme and year (deductibles, caps and ratios count separately per scheme).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows written before this revision were all resident bills (the only policy then on file).
    op.add_column("benefit_years", sa.Column("scheme", sa.String(20), nullable=False, server_default="resident"))
    op.alter_column("benefit_years", "scheme", server_default=None)
    op.drop_constraint("pk_benefit_years", "benefit_years", type_="primary")
    op.create_primary_key("pk_benefit_years", "benefit_years", ["person_id", "scheme", "year"])
    op.add_column("benefit_settlements", sa.Column("scheme", sa.String(20), nullable=False, server_default="resident"))
    op.alter_column("benefit_settlements", "scheme", server_default=None)


def downgrade() -> None:
    op.drop_column("benefit_settlements", "scheme")
    op.execute("DELETE FROM benefit_years WHERE scheme <> 'resident'")
    op.drop_constraint("pk_benefit_years", "benefit_years", type_="primary")
    op.create_primary_key("pk_benefit_years", "benefit_years", ["person_id", "year"])
    op.drop_column("benefit_years", "scheme")
