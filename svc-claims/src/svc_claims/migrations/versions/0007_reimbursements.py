"""Manual reimbursement claims and the receipts they hold (one claim per receipt of a facility).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reimbursements",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("unit_code", sa.String(18), index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("overdue_announced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", JSONB, nullable=False),
    )
    op.create_index("ix_reimbursements_open_due", "reimbursements", ["due_on"],
                    postgresql_where=sa.text("status IN ('accepted', 'reviewed', 'approved')"))  # fmt: skip
    op.create_table(
        "reimbursement_receipts",
        sa.Column("facility_code", sa.String(20), primary_key=True),
        sa.Column("receipt_no", sa.String(60), primary_key=True),
        sa.Column("reimbursement_id", UUID(as_uuid=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("reimbursement_receipts")
    op.drop_table("reimbursements")
