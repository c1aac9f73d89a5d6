"""Who read or changed which record (append-only access audit, PIPL).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from shared.tables import create_access_audit_v1, drop_access_audit_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_access_audit_v1(op)


def downgrade() -> None:
    drop_access_audit_v1(op)
