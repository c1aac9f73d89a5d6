"""The receipts of facilities held by a settlement or a reimbursement (UNIQUE facility code + number: a
receipt is paid once across both), and the settled bills (append-only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, UUID, String, bindparam, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Prepared, UnitOfWork
from svc_claims.models import benefit_settlements, reimbursement_receipts


async def holder(session: AsyncSession, facility_code: str, number: str) -> uuid.UUID | None:
    """The settlement or reimbursement holding the receipt, if any."""
    held: uuid.UUID | None = await session.scalar(
        select(reimbursement_receipts.c.reimbursement_id).where(
            reimbursement_receipts.c.facility_code == facility_code,
            reimbursement_receipts.c.receipt_no == number,
        )
    )
    return held


# One statement for any number of receipts, built once and sent straight to asyncpg: a receipt already
# held is skipped, not an error, so no savepoint is needed around it.
HOLD = Prepared(text(
    "INSERT INTO reimbursement_receipts (facility_code, receipt_no, reimbursement_id) "
    "SELECT :facility_code, number, :holder FROM unnest(:numbers) AS receipt(number) "
    "ON CONFLICT (facility_code, receipt_no) DO NOTHING RETURNING receipt_no"
).bindparams(
    bindparam("facility_code", type_=String), bindparam("holder", type_=UUID(as_uuid=True)),
    bindparam("numbers", type_=ARRAY(String)),
))  # fmt: skip


async def hold(uow: UnitOfWork, facility_code: str, numbers: Iterable[str], holder_id: uuid.UUID) -> bool:
    """Claims the receipts for `holder_id`; False (nothing held) when one is taken. A concurrent
    duplicate waits on the unique index until the other transaction ends, then holds nothing."""
    wanted = list(numbers)
    held = await uow.execute(HOLD, {"facility_code": facility_code, "holder": holder_id, "numbers": wanted})
    if len(held) == len(wanted):
        return True
    await release(uow.session, holder_id)  # those of its receipts that were free, held just now
    return False


async def release(session: AsyncSession, holder_id: uuid.UUID) -> None:
    """The holder's receipts are free to be filed again (a rejected claim)."""
    await session.execute(
        delete(reimbursement_receipts).where(reimbursement_receipts.c.reimbursement_id == holder_id)
    )


async def settlement(session: AsyncSession, settlement_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(select(benefit_settlements).where(benefit_settlements.c.id == settlement_id)))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


# Written with every bill: built once, sent straight to asyncpg with each bill's values.
RECORD_SETTLEMENT = Prepared(
    insert(benefit_settlements).values({c.name: bindparam(c.name) for c in benefit_settlements.c})
)


async def record_settlement(
    uow: UnitOfWork,
    *,
    settlement_id: uuid.UUID,
    person_id: uuid.UUID,
    scheme: str,
    year: int,
    request: dict[str, Any],
    bill: dict[str, Any],
    settled_by: str,
    settled_at: datetime,
) -> None:
    await uow.execute(RECORD_SETTLEMENT, {
        "id": settlement_id, "person_id": person_id, "scheme": scheme, "year": year, "request": request, "bill": bill,
        "settled_by": settled_by, "settled_at": settled_at,
    })  # fmt: skip
