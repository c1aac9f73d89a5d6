"""Tables of the transfer schema."""

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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db import new_metadata
from shared.tables import access_audit, chain_columns, dead_letter_replays

metadata = new_metadata()

# Projection of registration's events: who is covered here, and whose coverage was stopped.
coverages = Table(
    "coverages",
    metadata,
    Column("enrollment_id", UUID(as_uuid=True), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(6), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # active | stopped
    Column("benefit_start", Date, nullable=False),
    Column("benefit_end", Date),  # NULL: open-ended (employee coverage)
    Column("stopped_on", Date),
    Column(
        "unit_code", String(40)
    ),  # the employer of an employee enrollment (a certificate's period names it)
    Column("sex", String(6)),  # male | female as registration's record has it (NULL: not told)
)

# Projection of registration's personal accounts (registration.account_credited / _debited): the
# balance after the newest entry, which a certificate states.
accounts = Table(
    "accounts",
    metadata,
    Column("person_id", UUID(as_uuid=True), primary_key=True),
    Column("office_code", String(6), nullable=False),
    Column("balance", Numeric(14, 2), nullable=False),
    Column("booked_on", Date, nullable=False),  # the newest entry's booking day
    Column("occurred_at", DateTime(timezone=True), nullable=False),  # orders entries arriving out of order
)

# Certificates (参保凭证) this office issued to people leaving: kept to check letters against.
certificates = Table(
    "certificates",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("office_code", String(6), nullable=False),
    Column("status", String(20), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("coverage_ended_on", Date, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("verification_code", String(16)),  # 核验码 (the public page looks it up)
)
Index(
    "uq_certificates_verification_code",
    certificates.c.verification_code,
    unique=True,
    postgresql_where=certificates.c.verification_code.is_not(None),
)
# The same stopped coverage gets one certificate (a lost one is reissued under the same number).
Index(
    "uq_certificates_person_coverage",
    certificates.c.person_id,
    certificates.c.coverage_ended_on,
    unique=True,
    postgresql_where=text("status <> 'superseded'"),  # duplicates issued before the index was there
)

# Transfer cases, incoming and outgoing: key columns for queries, the aggregate as a document.
transfers = Table(
    "transfers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("side", String(10), nullable=False),
    Column("transfer_ref", UUID(as_uuid=True), nullable=False),
    Column("peer_office", String(6)),
    Column("office_code", String(6), nullable=False),
    Column("person_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("unit_id", String(40)),
    Column("certificate_number", String(40)),
    Column("status", String(30), nullable=False),
    Column("version", Integer, nullable=False),
    Column("closed", Boolean, nullable=False, server_default=text("false")),
    Column("document", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)
# One case per side and transfer: a second letter for the same transfer finds the first case.
Index("uq_transfers_side_ref", transfers.c.side, transfers.c.transfer_ref, unique=True)
Index("ix_transfers_open", transfers.c.office_code, transfers.c.closed)
# One certificate, one transfer out, whatever the procedure or the letters' references (a rejected
# letter does not hold the certificate).
Index(
    "uq_transfers_outgoing_certificate",
    transfers.c.certificate_number,
    unique=True,
    postgresql_where=text("side = 'outgoing' AND status <> 'rejected'"),
)

# Messages to peer offices, written in the use case's transaction and delivered afterwards.
interop_outbox = Table(
    "interop_outbox",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),  # the message id
    Column("peer", String(6), nullable=False),
    Column("type", String(30), nullable=False),
    Column("transfer_ref", UUID(as_uuid=True), nullable=False),
    Column("body", JSONB, nullable=False),
    Column(
        "status", String(12), nullable=False, server_default=text("'pending'")
    ),  # pending | delivered | refused | dead (given up)
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("delivered_at", DateTime(timezone=True)),
)
Index(
    "ix_interop_outbox_due",
    interop_outbox.c.next_attempt_at,
    postgresql_where=interop_outbox.c.status == "pending",
)
# Messages refused or given up (what waits for staff to re-send: /health, the ops page, the alert).
Index(
    "ix_interop_outbox_given_up",
    interop_outbox.c.peer,
    postgresql_where=interop_outbox.c.status.in_(("refused", "dead")),
)

# Messages received from peers: (sender, message id) makes each one take effect once.
interop_inbox = Table(
    "interop_inbox",
    metadata,
    Column("sender", String(6), primary_key=True),
    Column("message_id", UUID(as_uuid=True), primary_key=True),
    Column("type", String(30), nullable=False),
    Column("transfer_ref", UUID(as_uuid=True), nullable=False),
    Column("body", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Every exchange with a peer, in both directions, including refusals (append-only audit trail).
interop_audit = Table(
    "interop_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("direction", String(3), nullable=False),  # in | out
    # Text: a refused message may claim any sender, id or type, and its refusal is kept all the same.
    Column("peer", Text),
    Column("message_id", Text),
    Column("type", Text),
    Column("outcome", String(30), nullable=False),
    Column("detail", Text),
    *chain_columns(),  # the hash chain the database keeps (shared.tables.chain_columns)
)
Index("interop_audit_chain_seq", interop_audit.c.chain_seq, unique=True)

# Dead letters an administrator replayed from the ops page (shared.ops; append-only).
dead_letter_replays.to_metadata(metadata)

# Who read or changed which record (shared.http.audit; append-only).
access_audit.to_metadata(metadata)
