"""Open-ended coverage: an employee's benefit period has no end until the unit interrupts it.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("coverages", "benefit_end", nullable=True)


def downgrade() -> None:
    op.execute("UPDATE coverages SET benefit_end = '9999-12-31' WHERE benefit_end IS NULL")
    op.alter_column("coverages", "benefit_end", nullable=False)
