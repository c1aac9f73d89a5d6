"""Initial settlement schema: the infrastructure tables.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.tables import create_infrastructure_v1, drop_infrastructure_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infrastructure_v1(op)


def downgrade() -> None:
    drop_infrastructure_v1(op)
