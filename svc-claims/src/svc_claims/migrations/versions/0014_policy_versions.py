"""Benefit policies administered as data: versions drafted by one admin and published by another;
a published version can be neither changed nor deleted.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("drafted_by", sa.String(100), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("review_note", sa.Text),
        sa.Column("published_by", sa.String(100)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('draft', 'published')", name="policy_versions_status"),
        # Four eyes, kept by the database too: the publisher is never the drafter.
        sa.CheckConstraint("status = 'draft' OR (published_by IS NOT NULL AND published_by <> drafted_by AND version IS NOT NULL)",
                           name="policy_versions_four_eyes"),
    )
    op.create_index("policy_versions_in_force", "policy_versions", ["kind", "region", "scheme", "year", "effective_from"])
    op.create_index("policy_versions_one_start", "policy_versions", ["kind", "region", "scheme", "effective_from"],
                    unique=True, postgresql_where=sa.text("status = 'published'"))  # fmt: skip
    op.create_index("policy_versions_one_number", "policy_versions", ["kind", "region", "scheme", "year", "version"],
                    unique=True, postgresql_where=sa.text("version IS NOT NULL"))  # fmt: skip
    # A bill names the version it was computed with: a published version never changes or disappears.
    op.execute("""
        CREATE FUNCTION policy_versions_published_are_immutable() RETURNS trigger AS $$
        BEGIN
            IF OLD.status = 'published' THEN
                RAISE EXCEPTION 'published policy version % is immutable', OLD.id USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
        FOR EACH ROW EXECUTE FUNCTION policy_versions_published_are_immutable()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER policy_versions_immutable ON policy_versions")
    op.execute("DROP FUNCTION policy_versions_published_are_immutable()")
    op.drop_table("policy_versions")
