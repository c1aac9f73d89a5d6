"""Initial registration schema: infrastructure tables, persons, enrollments.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.tables import create_infrastructure_tables, drop_infrastructure_tables
from svc_registration.models import enrollments, persons

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_infrastructure_tables(bind)
    persons.create(bind)
    enrollments.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    enrollments.drop(bind)
    persons.drop(bind)
    drop_infrastructure_tables(bind)
