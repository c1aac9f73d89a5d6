"""Settlement in order: adjustment lines and the payable amount of a table; the ledger of payments, with each
month's table (so each declaration version) paid once.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(16, 2)


def upgrade() -> None:
    op.add_column("clearings", sa.Column("adjustments", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.add_column("clearings", sa.Column("payable", MONEY))
    op.execute("UPDATE clearings SET payable = (lines->>'41')::numeric")
    op.alter_column("clearings", "payable", nullable=False)
    op.create_table(
        "payments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("clearing_id", UUID(as_uuid=True), nullable=False),
        sa.Column("facility_code", sa.String(20), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("insurance_type", sa.String(20), nullable=False),
        sa.Column("care_type", sa.String(20), nullable=False),
        sa.Column("declaration_version", sa.Integer),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("order_no", sa.String(40), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("paid_by", sa.String(120), nullable=False),
        sa.UniqueConstraint("clearing_id", "period", name="uq_payments_table_pays_a_month_once"),
        sa.CheckConstraint("kind IN ('table', 'adjustment')", name="ck_payments_kind"),
    )
    op.create_index("uq_payments_month_table_once", "payments", ["facility_code", "insurance_type", "care_type", "period"],
                    unique=True, postgresql_where=sa.text("kind = 'table'"))  # fmt: skip
    op.create_index("uq_payments_declaration_version_once", "payments",
                    ["facility_code", "insurance_type", "care_type", "period", "declaration_version"],
                    unique=True, postgresql_where=sa.text("kind = 'table'"), postgresql_nulls_not_distinct=True)  # fmt: skip
    # Tables paid before the ledger existed.
    op.execute("""
        INSERT INTO payments (id, clearing_id, facility_code, period, insurance_type, care_type, declaration_version, kind, amount,
                              order_no, paid_on, paid_by)
        SELECT gen_random_uuid(), id, facility_code, period, insurance_type, care_type, declaration_version, 'table',
               (lines->>'41')::numeric, payment->>'order_no', (payment->>'paid_on')::date, coalesce(payment->>'ordered_by', '')
        FROM clearings WHERE status = 'paid' AND payment IS NOT NULL
    """)


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_column("clearings", "payable")
    op.drop_column("clearings", "adjustments")
