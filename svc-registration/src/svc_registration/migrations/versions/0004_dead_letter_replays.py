"""Who replayed which dead letter, when and why (the ops page's audited replay).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from shared.tables import create_dead_letter_replays_v1, drop_dead_letter_replays_v1

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dead_letter_replays_v1(op)


def downgrade() -> None:
    drop_dead_letter_replays_v1(op)
