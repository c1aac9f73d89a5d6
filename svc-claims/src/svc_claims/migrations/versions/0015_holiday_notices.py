"""Holiday notices (the State Council's yearly arrangement of holidays and adjusted working days) administered
as data: drafted by one admin, published by another; a published notice can be neither changed nor deleted.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_notices",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("drafted_by", sa.String(100), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("review_note", sa.Text),
        sa.Column("published_by", sa.String(100)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('draft', 'published')", name="holiday_notices_status"),
        # Four eyes, kept by the database too: the publisher is never the drafter.
        sa.CheckConstraint("status = 'draft' OR (published_by IS NOT NULL AND published_by <> drafted_by AND version IS NOT NULL)",
                           name="holiday_notices_four_eyes"),
    )  # fmt: skip
    # A year may get a later notice (a correction); each published one has its own number, the latest wins.
    op.create_index("holiday_notices_one_number", "holiday_notices", ["year", "version"], unique=True,
                    postgresql_where=sa.text("version IS NOT NULL"))  # fmt: skip
    op.execute("""
        CREATE FUNCTION holiday_notices_published_are_immutable() RETURNS trigger AS $$
        BEGIN
            IF OLD.status = 'published' THEN
                RAISE EXCEPTION 'published holiday notice % is immutable', OLD.id USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER holiday_notices_immutable BEFORE UPDATE OR DELETE ON holiday_notices
        FOR EACH ROW EXECUTE FUNCTION holiday_notices_published_are_immutable()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER holiday_notices_immutable ON holiday_notices")
    op.execute("DROP FUNCTION holiday_notices_published_are_immutable()")
    op.drop_table("holiday_notices")
