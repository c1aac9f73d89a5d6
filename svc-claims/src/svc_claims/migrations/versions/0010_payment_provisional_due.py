"""A benefit payment's due date marked provisional when it touches a year whose holidays are not yet
published, as reimbursements' are (0009); the deadline scan computes those again once the year's
table is loaded.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("benefit_payments", sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_benefit_payments_provisional_due", "benefit_payments", ["due_on"], postgresql_where=sa.text("due_provisional"))
    # Open payments accepted before this revision whose due date lies past the bundled calendar (2004–2026)
    # were computed on weekends only: marked, so the scan computes them again (unchanged if nothing moved).
    op.execute(
        "UPDATE benefit_payments SET due_provisional = true, document = jsonb_set(document, '{due_provisional}', 'true') "
        "WHERE due_on >= DATE '2027-01-01' AND status IN ('accepted', 'approved')"
    )


def downgrade() -> None:
    op.drop_index("ix_benefit_payments_provisional_due", table_name="benefit_payments")
    op.drop_column("benefit_payments", "due_provisional")
