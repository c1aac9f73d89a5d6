"""Who changed a registry record, when and why.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from svc_facility.models import registry_history

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    registry_history.create(op.get_bind())


def downgrade() -> None:
    registry_history.drop(op.get_bind())
