"""Tables of the registration schema."""

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, Numeric, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import new_metadata
from shared.tables import access_audit, dead_letter_replays, facility_projection

metadata = new_metadata()

persons = Table(
    "persons",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("id_type", String(40), nullable=False),
    Column("id_number", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("sex", String(10)),
    Column("birth_date", Date),
    Column("office_code", String(12), nullable=False),
    Column("phone", String(30)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
Index("uq_persons_identity", persons.c.id_type, persons.c.id_number, unique=True)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("tier", String(20)),
    Column("coverage_year", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("submitted_by", String(120), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("decisions", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("unit_code", String(18), index=True),
    Column("category", String(20)),
    Column("special_groups", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("benefit_start", Date, nullable=False),
    Column("benefit_end", Date),  # NULL: open-ended (employee coverage until interrupted)
    Column("period_rule", String(40), nullable=False),
    Column("period_explanation", String(200), nullable=False),
    Column("paid_on", Date),
    Column("previous_id", UUID(as_uuid=True)),  # the interrupted enrollment this one resumes
    Column("filer", JSONB),  # collective filing: the school, village, welfare institution or township
    Column("handling", JSONB),  # counter or online; the papers received; the proxy (domain.materials)
    # Each special group with its certifying department, document number and validity (special_groups: their codes).
    Column("special_group_records", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # Coverage starting before the current contribution month: the clerk's reason and papers (domain.backdating).
    Column("late_record", JSONB),
)
# No duplicate enrollment (不允许重复参保) is checked on overlapping periods under a per-person lock
# (usecases.lock_person): a partial unique index cannot express "overlapping".

units = Table(
    "units",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(18), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("legal_representative", String(100), nullable=False),
    Column("office_code", String(12), nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("registered_by", String(120), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("changes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("handling", JSONB),
)

# Contribution history brought by a completed transfer-in (transfer.completed): merged into the
# person's record here; the coverage itself is the enrollment the person already holds here.
transferred_contributions = Table(
    "transferred_contributions",
    metadata,
    Column("transfer_id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("from_office", String(12)),
    Column("contribution_months", Integer, nullable=False),
    Column("account_balance", Numeric(14, 2), nullable=False),
    Column("completed_on", Date, nullable=False),
)

# Projection of facility's registry events: which institutions are designated, for which programmes.
facilities = facility_projection(
    metadata,
    Column("level", Integer),
    Column("programmes", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

benefit_registrations = Table(
    "benefit_registrations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("facility_codes", JSONB, nullable=False),
    Column("status", String(20), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("registered_by", String(120), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("replaced_by", UUID(as_uuid=True)),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)

# The universal-enrollment drive (全民参保): department lists and their rows matched against enrollment.
drive_lists = Table(
    "drive_lists",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("source_department", String(100), nullable=False),
    Column("office_code", String(12), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("uploaded_by", String(120), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("counts", JSONB, nullable=False),
)
Index("ix_drive_lists_office_kind", drive_lists.c.office_code, drive_lists.c.kind, drive_lists.c.uploaded_at)

drive_rows = Table(
    "drive_rows",
    metadata,
    Column("list_id", UUID(as_uuid=True), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("id_masked", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("township_code", String(20)),
    Column("township_name", String(100)),
    Column("death_date", Date),
    Column("school", String(200)),
    Column("finding", String(20), nullable=False),
    Column("ended_enrollments", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
)
Index("ix_drive_rows_list_finding", drive_rows.c.list_id, drive_rows.c.finding, drive_rows.c.row_no)

# 参保凭证 issued by svc-transfer (transfer.certificate_issued), shown on the person's record here.
certificates = Table(
    "certificates",
    metadata,
    Column("number", String(30), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(12), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("coverage_ended_on", Date, nullable=False),
    Column("contribution_months", Integer, nullable=False),
    Column("account_balance", Numeric(14, 2), nullable=False),
    Column("arrears", Numeric(14, 2), nullable=False),
    Column("reissues", Integer, nullable=False, server_default=text("0")),
)

# Employee-scheme money (domain.contributions): bases declared by the unit, monthly notices (征缴单)
# with one line per insured enrollment, payments from the bank's or tax system's file, and the
# personal account's history (the balance is its sum).
contribution_bases = Table(
    "contribution_bases",
    metadata,
    Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
    Column("effective_from", Date, primary_key=True),  # the first month the declared wage applies to
    Column("declared_wage", Numeric(14, 2), nullable=False),
    Column("declared_by", String(120), nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False),
)

contribution_notices = Table(
    "contribution_notices",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(60), nullable=False, unique=True),
    Column("payer_kind", String(10), nullable=False),  # unit | person (a flexible worker)
    Column("payer_code", String(40), nullable=False),  # the unit's credit code or the person's id (hex)
    Column("office_code", String(12), nullable=False),
    Column("month", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("total", Numeric(16, 2), nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("sample", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # issued | paid
    Column("issued_by", String(120), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("paid_on", Date),
    Column("late_fee", Numeric(14, 2)),
    Column("bank_reference", String(60)),
    Column("interrupted_on", Date),  # coverage interrupted for want of payment (once)
    # 1: the month's notice; 2, 3 …: supplementary notices (补收) for employees added after it was issued.
    Column("sequence", Integer, nullable=False, server_default=text("1")),
)
# One notice per payer, month and sequence (征缴单唯一).
Index("uq_contribution_notices_payer_month", contribution_notices.c.payer_kind, contribution_notices.c.payer_code,
      contribution_notices.c.month, contribution_notices.c.sequence, unique=True)  # fmt: skip
Index(
    "ix_contribution_notices_office_month", contribution_notices.c.office_code, contribution_notices.c.month
)
Index("ix_contribution_notices_unpaid", contribution_notices.c.due_on,
      postgresql_where=text("status = 'issued' AND interrupted_on IS NULL"))  # fmt: skip

contribution_lines = Table(
    "contribution_lines",
    metadata,
    Column("notice_id", UUID(as_uuid=True), primary_key=True),
    Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("base", Numeric(14, 2), nullable=False),
    Column("unit_part", Numeric(14, 2), nullable=False),
    Column("personal_part", Numeric(14, 2), nullable=False),
    Column("account_credit", Numeric(14, 2), nullable=False),
    Column("month", Date, nullable=False),
)
# Each enrollment is charged once a month, whichever notice charges it.
Index(
    "uq_contribution_lines_enrollment_month",
    contribution_lines.c.enrollment_id,
    contribution_lines.c.month,
    unique=True,
)

# A payment as the collecting bank or tax system reported it; its reference is the natural key.
contribution_payments = Table(
    "contribution_payments",
    metadata,
    Column("bank_reference", String(60), primary_key=True),
    Column("notice_id", UUID(as_uuid=True), nullable=False, unique=True),  # a notice is paid once
    Column("amount", Numeric(16, 2), nullable=False),
    Column("late_fee", Numeric(14, 2), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("imported_by", String(120), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

account_entries = Table(
    "account_entries",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("reference", String(80), primary_key=True),  # notice, transfer or withdrawal: each booked once
    Column("kind", String(20), nullable=False),  # contribution | transfer_in | withdrawal
    Column("amount", Numeric(14, 2), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("month", Date),  # contributions: the month paid for
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Dead letters an administrator replayed from the ops page (shared.ops; append-only).
dead_letter_replays.to_metadata(metadata)

# Who read or changed which record (shared.http.audit; append-only).
access_audit.to_metadata(metadata)
