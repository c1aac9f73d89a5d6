"""The registry of designated institutions and the applications for designation.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from svc_facility.models import applications, registry

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    registry.create(bind)
    applications.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    applications.drop(bind)
    registry.drop(bind)
