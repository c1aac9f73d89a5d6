"""Employee-scheme money endpoints (职工医保征缴): bases, monthly notices, the bank's payment file, accounts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from shared import spreadsheets
from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import Problem
from shared.money import Money, NonNegativeMoney
from shared.service import UoW
from svc_registration.domain.contributions import COLUMNS, parse_month, policy_for
from svc_registration.usecases import contributions
from svc_registration.usecases.contributions import POLICIES

router = APIRouter(prefix="/contributions", tags=["职工医保征缴"])

UnitOrStaff = Annotated[Principal, require_roles(Role.unit, Role.staff)]
InsuredOrStaff = Annotated[Principal, require_roles(Role.insured, Role.staff)]
Staff = Annotated[Principal, require_roles(Role.staff)]
Anyone = Annotated[Principal, require_roles(Role.insured, Role.unit, Role.staff, Role.admin)]
Month = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", description="缴费月份 YYYY-MM")]
MAX_BYTES = 20 * 1024 * 1024


class BaseIn(BaseModel):
    enrollment_id: uuid.UUID
    declared_wage: NonNegativeMoney = Field(description="申报工资（元），按上下限核定缴费基数")


class BasesIn(BaseModel):
    month: Month = Field(description="自该月起适用")
    bases: list[BaseIn] = Field(min_length=1, max_length=10_000)


class UnitNoticeIn(BaseModel):
    month: Month
    unit_code: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="统一社会信用代码")


class FlexibleNoticeIn(BaseModel):
    month: Month
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时必填")


class BatchIn(BaseModel):
    month: Month
    office_code: str = Field(pattern=r"^\d{6}$")


class LineOut(BaseModel):
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    base: Money
    unit_part: Money
    personal_part: Money
    account_credit: Money


class NoticeOut(BaseModel):
    id: uuid.UUID
    number: str
    sequence: int = Field(1, description="1：当月征缴单；2 起：当月补收（征缴单生成后增员）")
    payer_kind: str
    payer_code: str
    office_code: str
    month: str
    due_on: date
    total: Money
    line_count: int
    sample: bool = Field(description="按示例政策数据计算")
    status: str
    issued_at: datetime
    paid_on: date | None = None
    late_fee: Money | None = None
    bank_reference: str | None = None
    interrupted_on: date | None = None
    lines: list[LineOut] | None = None


class NoticesOut(BaseModel):
    items: list[NoticeOut]
    total: int
    page: int
    size: int


class BatchOut(BaseModel):
    month: str
    issued: int
    already_issued: int
    lines: int
    total: Money


class ImportOut(BaseModel):
    rows: int
    applied: int
    already_applied: int = Field(description="同一银行流水号此前已导入，本次未重复记账")
    amount: Money
    late_fees: Money


class EntryOut(BaseModel):
    kind: str
    amount: Money
    booked_on: date
    month: str | None
    reference: str


class AccountOut(BaseModel):
    person_id: uuid.UUID
    balance: Money = Field(description="余额 = 账户历史之和")
    entries: list[EntryOut]


def shape_notice(row: dict, lines: list[dict] | None = None) -> dict:
    return NoticeOut(
        **{**row, "month": f"{row['month']:%Y-%m}"},
        lines=[LineOut(**line) for line in lines] if lines is not None else None,
    ).model_dump(mode="json")


@router.get("/policy", summary="职工医保缴费基数、费率与个人账户划入比例（含来源）")
async def policy(actor: Anyone, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> dict:
    p = policy_for(POLICIES, parse_month(month))
    return {
        "effective_from": p.effective_from.isoformat(),
        "sample": p.sample,
        "average_monthly_wage": str(p.average_monthly_wage),
        "base_floor": str(p.base_floor),
        "base_ceiling": str(p.base_ceiling),
        "unit_rate": str(p.unit_rate),
        "personal_rate": str(p.personal_rate),
        "unit_part_to_account_by_age": [
            {"below_age": b.below_age, "share_of_base": str(b.share_of_base)}
            for b in p.unit_part_to_account_by_age
        ],
        "flexible_rate": str(p.flexible_rate),
        "flexible_account_share_of_base": str(p.flexible_account_share_of_base),
        "retiree_monthly_credit": str(p.retiree_monthly_credit),
        "late_fee_daily_rate": str(p.late_fee_daily_rate),
        "interrupt_after_days": p.interrupt_after_days,
        "sources": dict(p.sources),
    }


@router.put("/units/{code}/bases", summary="单位申报职工缴费基数")
async def declare_bases(code: str, body: BasesIn, actor: UnitOrStaff, uow: UoW) -> dict:
    count = await uow.run(
        contributions.declare_bases,
        actor,
        code,
        month=parse_month(body.month),
        wages=[(b.enrollment_id, b.declared_wage) for b in body.bases],
    )
    return {"declared": count}


@router.post("/notices", status_code=201, response_model=NoticeOut, summary="生成单位月度征缴单")
async def issue_unit_notice(body: UnitNoticeIn, actor: UnitOrStaff, uow: UoW) -> dict:
    row = await uow.run(contributions.issue_unit_notice, actor, body.unit_code, month=parse_month(body.month))
    return await uow.read(_with_lines, actor, row["number"])


@router.post(
    "/notices/flexible", status_code=201, response_model=NoticeOut, summary="生成灵活就业人员月度征缴单"
)
async def issue_flexible_notice(body: FlexibleNoticeIn, actor: InsuredOrStaff, uow: UoW) -> dict:
    person = actor.person_id if actor.role is Role.insured else body.person_id
    if person is None:
        raise Problem(
            422,
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "body.person_id", "message": "经办人员代办时必须提供参保人"}],
        )
    row = await uow.run(contributions.issue_flexible_notice, actor, person, month=parse_month(body.month))
    return await uow.read(_with_lines, actor, row["number"])


async def _with_lines(uow, actor: Principal, number: str) -> dict:  # type: ignore[no-untyped-def]
    notice, lines = await contributions.visible_notice(uow, actor, number)
    return shape_notice(notice, lines)


@router.post("/notices/batch", response_model=BatchOut, summary="批量生成经办机构当月全部征缴单")
async def issue_month(body: BatchIn, actor: Staff, uow: UoW) -> dict:
    done = await uow.run(
        contributions.issue_month, actor, month=parse_month(body.month), office_code=body.office_code
    )
    return BatchOut(
        month=body.month,
        issued=done.issued,
        already_issued=done.already_issued,
        lines=done.lines,
        total=done.total,
    ).model_dump(mode="json")


class RetireeCreditsOut(BaseModel):
    month: str
    credited: int = Field(description="本次划入的退休人员数")
    already_credited: int = Field(description="该月已划入（再次执行不重复划入）")
    amount: Money = Field(description="每人每月划入额（政策数据）")


@router.post(
    "/retiree-credits",
    response_model=RetireeCreditsOut,
    summary="退休人员个人账户按月划入（经办机构，每人每月一次）",
)
async def credit_retirees(body: BatchIn, actor: Staff, uow: UoW) -> dict:
    done = await uow.run(
        contributions.credit_retirees, actor, month=parse_month(body.month), office_code=body.office_code
    )
    return RetireeCreditsOut(
        month=body.month, credited=done.credited, already_credited=done.already_credited, amount=done.amount
    ).model_dump(mode="json")


@router.get("/notices", response_model=NoticesOut, summary="查询征缴单")
async def list_notices(
    actor: Anyone,
    uow: UoW,
    unit_code: Annotated[str | None, Query(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")] = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    status: Annotated[
        Literal["issued", "paid"] | None, Query(description="issued：未缴（欠费）；paid：已缴")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    found, total = await uow.read(
        contributions.notices,
        actor,
        unit_code=unit_code,
        month=parse_month(month) if month else None,
        status=status,
        offset=(page - 1) * size,
        limit=size,
    )
    return NoticesOut(
        items=[NoticeOut(**shape_notice(n)) for n in found], total=total, page=page, size=size
    ).model_dump(mode="json")


@router.get("/notices/{number}", response_model=NoticeOut, summary="查看征缴单及明细")
async def get_notice(number: str, actor: Anyone, uow: UoW) -> dict:
    return await uow.read(_with_lines, actor, number)


@router.post("/payments", response_model=ImportOut, summary="导入银行或税务缴费文件")
async def import_payments(
    actor: Staff,
    uow: UoW,
    file: Annotated[
        UploadFile,
        File(
            description="Excel（xlsx，第一个工作表）或 CSV（UTF-8），首行列名："
            + "、".join(f"{k}（{v}）" for k, v in COLUMNS.items())
        ),
    ],
) -> dict:
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise Problem(
            413,
            "file_too_large",
            "缴费文件过大",
            f"每个文件最大 {MAX_BYTES // 1024 // 1024} MB",
            errors=[{"field": "file", "message": f"最大 {MAX_BYTES // 1024 // 1024} MB"}],
        )
    report = await uow.run(
        contributions.import_payments,
        actor,
        text=_file_text(content),
        digest=contributions.file_digest(content),
    )
    return ImportOut(**report.__dict__).model_dump(mode="json")


def _file_text(content: bytes) -> str:
    if spreadsheets.is_xlsx(content):
        try:
            return spreadsheets.as_csv_text(content)
        except spreadsheets.Unreadable:
            raise Problem(
                422,
                "file_unreadable",
                "缴费文件无法读取",
                errors=[{"field": "file", "message": "不是可读取的 xlsx 文件"}],
            ) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(
            422,
            "file_encoding",
            "缴费文件须为 Excel（xlsx）或 UTF-8 编码的 CSV",
            errors=[{"field": "file", "message": "请上传 xlsx，或另存为 UTF-8 CSV"}],
        ) from None


@router.get("/accounts", response_model=AccountOut, summary="个人账户及其明细")
async def account(actor: InsuredOrStaff, uow: UoW, person_id: uuid.UUID | None = None) -> dict:
    found = await uow.read(contributions.account_of, actor, person_id)
    entries = [
        EntryOut(
            kind=e.kind.value,
            amount=e.amount,
            booked_on=e.on,
            month=f"{m:%Y-%m}" if m else None,
            reference=e.reference,
        )
        for e, m in found.entries
    ]
    return AccountOut(person_id=found.person_id, balance=found.balance, entries=entries).model_dump(
        mode="json"
    )
