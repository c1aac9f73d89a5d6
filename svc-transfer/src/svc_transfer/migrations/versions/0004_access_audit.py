"""Who read or changed which record (append-only access audit, PIPL).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from shared.tables import create_access_audit_v1, drop_access_audit_v1

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_access_audit_v1(op)


def downgrade() -> None:
    drop_access_audit_v1(op)
