"""The 参保凭证 carries what the paper one does: the person's sex from registration's record (kept in
the coverage projection) and a verification code the public page looks up. Certificates issued
before get a code of their own (random, from gen_random_uuid), in the column and the document.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coverages", sa.Column("sex", sa.String(6)))
    op.add_column("certificates", sa.Column("verification_code", sa.String(16)))
    op.execute(
        """
        UPDATE certificates SET verification_code = fresh.code,
               document = jsonb_set(document, '{verification_code}', to_jsonb(fresh.code))
        FROM (SELECT number, upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)) AS code
              FROM certificates WHERE verification_code IS NULL) AS fresh
        WHERE certificates.number = fresh.number
        """
    )
    op.create_index(
        "uq_certificates_verification_code",
        "certificates",
        ["verification_code"],
        unique=True,
        postgresql_where=sa.text("verification_code IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_certificates_verification_code", table_name="certificates")
    op.drop_column("certificates", "verification_code")
    op.drop_column("coverages", "sex")
