"""Who read or changed which record (append-only access audit, PIPL).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from shared.tables import create_access_audit_v1, drop_access_audit_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_access_audit_v1(op)


def downgrade() -> None:
    drop_access_audit_v1(op)
