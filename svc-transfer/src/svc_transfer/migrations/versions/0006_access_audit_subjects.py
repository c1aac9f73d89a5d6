"""The access audit names whose data a request touched and what for; the inter-office audit takes
any sender, message id and type a refused message claims (no refusal lost to a column's width) and
is append-only; both tables are sealed (owned by the audit role: this service may only insert and
read them).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from shared.tables import add_access_audit_subjects_v2, append_only_statements, seal_audit_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_access_audit_subjects_v2(op)
    for column in ("peer", "message_id", "type"):
        op.alter_column("interop_audit", column, type_=sa.Text())
    for statement in append_only_statements("interop_audit"):
        op.execute(statement)
    seal_audit_table(op, "interop_audit")


def downgrade() -> None:
    # A sealed audit table is not this service's to change any more (kept at least six months).
    raise NotImplementedError("the access audit is sealed; only the database administrator may change it")
