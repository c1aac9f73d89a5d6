"""Transfers: coverage projection, certificates, cases, and the inter-office outbox, inbox and audit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverages",
        sa.Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("benefit_start", sa.Date, nullable=False),
        sa.Column("benefit_end", sa.Date, nullable=False),
        sa.Column("stopped_on", sa.Date),
    )
    op.create_table(
        "certificates",
        sa.Column("number", sa.String(40), primary_key=True),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("document", JSONB, nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("transfer_ref", UUID(as_uuid=True), nullable=False),
        sa.Column("peer_office", sa.String(6)),
        sa.Column("office_code", sa.String(6), nullable=False),
        sa.Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("unit_id", sa.String(40)),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("uq_transfers_side_ref", "transfers", ["side", "transfer_ref"], unique=True)
    op.create_index("ix_transfers_open", "transfers", ["office_code", "closed"])
    op.create_table(
        "interop_outbox",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("peer", sa.String(6), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("transfer_ref", UUID(as_uuid=True), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_interop_outbox_due",
        "interop_outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "interop_inbox",
        sa.Column("sender", sa.String(6), primary_key=True),
        sa.Column("message_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("transfer_ref", UUID(as_uuid=True), nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "interop_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("peer", sa.String(6)),
        sa.Column("message_id", sa.String(40)),
        sa.Column("type", sa.String(30)),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text),
    )


def downgrade() -> None:
    for table in (
        "interop_audit",
        "interop_inbox",
        "interop_outbox",
        "transfers",
        "certificates",
        "coverages",
    ):
        op.drop_table(table)
