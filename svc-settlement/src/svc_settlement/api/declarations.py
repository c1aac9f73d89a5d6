"""Monthly declarations (月结申报) by facilities, and the amounts staff enter against a facility-month."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.http.pagination import Page, Pages
from shared.money import Money, NonNegativeMoney
from shared.service import UoW
from svc_settlement.api.schemas import (
    CareType,
    FacilityCode,
    FacilityUser,
    Funds,
    InsuranceType,
    Origin,
    PeriodText,
    Reader,
    Staff,
)
from svc_settlement.domain.declaration import Bill, DeclaredLine
from svc_settlement.domain.entries import ENTRY_KINDS
from svc_settlement.usecases import assessments, declarations, entries

router = APIRouter(tags=["月结申报"])


class LineIn(Funds):
    care_type: CareType = Field(description="就医方式：住院、门诊、门特")
    origin: Origin = Field(description="本地、省内异地、跨省异地")


class BillIn(Funds):
    bill_no: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
    care_type: CareType
    origin: Origin


class DeclarationIn(BaseModel):
    facility_code: FacilityCode | None = Field(None, description="本机构编码（可省略，取自登录账号）")
    period: PeriodText
    insurance_type: InsuranceType
    lines: list[LineIn] = Field(min_length=1, max_length=9)
    bills: list[BillIn] = Field(
        default_factory=list, max_length=20_000, description="逐单明细（可选）；提供时各行合计须与明细一致"
    )
    replaces_version: int | None = Field(None, ge=1, description="更正时：被更正的当前版本号")
    reason: Text | None = Field(None, max_length=500, description="更正原因")


class DeclarationOut(BaseModel):
    id: uuid.UUID
    facility_code: str
    period: str
    insurance_type: str
    version: int
    lines: list[dict[str, Any]]
    totals: dict[str, dict[str, str]]
    bill_count: int
    declared_by: str
    declared_at: datetime
    declared_on: date
    reason: str | None
    latest: bool = Field(description="是否为该月最新版本（被更正的旧版本不再结算）")
    flags: list[dict[str, Any]] = Field(
        description="需经办机构处理的事项，如 no_budget：该就医方式没有年度总额指标（含结算期限）"
    )


def _funds(item: Funds) -> dict:
    return {f: getattr(item, f) for f in Funds.model_fields}


@router.post(
    "/declarations", status_code=201, response_model=DeclarationOut, summary="月结申报（更正即提交新版本）"
)
async def declare(
    body: DeclarationIn,
    request: Request,
    actor: FacilityUser,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    data = declarations.DeclarationIn(
        facility_code=body.facility_code, period=body.period, insurance_type=body.insurance_type,
        lines=[DeclaredLine(line.care_type, line.origin, _funds(line)) for line in body.lines],
        bills=[Bill(b.bill_no, b.care_type, b.origin, _funds(b)) for b in body.bills],
        replaces_version=body.replaces_version, reason=body.reason,
    )  # fmt: skip

    async def file() -> tuple[int, Any]:
        row = await declarations.declare(uow, actor, data)
        return 201, DeclarationOut(**row).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, file)


@router.get(
    "/declarations",
    response_model=Page[DeclarationOut],
    summary="月结申报列表（机构看自己的，经办人员看本分中心的）",
)
async def list_declarations(
    actor: Reader, uow: UoW, pages: Pages,
    facility_code: Annotated[str | None, Query(max_length=20)] = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    flagged: Annotated[bool, Query(description="只列需经办机构处理的申报（如没有总额指标）")] = False,
) -> dict:  # fmt: skip
    return pages.of(
        await uow.read(
            declarations.list_declarations, actor, facility_code=facility_code, period=period, flagged=flagged
        )
    )


@router.get("/declarations/{declaration_id}", response_model=DeclarationOut, summary="月结申报详情")
async def get_declaration(declaration_id: uuid.UUID, actor: Reader, uow: UoW) -> dict:
    return await uow.read(declarations.declaration_view, actor, declaration_id)


EntryKind = Literal[tuple(ENTRY_KINDS)]  # type: ignore[valid-type]


class EntryIn(BaseModel):
    facility_code: FacilityCode
    period: PeriodText
    insurance_type: InsuranceType
    care_type: CareType
    kind: EntryKind = Field(  # type: ignore[valid-type]
        description="; ".join(f"{k}: {v[1]}" for k, v in ENTRY_KINDS.items())
    )
    amount: NonNegativeMoney
    reason: Text = Field(min_length=2, max_length=500)


class EntryOut(BaseModel):
    id: uuid.UUID
    facility_code: str
    period: str
    insurance_type: str
    care_type: str
    kind: str
    amount: Money
    reason: str
    by: str
    at: datetime


@router.post(
    "/entries",
    status_code=201,
    response_model=EntryOut,
    summary="录入审核拒付、调整支付等（只增不改，记录经办人与原因）",
)
async def add_entry(
    body: EntryIn, request: Request, actor: Staff, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def enter() -> tuple[int, Any]:
        row = await entries.add_entry(uow, actor, facility_code=body.facility_code, period=body.period, insurance_type=body.insurance_type,
                                      care_type=body.care_type, kind=body.kind, amount=body.amount, reason=body.reason)  # fmt: skip
        return 201, EntryOut(**row).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, enter)


@router.get("/entries", response_model=Page[EntryOut], summary="某机构的审核拒付与调整记录")
async def list_entries(
    actor: Reader, uow: UoW, pages: Pages, facility_code: Annotated[str, Query(max_length=20)],
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
) -> dict:  # fmt: skip
    return pages.of(await uow.read(entries.list_entries, actor, facility_code=facility_code, period=period))


class AssessmentIn(BaseModel):
    facility_code: FacilityCode
    year: int = Field(ge=2000, le=2100, description="考核年度")
    insurance_type: InsuranceType
    care_type: CareType
    score_ratio: Annotated[Money, Field(description="考核得分比例 0–1：返还考核预留的比例")]
    recovery: NonNegativeMoney = Field(default=Decimal("0.00"), description="年度清算应收回金额")
    book_in: PeriodText = Field(description="计入哪个月的清算表")
    reason: Text = Field(min_length=2, max_length=300)


@router.post(
    "/assessments",
    status_code=201,
    response_model=list[EntryOut],
    summary="录入年度考核结果：返还考核预留、上年度清算应收回",
)
async def assessment(
    body: AssessmentIn, request: Request, actor: Staff, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def record() -> tuple[int, Any]:
        rows = await assessments.record_assessment(
            uow, actor, facility_code=body.facility_code, year=body.year, insurance_type=body.insurance_type, care_type=body.care_type,
            score_ratio=body.score_ratio, recovery=body.recovery, book_in=body.book_in, reason=body.reason)  # fmt: skip
        return 201, [EntryOut(**r).model_dump(mode="json") for r in rows]

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, record)
