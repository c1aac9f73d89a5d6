"""A reimbursement's due date marked provisional when it touches a year whose holidays are not yet
published; the overdue scan computes those again once the year's table is loaded.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reimbursements", sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_reimbursements_provisional_due", "reimbursements", ["due_on"], postgresql_where=sa.text("due_provisional"))
    # Open claims accepted before this revision whose due date lies past the bundled calendar (2004–2026)
    # were computed on weekends only: marked, so the scan computes them again (unchanged if nothing moved).
    op.execute(
        "UPDATE reimbursements SET due_provisional = true, document = jsonb_set(document, '{due_provisional}', 'true') "
        "WHERE due_on >= DATE '2027-01-01' AND status IN ('accepted', 'reviewed', 'approved')"
    )


def downgrade() -> None:
    op.drop_index("ix_reimbursements_provisional_due", table_name="reimbursements")
    op.drop_column("reimbursements", "due_provisional")
