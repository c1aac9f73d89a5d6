"""Yearly budgets (年度总额指标): set, changed during the year (approved months keep their quota), read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound
from svc_settlement.domain import approval
from svc_settlement.domain.budget import split_year
from svc_settlement.domain.declaration import (
    Period,
)
from svc_settlement.repository import Repository
from svc_settlement.usecases.access import (
    facility_for_staff,
    may_see_facility,
    offices_in_scope,
)


async def set_budget(
    uow: UnitOfWork, actor: Principal, facility_code: str, year: int, insurance_type: str, care_type: str,
    total: Decimal, weights: Sequence[Decimal] | None, reason: str, version: int | None,
) -> dict:  # fmt: skip
    """Set a budget, or change it during the year (months already approved keep their quota)."""
    repo = Repository(uow)
    await facility_for_staff(repo, facility_code, actor)
    current = await repo.budget(facility_code, year, insurance_type, care_type, for_update=True)
    if current is None and version is not None:
        raise NotFound("总额指标")
    if current is not None and current["version"] != version:
        raise Conflict("version_conflict", "总额指标已存在或已被他人修改", f"当前版本为 {current['version']}，调整时请提供该版本号",
                      current_version=current["version"])  # fmt: skip
    fixed: dict[int, Decimal] = {}
    if current is not None:
        for month in range(1, 13):
            cleared = await repo.clearing_at(
                facility_code, str(Period(year, month)), insurance_type, care_type
            )
            if cleared is not None and cleared["status"] in approval.LOCKED:
                fixed[month] = Decimal(current["quotas"][month - 1])
    quotas = split_year(total, weights, fixed)
    row = {
        "id": current["id"] if current else uuid.uuid4(), "facility_code": facility_code, "year": year,
        "insurance_type": insurance_type, "care_type": care_type, "total": total,
        "weights": [format(Decimal(w), "f") for w in weights] if weights is not None else None,
        "quotas": [format(q, "f") for q in quotas], "version": (current["version"] + 1) if current else 1, "updated_at": uow.clock.now(),
    }  # fmt: skip
    await repo.save_budget(row, actor.subject, reason)
    return row


async def budget_view(uow: UnitOfWork, actor: Principal, budget_id: uuid.UUID) -> tuple[dict, list[dict]]:
    repo = Repository(uow)
    budget = await repo.budget_by_id(budget_id)
    if budget is None or not await may_see_facility(repo, actor, budget["facility_code"]):
        raise NotFound("总额指标")
    return budget, await repo.budget_history(budget_id)


async def list_budgets(
    uow: UnitOfWork, actor: Principal, *, facility_code: str | None, year: int | None
) -> list[dict]:
    repo = Repository(uow)
    if actor.role is Role.facility:
        return await repo.budgets_of([actor.facility_id or "-"], year, None)
    return await repo.budgets_of([facility_code] if facility_code else None, year, offices_in_scope(actor))
