"""Manual reimbursement claims as stored: the aggregate whole as a document, its key columns beside it."""

from __future__ import annotations

from shared.documents import DocumentStore
from svc_claims.domain.reimbursement import Reimbursement
from svc_claims.models import reimbursements
from svc_claims.repository.applications import key_columns

REIMBURSEMENTS = DocumentStore(reimbursements, Reimbursement, key_columns)
