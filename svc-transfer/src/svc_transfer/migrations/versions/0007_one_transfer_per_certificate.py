"""Money moved once: one certificate per stopped coverage, one transfer out per certificate; the
coverage projection keeps the unit of each enrollment (certificates are drawn from it).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coverages", sa.Column("unit_code", sa.String(40)))
    op.add_column("certificates", sa.Column("coverage_ended_on", sa.Date))
    op.execute("UPDATE certificates SET coverage_ended_on = (document->>'coverage_ended_on')::date")
    op.alter_column("certificates", "coverage_ended_on", nullable=False)
    # The same stopped coverage gets one certificate (a lost one is reissued with the same number).
    op.create_index(
        "uq_certificates_person_coverage", "certificates", ["person_id", "coverage_ended_on"], unique=True
    )
    op.add_column("transfers", sa.Column("certificate_number", sa.String(40)))
    op.execute("UPDATE transfers SET certificate_number = document->'certificate'->>'number'")
    # One transfer out per certificate, whatever the procedure or the letters' references: a rejected
    # letter does not hold the certificate.
    op.create_index(
        "uq_transfers_outgoing_certificate",
        "transfers",
        ["certificate_number"],
        unique=True,
        postgresql_where=sa.text("side = 'outgoing' AND status <> 'rejected'"),
    )


def downgrade() -> None:
    op.drop_index("uq_transfers_outgoing_certificate", "transfers")
    op.drop_column("transfers", "certificate_number")
    op.drop_index("uq_certificates_person_coverage", "certificates")
    op.drop_column("certificates", "coverage_ended_on")
    op.drop_column("coverages", "unit_code")
