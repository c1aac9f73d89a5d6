"""Yearly budgets (年度总额指标) and their monthly quotas; every change recorded with who and why."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.http.pagination import Page, Pages
from shared.money import Money, NonNegativeMoney
from shared.service import UoW
from svc_settlement.api.schemas import CareType, FacilityCode, InsuranceType, Reader, Staff
from svc_settlement.usecases import budgets

router = APIRouter(prefix="/budgets", tags=["总额指标"])


class BudgetIn(BaseModel):
    facility_code: FacilityCode
    year: int = Field(ge=2000, le=2100)
    insurance_type: InsuranceType
    care_type: CareType
    total: NonNegativeMoney = Field(description="年度总额指标（元）")
    weights: list[Annotated[float, Field(ge=0, le=1e12)]] | None = Field(
        None, min_length=12, max_length=12, description="按历年月度费用规律分配的12个权重；省略则按月平均分配"
    )
    reason: Text = Field(min_length=2, max_length=500, description="下达或调整的原因")
    version: int | None = Field(None, ge=1, description="调整已有指标时：当前版本号")


class BudgetOut(BaseModel):
    id: uuid.UUID
    facility_code: str
    year: int
    insurance_type: str
    care_type: str
    total: Money
    weights: list[str] | None
    quotas: list[str]
    version: int
    updated_at: datetime


class BudgetChange(BaseModel):
    version: int
    total: Money
    weights: list[str] | None
    quotas: list[str]
    by: str
    at: datetime
    reason: str


class BudgetDetail(BaseModel):
    budget: BudgetOut
    history: list[BudgetChange]


@router.post("", response_model=BudgetOut, summary="下达或调整年度总额指标（按月平均或按历年规律分解）")
async def set_budget(
    body: BudgetIn, request: Request, actor: Staff, uow: UoW, idempotency_key: IdempotencyKey = None
):
    weights = [Decimal(repr(w)) for w in body.weights] if body.weights is not None else None

    async def set_it() -> tuple[int, Any]:
        row = await budgets.set_budget(uow, actor, body.facility_code, body.year, body.insurance_type, body.care_type,
                                        body.total, weights, body.reason, body.version)  # fmt: skip
        return 200, BudgetOut(**row).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, set_it)


@router.get("", response_model=Page[BudgetOut], summary="总额指标列表")
async def list_budgets(
    actor: Reader, uow: UoW, pages: Pages, facility_code: Annotated[str | None, Query(max_length=20)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict:  # fmt: skip
    return pages.of(await uow.read(budgets.list_budgets, actor, facility_code=facility_code, year=year))


@router.get("/{budget_id}", response_model=BudgetDetail, summary="总额指标与调整记录")
async def get_budget(budget_id: uuid.UUID, actor: Reader, uow: UoW) -> BudgetDetail:
    budget, history = await uow.read(budgets.budget_view, actor, budget_id)
    return BudgetDetail(budget=BudgetOut(**budget), history=[BudgetChange(**h) for h in history])
