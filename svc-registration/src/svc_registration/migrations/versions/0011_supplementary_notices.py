"""Supplementary contribution notices (补收): an employee added after the month's notice is charged on a
second notice of the same month (sequence 2, 3 …); each enrollment is charged once a month, whichever
notice charges it (UNIQUE enrollment and month on the lines).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "contribution_notices", sa.Column("sequence", sa.Integer, nullable=False, server_default=sa.text("1"))
    )
    op.drop_index("uq_contribution_notices_payer_month", table_name="contribution_notices")
    op.create_index(
        "uq_contribution_notices_payer_month",
        "contribution_notices",
        ["payer_kind", "payer_code", "month", "sequence"],
        unique=True,
    )
    op.add_column("contribution_lines", sa.Column("month", sa.Date))
    op.execute(
        "UPDATE contribution_lines l SET month = n.month FROM contribution_notices n WHERE n.id = l.notice_id"
    )
    op.alter_column("contribution_lines", "month", nullable=False)
    op.create_index(
        "uq_contribution_lines_enrollment_month",
        "contribution_lines",
        ["enrollment_id", "month"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_contribution_lines_enrollment_month", table_name="contribution_lines")
    op.drop_column("contribution_lines", "month")
    op.drop_index("uq_contribution_notices_payer_month", table_name="contribution_notices")
    op.execute("DELETE FROM contribution_notices WHERE sequence > 1")
    op.create_index(
        "uq_contribution_notices_payer_month",
        "contribution_notices",
        ["payer_kind", "payer_code", "month"],
        unique=True,
    )
    op.drop_column("contribution_notices", "sequence")
