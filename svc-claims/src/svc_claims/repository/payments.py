"""Benefit payments as stored (the aggregate whole as a document, its key columns beside it) and the
maternity events and account balances each of them holds (UNIQUE person + event key: paid once)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.documents import DocumentStore
from svc_claims.domain.payment import BenefitPayment
from svc_claims.models import benefit_payments, maternity_events
from svc_claims.repository.applications import key_columns


def _key_columns(payment: BenefitPayment) -> dict[str, Any]:
    return {**key_columns(payment), "kind": payment.kind.value}


PAYMENTS = DocumentStore(benefit_payments, BenefitPayment, _key_columns)


async def hold_events(
    session: AsyncSession, person_id: uuid.UUID, keys: Iterable[str], payment_id: uuid.UUID
) -> bool:
    """Claims the events for the payment; False (nothing held) when one of them is held already."""
    rows = [{"person_id": person_id, "event_key": key, "payment_id": payment_id} for key in sorted(keys)]
    try:
        async with session.begin_nested():
            await session.execute(insert(maternity_events), rows)
    except IntegrityError:
        return False
    return True


async def event_holder(session: AsyncSession, person_id: uuid.UUID, keys: Iterable[str]) -> uuid.UUID | None:
    """The payment holding one of the events."""
    query = select(maternity_events.c.payment_id).where(
        maternity_events.c.person_id == person_id, maternity_events.c.event_key.in_(list(keys))
    )
    held: uuid.UUID | None = (await session.execute(query)).scalars().first()
    return held


async def release_events(session: AsyncSession, payment_id: uuid.UUID) -> None:
    """A rejected payment's events may be filed again."""
    await session.execute(delete(maternity_events).where(maternity_events.c.payment_id == payment_id))
