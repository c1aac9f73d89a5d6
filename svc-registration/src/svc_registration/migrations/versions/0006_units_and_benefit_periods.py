"""Units, employee and flexible enrollments, stored benefit periods.

Benefit periods are no longer whole calendar years (late payment, newborns, pupils, employees), so
each enrollment stores its period. Duplicate enrollment is now a question of overlapping periods,
checked under a per-person lock, which replaces the one-per-year unique index.

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


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.String(18), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("legal_representative", sa.String(100), nullable=False),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("registered_by", sa.String(120), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("handling", JSONB),
    )
    op.add_column("enrollments", sa.Column("unit_code", sa.String(18), index=True))
    op.add_column("enrollments", sa.Column("category", sa.String(20)))
    op.add_column("enrollments", sa.Column("special_groups", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.add_column("enrollments", sa.Column("benefit_start", sa.Date))
    op.add_column("enrollments", sa.Column("benefit_end", sa.Date))
    op.add_column("enrollments", sa.Column("period_rule", sa.String(40)))
    op.add_column("enrollments", sa.Column("period_explanation", sa.String(200)))
    op.add_column("enrollments", sa.Column("paid_on", sa.Date))
    op.add_column("enrollments", sa.Column("previous_id", UUID(as_uuid=True)))
    op.add_column("enrollments", sa.Column("filer", JSONB))
    op.add_column("enrollments", sa.Column("handling", JSONB))
    op.execute(
        "UPDATE enrollments SET benefit_start = make_date(coverage_year, 1, 1), benefit_end = make_date(coverage_year, 12, 31),"
        " period_rule = 'regular', period_explanation = '集中参保期缴费：次年1月1日至12月31日'"
    )
    op.alter_column("enrollments", "benefit_start", nullable=False)
    op.alter_column("enrollments", "period_rule", nullable=False)
    op.alter_column("enrollments", "period_explanation", nullable=False)
    op.drop_index("uq_enrollments_one_active", table_name="enrollments")
    op.create_table(
        "transferred_contributions",
        sa.Column("transfer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("from_office", sa.String(12)),
        sa.Column("contribution_months", sa.Integer, nullable=False),
        sa.Column("account_balance", sa.Numeric(14, 2), nullable=False),
        sa.Column("completed_on", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.create_index(
        "uq_enrollments_one_active", "enrollments", ["person_id", "coverage_year"], unique=True,
        postgresql_where=sa.text("status IN ('submitted', 'approved')"),
    )  # fmt: skip
    for column in ("handling", "filer", "previous_id", "paid_on", "period_explanation", "period_rule", "benefit_end", "benefit_start", "special_groups", "category", "unit_code"):
        op.drop_column("enrollments", column)
    op.drop_table("transferred_contributions")
    op.drop_table("units")
