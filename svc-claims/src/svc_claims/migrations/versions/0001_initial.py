"""Initial claims schema: infrastructure tables and the coverage projection.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.tables import create_infrastructure_tables, drop_infrastructure_tables
from svc_claims.models import coverages

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_infrastructure_tables(bind)
    coverages.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    coverages.drop(bind)
    drop_infrastructure_tables(bind)
