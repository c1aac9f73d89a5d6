"""What staff enter for a month: rejections, adjustments, other payments (append-only)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.errors import Conflict
from svc_settlement.domain import approval
from svc_settlement.domain.declaration import (
    Period,
)
from svc_settlement.repository import Repository
from svc_settlement.usecases.access import (
    facility_for_staff,
    may_see_facility,
)


async def add_entry(
    uow: UnitOfWork, actor: Principal, *, facility_code: str, period: str, insurance_type: str, care_type: str,
    kind: str, amount: Decimal, reason: str,
) -> dict:  # fmt: skip
    repo = Repository(uow)
    await facility_for_staff(repo, facility_code, actor)
    Period.parse(period)
    cleared = await repo.clearing_at(facility_code, period, insurance_type, care_type, for_update=True)
    if cleared is not None and cleared["status"] in approval.LOCKED:
        raise Conflict("clearing_locked", "该月清算表已核准，不能再录入", "请录入到下一个未核准的月份")
    row = {"id": uuid.uuid4(), "facility_code": facility_code, "period": period, "insurance_type": insurance_type,
           "care_type": care_type, "kind": kind, "amount": amount, "reason": reason, "by": actor.subject, "at": uow.clock.now()}  # fmt: skip
    await repo.add_entry(row)
    return row


async def list_entries(
    uow: UnitOfWork, actor: Principal, *, facility_code: str, period: str | None
) -> list[dict]:
    repo = Repository(uow)
    if not await may_see_facility(repo, actor, facility_code):
        return []
    return await repo.entries_of(facility_code, period)
