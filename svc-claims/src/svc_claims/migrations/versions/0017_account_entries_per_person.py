"""The personal account's history mirrors registration's ledger: an entry's reference is unique per person
(a contribution notice's reference, notice:<number>, is shared by all of its employees), not across persons.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_account_entries_reference", "account_entries", type_="unique")
    op.create_unique_constraint(
        "account_entries_person_reference", "account_entries", ["person_id", "reference"]
    )


def downgrade() -> None:
    op.drop_constraint("account_entries_person_reference", "account_entries", type_="unique")
    op.create_unique_constraint("uq_account_entries_reference", "account_entries", ["reference"])
