"""Tables of the claims schema."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import new_metadata
from shared.tables import access_audit, facility_projection

metadata = new_metadata()

# Projection of registration's events: one row per enrollment that grants coverage.
coverages = Table(
    "coverages",
    metadata,
    Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("tier", String(20)),
    Column("benefit_start", Date, nullable=False),
    Column("benefit_end", Date),  # NULL: open-ended (employee coverage)
    Column("unit_code", String(18), index=True),
    Column("category", String(20)),
    Column("special_groups", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # Each group with its evidence and validity (registration.approved special_group_records): a group
    # applies on a service date inside its validity. Empty from older events: special_groups stand alone.
    Column("special_group_records", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column(
        "sex", String(6)
    ),  # male | female, from the person's record (maternity items are per sex); NULL: unknown
    Column("ended_reason", String(30)),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Projection of registration.benefit_registered / benefit_expired: what a person's registrations add.
entitlements = Table(
    "entitlements",
    metadata,
    Column("registration_id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("facility_codes", JSONB, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("status", String(20), nullable=False),
    Column("details", JSONB, nullable=False),
)

# Per person, scheme and benefit year: the year's entitlements and what settled bills have used
# (deductible, caps, stays …; the JSON of ``domain.benefits.Accumulators``). The row is locked
# (SELECT … FOR UPDATE) while a bill is settled, so two bills of one person never both take the
# deductible or together pass a cap. Schemes count separately (seed 001 九.3).
benefit_years = Table(
    "benefit_years",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("scheme", String(20), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("accumulators", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Settled bills (待遇结算): the request, the explained bill and who settled it (append-only).
benefit_settlements = Table(
    "benefit_settlements",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("scheme", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("request", JSONB, nullable=False),
    Column("bill", JSONB, nullable=False),
    Column("settled_by", String(120), nullable=False),
    Column("settled_at", DateTime(timezone=True), nullable=False),
)

# Who read or changed which record (shared.http.audit; append-only).
access_audit.to_metadata(metadata)

# Manual reimbursement claims (domain.reimbursement: the aggregate as JSON, key columns for queries;
# shared.documents.DocumentStore saves at the loaded version).
reimbursements = Table(
    "reimbursements",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("unit_code", String(18), index=True),
    Column("status", String(20), nullable=False),
    Column("due_on", Date),
    Column(
        "due_provisional", Boolean, nullable=False, server_default=false()
    ),  # computed before the year's holidays were known
    Column("overdue_announced", Boolean, nullable=False, server_default=false()),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
Index(
    "ix_reimbursements_provisional_due",
    reimbursements.c.due_on,
    postgresql_where=reimbursements.c.due_provisional,
)
Index(
    "ix_reimbursements_open_due",
    reimbursements.c.due_on,
    postgresql_where=reimbursements.c.status.in_(["accepted", "reviewed", "approved"]),
)

# Each receipt of a facility is reimbursed once: a second filing of it is refused (freed on rejection).
reimbursement_receipts = Table(
    "reimbursement_receipts",
    metadata,
    Column("facility_code", String(20), primary_key=True),
    Column("receipt_no", String(60), primary_key=True),
    Column("reimbursement_id", UUID(as_uuid=True), nullable=False, index=True),
)

# Benefit payments computed by rule (domain.payment): maternity and the account withdrawal.
benefit_payments = Table(
    "benefit_payments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("unit_code", String(18), index=True),
    Column("kind", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("due_on", Date),
    Column(
        "due_provisional", Boolean, nullable=False, server_default=false()
    ),  # computed before the year's holidays were known
    Column("overdue_announced", Boolean, nullable=False, server_default=false()),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
Index(
    "ix_benefit_payments_provisional_due",
    benefit_payments.c.due_on,
    postgresql_where=benefit_payments.c.due_provisional,
)

# The personal account's history (domain.account) as registration booked it (registration.account_credited /
# account_debited, each entry once per person and reference) plus the withdrawals claims paid, booked under the
# reference registration debits them with: its sum is the balance a withdrawal pays.
account_entries = Table(
    "account_entries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("reference", String(80), nullable=False),
    UniqueConstraint("person_id", "reference", name="account_entries_person_reference"),
)

# Projection of facility's registry events (the newest version wins): a reimbursement names a facility of
# the region, and is computed at the level the registry gives it.
facilities = facility_projection(metadata, Column("level", Integer))

# Each maternity event is paid once (natural key per person): a pregnancy's prenatal checks, its delivery or
# termination, each delivery item and the allowance; an operation on a day. Freed when the payment is rejected.
maternity_events = Table(
    "maternity_events",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("event_key", String(120), primary_key=True),
    Column("payment_id", UUID(as_uuid=True), nullable=False, index=True),
)


def four_eyes_columns() -> list[Column]:  # type: ignore[type-arg]
    """Who drafted, reviewed and published a version: the columns of every record that one admin drafts
    and another publishes (policy versions, holiday notices)."""
    return [
        Column("drafted_by", String(100), nullable=False),
        Column("drafted_at", DateTime(timezone=True), nullable=False),
        Column("reviewed_by", String(100)),
        Column("review_note", Text),
        Column("published_by", String(100)),
        Column("published_at", DateTime(timezone=True)),
    ]


# Benefit policies administered as data (svc_claims.usecases.policies): a version is a whole document for
# a region, scheme and year; published versions never change (a trigger refuses it, migration 0014).
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(20), nullable=False),  # benefit, maternity or maternity_allowance
    Column("region", String(6), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("version", Integer),  # given when published
    Column("status", String(12), nullable=False),  # draft | published
    Column("title", Text, nullable=False),
    Column("document", JSONB, nullable=False),
    *four_eyes_columns(),
    Index("policy_versions_in_force", "kind", "region", "scheme", "year", "effective_from"),
    # Two published versions never start on the same day, nor share a number.
    Index(
        "policy_versions_one_start",
        "kind",
        "region",
        "scheme",
        "effective_from",
        unique=True,
        postgresql_where=text("status = 'published'"),
    ),
    Index(
        "policy_versions_one_number",
        "kind",
        "region",
        "scheme",
        "year",
        "version",
        unique=True,
        postgresql_where=text("version IS NOT NULL"),
    ),
)

# The State Council's yearly holiday notices administered as data (svc_claims.usecases.holiday_notices):
# drafted by one admin, published by another, numbered per year, immutable (migration 0015).
holiday_notices = Table(
    "holiday_notices",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("version", Integer),  # given when published
    Column("status", String(12), nullable=False),  # draft | published
    Column("source", Text, nullable=False),  # the notice's number, e.g. 国办发明电〔2026〕7号
    Column("document", JSONB, nullable=False),  # shared.calendar.YearTable
    *four_eyes_columns(),
    Index(
        "holiday_notices_one_number",
        "year",
        "version",
        unique=True,
        postgresql_where=text("version IS NOT NULL"),
    ),
)
