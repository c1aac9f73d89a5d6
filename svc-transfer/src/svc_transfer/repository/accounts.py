"""The projection of registration's personal accounts: each person's balance after the newest entry."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from svc_transfer.models import accounts


async def record(session: AsyncSession, values: dict[str, Any]) -> None:
    """The balance after an entry, unless a newer entry's balance is already here (events about one
    account may arrive out of order; an older one must not undo a newer one)."""
    statement = insert(accounts).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["person_id"],
            set_={k: statement.excluded[k] for k in values if k != "person_id"},
            where=accounts.c.occurred_at <= statement.excluded.occurred_at,
        )
    )


async def of_person(session: AsyncSession, person_id: uuid.UUID) -> Any:
    return (await session.execute(select(accounts).where(accounts.c.person_id == person_id))).first()
