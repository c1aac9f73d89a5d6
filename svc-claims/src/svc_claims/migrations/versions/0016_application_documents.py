"""Reimbursements and benefit payments stored through shared.documents.DocumentStore: the aggregate's
version beside the document (a save replaces the row only at the version it was loaded at) and when
it was last saved. Existing rows take the version their document holds.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("reimbursements", "benefit_payments")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        op.add_column(
            table,
            sa.Column(
                "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
            ),
        )
        op.execute(f"UPDATE {table} SET version = (document->>'version')::int, updated_at = filed_at")


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "updated_at")
        op.drop_column(table, "version")
