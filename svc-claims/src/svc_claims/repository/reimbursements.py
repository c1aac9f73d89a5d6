"""Manual reimbursement claims as stored: the aggregate whole as a document, its key columns beside it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from shared.documents import DocumentStore
from svc_claims.domain.reimbursement import Reimbursement, Status
from svc_claims.models import reimbursements


def _key_columns(claim: Reimbursement) -> dict[str, Any]:
    return {
        "id": claim.id,
        "person_id": claim.person_id,
        "office_code": claim.office_code,
        "unit_code": claim.unit_code,
        "status": claim.status.value,
        "due_on": claim.due_on,
        "due_provisional": claim.due_provisional,
        "overdue_announced": claim.overdue_announced,
        "filed_at": claim.steps[0].at,
        "version": claim.version,
    }


REIMBURSEMENTS = DocumentStore(reimbursements, Reimbursement, _key_columns)


async def page(
    session: AsyncSession, *, scope: dict[str, Any], status: Status | None, offset: int, limit: int
) -> tuple[list[Reimbursement], int]:
    """Claims within the actor's scope (key columns), newest first."""
    conditions: list[ColumnElement[bool]] = [
        reimbursements.c[column] == value for column, value in scope.items()
    ]
    if status is not None:
        conditions.append(reimbursements.c.status == status.value)
    return await REIMBURSEMENTS.find(
        session, *conditions, order_by=[reimbursements.c.filed_at.desc()], offset=offset, limit=limit
    )
