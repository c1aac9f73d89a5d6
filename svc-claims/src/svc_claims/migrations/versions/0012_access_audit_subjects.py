"""The access audit names whose data a request touched and what for; the table is sealed (owned by
the audit role: this service may only insert and read it).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

from shared.tables import add_access_audit_subjects_v2

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_access_audit_subjects_v2(op)


def downgrade() -> None:
    # A sealed audit table is not this service's to change any more (kept at least six months).
    raise NotImplementedError("the access audit is sealed; only the database administrator may change it")
