"""Universal-enrollment drive: department lists and their matched rows; the certificates of coverage
(参保凭证) transfer issued, shown on the person's record.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drive_lists",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("source_department", sa.String(100), nullable=False),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("uploaded_by", sa.String(120), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("counts", JSONB, nullable=False),
    )
    op.create_index("ix_drive_lists_office_kind", "drive_lists", ["office_code", "kind", "uploaded_at"])
    op.create_table(
        "drive_rows",
        sa.Column("list_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("row_no", sa.Integer, primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("id_masked", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("township_code", sa.String(20)),
        sa.Column("township_name", sa.String(100)),
        sa.Column("death_date", sa.Date),
        sa.Column("school", sa.String(200)),
        sa.Column("finding", sa.String(20), nullable=False),
        sa.Column("ended_enrollments", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_index("ix_drive_rows_list_finding", "drive_rows", ["list_id", "finding", "row_no"])
    op.create_table(
        "certificates",
        sa.Column("number", sa.String(30), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(12), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("coverage_ended_on", sa.Date, nullable=False),
        sa.Column("contribution_months", sa.Integer, nullable=False),
        sa.Column("account_balance", sa.Numeric(14, 2), nullable=False),
        sa.Column("arrears", sa.Numeric(14, 2), nullable=False),
        sa.Column("reissues", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_table("certificates")
    op.drop_table("drive_rows")
    op.drop_table("drive_lists")
