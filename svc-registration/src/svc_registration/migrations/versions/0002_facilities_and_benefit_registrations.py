"""Facility projection and benefit registrations.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from svc_registration.models import benefit_registrations, facilities

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    facilities.create(bind)
    benefit_registrations.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    benefit_registrations.drop(bind)
    facilities.drop(bind)
