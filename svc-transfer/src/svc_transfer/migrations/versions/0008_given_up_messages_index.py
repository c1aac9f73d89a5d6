"""Messages refused for good or given up are counted per peer on every /health and ops read: a
partial index keeps that count off the delivered history.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_interop_outbox_given_up ON interop_outbox (peer)"
        " WHERE status IN ('refused', 'dead')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_interop_outbox_given_up")
