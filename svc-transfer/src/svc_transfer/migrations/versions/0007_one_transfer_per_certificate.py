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
    # Certificates issued twice for one stopped coverage before this revision: one is kept (a transferred
    # one if any, else the earliest), the others are superseded (a letter naming them is rejected).
    op.execute(
        """
        UPDATE certificates c
           SET status = 'superseded', document = jsonb_set(c.document, '{status}', '"superseded"')
          FROM (SELECT number, row_number() OVER (PARTITION BY person_id, coverage_ended_on
                                                  ORDER BY (status = 'transferred') DESC, issued_on, number) AS n
                  FROM certificates) d
         WHERE c.number = d.number AND d.n > 1
        """
    )
    # The same stopped coverage gets one certificate (a lost one is reissued with the same number).
    op.create_index(
        "uq_certificates_person_coverage",
        "certificates",
        ["person_id", "coverage_ended_on"],
        unique=True,
        postgresql_where=sa.text("status <> 'superseded'"),
    )
    op.add_column("transfers", sa.Column("certificate_number", sa.String(40)))
    op.execute(
        "UPDATE transfers SET certificate_number = document->'certificate'->>'number' "
        "WHERE side <> 'outgoing' OR status = 'rejected'"
    )
    # Transfers out that already shared a certificate stay as they are (history); the first holds it.
    op.execute(
        """
        UPDATE transfers t SET certificate_number = d.number
          FROM (SELECT id, document->'certificate'->>'number' AS number,
                       row_number() OVER (PARTITION BY document->'certificate'->>'number'
                                          ORDER BY (status = 'transferred_out') DESC, updated_at, id) AS n
                  FROM transfers WHERE side = 'outgoing' AND status <> 'rejected') d
         WHERE t.id = d.id AND d.n = 1
        """
    )
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
