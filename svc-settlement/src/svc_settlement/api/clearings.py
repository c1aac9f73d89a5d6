"""The clearing (基金清算表): computing a month, reading the 41 lines with their sources, review, approval, payment."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.http.pagination import Page, Pages
from shared.money import Money
from shared.service import UoW
from shared.spreadsheets import XLSX
from svc_settlement import document, policy
from svc_settlement.api.schemas import FacilityCode, PeriodText, Reader, Staff
from svc_settlement.domain.approval import PAYMENT_LIMIT_WORKING_DAYS, STATUSES
from svc_settlement.domain.clearing import INPUTS, LINES, PREVIOUS
from svc_settlement.domain.declaration import CARE_TYPES, INSURANCE_TYPES
from svc_settlement.repository import Repository
from svc_settlement.usecases import clearings as usecases

router = APIRouter(prefix="/clearings", tags=["基金清算"])


class RunIn(BaseModel):
    period: PeriodText
    facility_code: FacilityCode | None = Field(
        None, description="只清算一个机构；省略则清算本分中心（市级：全市）的全部机构"
    )


class RunOut(BaseModel):
    period: str
    created: int
    updated: int
    unchanged: int
    conflicts: list[dict]
    skipped: list[dict]


class LineOut(BaseModel):
    number: int
    name: str
    section: str
    formula: str
    value: str
    sources: dict[str, str]


class DeadlineOut(BaseModel):
    starts_on: date
    due_on: date
    limit_working_days: int
    working_days_left: int
    overdue: bool
    provisional: bool


class ClearingOut(BaseModel):
    id: uuid.UUID
    facility_code: str
    office_code: str
    period: str
    insurance_type: str
    insurance_name: str
    care_type: str
    care_name: str
    status: str
    status_name: str
    version: int
    declaration_version: int | None
    reserve_rate: str
    reserve_rate_is_sample: bool
    computed_at: datetime
    lines: list[LineOut]
    carry: dict[str, str]
    deadline: DeadlineOut
    steps: list[dict]
    payment: dict | None
    adjustments: list[dict] = Field(description="更正顺延调整：为此前已拨付月份补付（正）或扣回（负）的金额")
    payable: Money = Field(description="本月拨付金额：第41行加调整")


class ClearingPage(BaseModel):
    items: list[ClearingOut]
    total: int
    page: int
    size: int


def shape(row: dict, today: date) -> ClearingOut:
    values = {**{f"L{k}": v for k, v in row["lines"].items()}, **row["inputs"], **row["previous"]}
    lines = [
        LineOut(number=line.number, name=line.name, section=line.section, formula=line.formula,
                value=row["lines"][str(line.number)], sources={name: values[name] for name in line.sources})
        for line in LINES
    ]  # fmt: skip
    d = usecases.deadline_of(row, today)
    return ClearingOut(
        **{k: row[k] for k in ("id", "facility_code", "office_code", "period", "insurance_type", "care_type", "status", "version",
                               "declaration_version", "computed_at", "carry", "steps", "payment")},
        insurance_name=INSURANCE_TYPES[row["insurance_type"]], care_name=CARE_TYPES[row["care_type"]],
        status_name=STATUSES[row["status"]], reserve_rate=format(Decimal(row["reserve_rate"]), "f"),
        reserve_rate_is_sample=policy.reserve_rate_is_sample(), lines=lines, adjustments=row.get("adjustments") or [],
        payable=Decimal(row["payable"]),
        deadline=DeadlineOut(starts_on=d.starts_on, due_on=d.due_on, limit_working_days=PAYMENT_LIMIT_WORKING_DAYS,
                             working_days_left=d.working_days_left, overdue=(d.overdue and row["status"] != "paid") or
                             bool(row["payment"] and not row["payment"]["within_limit"]), provisional=d.provisional),
    )  # fmt: skip


@router.post(
    "/run",
    response_model=RunOut,
    summary="清算（或重新清算）一个月；其后已清算的月份随之更新；重复执行无变化",
)
async def run(body: RunIn, request: Request, actor: Staff, uow: UoW, idempotency_key: IdempotencyKey = None):
    async def clear() -> tuple[int, Any]:
        result = await usecases.run_clearing(uow, actor, body.period, facility_code=body.facility_code)
        return 200, RunOut(period=body.period, created=result.created, updated=result.updated, unchanged=result.unchanged,
                           conflicts=result.conflicts or [], skipped=result.skipped or []).model_dump(mode="json")  # fmt: skip

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, clear)


@router.get("/formulas", summary="清算表各行的计算公式（一处定义）")
async def formulas() -> dict[str, Any]:
    return {
        "lines": [{"number": line.number, "name": line.name, "section": line.section, "formula": line.formula,
                   "sources": list(line.sources)} for line in LINES],
        "inputs": INPUTS, "previous": PREVIOUS,
        "reserve_rate": {"default": format(policy.reserve_rate(0), "f"), "sample": policy.reserve_rate_is_sample(),
                         "note": "考核预留比例为样例值：文件未规定，由经办机构按年度设定（data/policy.json）"},
    }  # fmt: skip


@router.get("", response_model=ClearingPage, summary="清算表列表（机构看自己的，经办人员看本分中心的）")
async def list_clearings(
    actor: Reader, uow: UoW,
    facility_code: Annotated[str | None, Query(max_length=20)] = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    status: Annotated[str | None, Query(pattern="^(computed|reviewed|approved|paid)$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ClearingPage:  # fmt: skip
    rows, total = await uow.read(usecases.list_clearings, actor, facility_code, period, status, page, size)
    return ClearingPage(items=[shape(r, uow.clock.today()) for r in rows], total=total, page=page, size=size)


async def _named(uow: UoW, rows: list[dict]) -> list[tuple[dict, str]]:
    repo = Repository(uow)
    names: dict[str, str] = {}
    for row in rows:
        if row["facility_code"] not in names:
            facility = await repo.facility(row["facility_code"])
            names[row["facility_code"]] = facility["name"] if facility else row["facility_code"]
    return [(row, names[row["facility_code"]]) for row in rows]


async def _bulk(uow: UoW, actor, facility_code: str | None, period: str) -> list[tuple[dict, str]]:  # type: ignore[no-untyped-def]
    rows: list[dict] = []
    page = 1
    while True:
        batch, total = await usecases.list_clearings(uow, actor, facility_code, period, None, page, 100)
        rows += batch
        if len(rows) >= total or not batch or len(rows) >= 5000:
            return await _named(uow, rows)
        page += 1


BulkPeriod = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="结算月份")]


async def _one(uow: UoW, actor, clearing_id: uuid.UUID) -> list[tuple[dict, str]]:  # type: ignore[no-untyped-def]
    return await _named(uow, [await usecases.clearing_view(uow, actor, clearing_id)])


def _attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/export.pdf",
    summary="批量导出基金清算表 PDF（机构：本机构；经办：本分中心）",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def export_pdf(
    actor: Reader,
    uow: UoW,
    period: BulkPeriod,
    facility_code: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    items = await uow.read(_bulk, actor, facility_code, period)
    return _attachment(document.clearing_pdf(items), "application/pdf", f"clearing-{period}.pdf")


@router.get(
    "/export.csv",
    summary="批量导出基金清算表（电子表格 CSV）",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(
    actor: Reader,
    uow: UoW,
    period: BulkPeriod,
    facility_code: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    items = await uow.read(_bulk, actor, facility_code, period)
    return _attachment(document.clearing_csv(items), "text/csv; charset=utf-8", f"clearing-{period}.csv")


@router.get(
    "/export.xlsx",
    summary="批量导出基金清算表（Excel xlsx）",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def export_xlsx(
    actor: Reader,
    uow: UoW,
    period: BulkPeriod,
    facility_code: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    items = await uow.read(_bulk, actor, facility_code, period)
    return _attachment(document.clearing_xlsx(items), XLSX, f"clearing-{period}.xlsx")


@router.get(
    "/{clearing_id}/document.pdf",
    summary="基金清算表 PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def clearing_document(clearing_id: uuid.UUID, actor: Reader, uow: UoW) -> Response:
    items = await uow.read(_one, actor, clearing_id)
    row = items[0][0]
    name = f"clearing-{row['facility_code']}-{row['period']}-{row['care_type']}"
    return _attachment(document.clearing_pdf(items), "application/pdf", f"{name}.pdf")


@router.get(
    "/{clearing_id}/table.csv",
    summary="基金清算表（电子表格 CSV）",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def clearing_table(clearing_id: uuid.UUID, actor: Reader, uow: UoW) -> Response:
    items = await uow.read(_one, actor, clearing_id)
    return Response(document.clearing_csv(items), media_type="text/csv; charset=utf-8")


@router.get("/{clearing_id}", response_model=ClearingOut, summary="基金清算表（41行，每行公式与来源）")
async def get_clearing(clearing_id: uuid.UUID, actor: Reader, uow: UoW) -> ClearingOut:
    return shape(await uow.read(usecases.clearing_view, actor, clearing_id), uow.clock.today())


@router.get(
    "/{clearing_id}/history",
    response_model=Page[dict[str, Any]],
    summary="清算表的每次计算（谁、何时、为何）",
)
async def history(clearing_id: uuid.UUID, actor: Reader, uow: UoW, pages: Pages) -> dict:
    return pages.of(await uow.read(usecases.clearing_history, actor, clearing_id))


class StepIn(BaseModel):
    version: int = Field(ge=1)
    declaration_version: int | None = Field(
        None, ge=1, description="所审核、核准或拨付的申报版本（不是最新版本时拒绝）"
    )
    note: Text | None = Field(None, max_length=500)


class PayIn(StepIn):
    bank_name: Text | None = Field(None, max_length=100, description="开户银行")
    account_name: Text | None = Field(None, max_length=200, description="户名")
    account_number: Annotated[str | None, Field(None, pattern=r"^\d{8,32}$", description="银行账号")]


async def _step(uow: UoW, request: Request, key: str | None, clearing_id: uuid.UUID, actor, action: str, body: StepIn,  # type: ignore[no-untyped-def]
                payment: dict | None = None):  # fmt: skip
    async def act() -> tuple[int, Any]:
        row = await usecases.step(uow, actor, clearing_id, action=action, version=body.version, note=body.note, payment=payment,
                                  declaration_version=body.declaration_version)  # fmt: skip
        return 200, shape(row, uow.clock.today()).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, key, act)


@router.post("/{clearing_id}/review", response_model=ClearingOut, summary="分中心审核")
async def review(
    clearing_id: uuid.UUID,
    body: StepIn,
    request: Request,
    actor: Staff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _step(uow, request, idempotency_key, clearing_id, actor, "review", body)


@router.post("/{clearing_id}/approve", response_model=ClearingOut, summary="市医保中心核准")
async def approve(
    clearing_id: uuid.UUID,
    body: StepIn,
    request: Request,
    actor: Staff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _step(uow, request, idempotency_key, clearing_id, actor, "approve", body)


@router.post(
    "/{clearing_id}/pay",
    response_model=ClearingOut,
    summary="下达拨付单，结算款拨付机构银行账户（拨付本月第41行加调整）",
)
async def pay(
    clearing_id: uuid.UUID,
    body: PayIn,
    request: Request,
    actor: Staff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    bank = {
        k: v
        for k, v in {
            "bank_name": body.bank_name,
            "account_name": body.account_name,
            "account_number": body.account_number,
        }.items()
        if v
    }
    return await _step(uow, request, idempotency_key, clearing_id, actor, "pay", body, bank)


@router.get(
    "/{clearing_id}/table.xlsx",
    summary="基金清算表（Excel xlsx）",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def clearing_table_xlsx(clearing_id: uuid.UUID, actor: Reader, uow: UoW) -> Response:
    items = await uow.read(_one, actor, clearing_id)
    return Response(document.clearing_xlsx(items), media_type=XLSX)
