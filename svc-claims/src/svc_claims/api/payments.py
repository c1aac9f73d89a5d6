"""Benefit payments computed by rule: maternity (resident amounts, the employee allowance) and the
personal account's one-time withdrawal; then acceptance, city approval and payment."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import Invalid
from shared.http.idempotency import IdempotencyKey, create_idempotently
from shared.money import Money, NonNegativeMoney
from shared.service import Runtime, ServiceRuntime, UoW
from svc_claims.api.reimbursements import PayIn, RejectIn, VersionIn
from svc_claims.domain.account import Reason
from svc_claims.domain.payment import BenefitPayment
from svc_claims.domain.reimbursement import AccountOwner
from svc_claims.settings import sample_allowed
from svc_claims.usecases import payments as usecases
from svc_claims.usecases.reimbursements import masked_account

router = APIRouter(tags=["生育保险与个人账户"])
Person = Annotated[Principal, require_roles(Role.insured, Role.staff)]
UnitOrStaff = Annotated[Principal, require_roles(Role.unit, Role.staff)]
Reader = Annotated[Principal, require_roles(Role.insured, Role.unit, Role.staff, Role.admin)]
Staff = Annotated[Principal, require_roles(Role.staff)]
Account = Annotated[str, Field(pattern=r"^\d{10,30}$", description="收款账户")]


class MaternityItemIn(BaseModel):
    item: str = Field(
        pattern=r"^[a-z_]{3,40}$",
        description="prenatal 产前检查、natural_delivery 自然分娩、induced_labour 引产……",
    )
    cost: NonNegativeMoney
    weeks: int | None = Field(None, ge=0, le=45, description="产前检查：终止妊娠或分娩时的孕周")
    delivered: bool = False


class ResidentMaternityIn(BaseModel):
    person_id: uuid.UUID | None = None
    event_date: date = Field(description="分娩或终止妊娠（手术）日期")
    facility_level: int = Field(ge=1, le=3)
    items: list[MaternityItemIn] = Field(min_length=1, max_length=20)
    bank_account: Account
    id_number: str | None = Field(
        None,
        min_length=15,
        max_length=18,
        description="参保人身份证号码：参保记录中没有性别时核验（须为该参保人的号码）",
    )


class AllowanceClaimIn(BaseModel):
    case: Literal["delivery", "miscarriage_before_4_months", "miscarriage_from_4_months"]
    average_monthly_wage: NonNegativeMoney = Field(description="单位上年度职工月平均工资")
    extra_babies: int = Field(0, ge=0, le=5)
    difficult: bool = Field(False, description="难产")


class AllowanceIn(AllowanceClaimIn):
    person_id: uuid.UUID
    event_date: date = Field(description="分娩或终止妊娠日期（申报期：次月起12个月内）")
    remote: bool = Field(False, description="异地生育（须有生育保险异地就医登记）")
    bank_account: Account
    id_number: str | None = Field(
        None,
        min_length=15,
        max_length=18,
        description="参保人身份证号码：参保记录中没有性别时核验（须为该参保人的号码）",
    )


class EmployeeMaternityIn(BaseModel):
    person_id: uuid.UUID
    event_date: date = Field(description="分娩或终止妊娠（手术）日期（申报期：次月起12个月内）")
    facility_level: int | None = Field(None, ge=1, le=3, description="就医医疗机构级别（申报医疗费时必填）")
    items: list[MaternityItemIn] = Field(
        [], max_length=20, description="垫付的生育医疗费（按职工生育保险示例表计算）"
    )
    allowance: AllowanceClaimIn | None = Field(None, description="一并申报的生育津贴")
    remote: bool = Field(False, description="异地生育（申报津贴时须有生育保险异地就医登记）")
    account_owner: AccountOwner = Field(
        AccountOwner.unit, description="收款账户：unit 用人单位、person 参保人"
    )
    bank_account: Account
    id_number: str | None = Field(
        None,
        min_length=15,
        max_length=18,
        description="参保人身份证号码：参保记录中没有性别时核验（须为该参保人的号码）",
    )

    @model_validator(mode="after")
    def _something_to_pay(self) -> EmployeeMaternityIn:
        if not self.items and self.allowance is None:
            raise ValueError("须申报生育医疗费或生育津贴")
        return self


class WithdrawalIn(BaseModel):
    person_id: uuid.UUID | None = None
    reason: Reason
    heirs_commitment: bool = Field(False, description="死亡支取：法定继承人承诺书")
    to_proxy: bool = Field(False, description="支付至代办人账户")
    proxy_commitment: bool = Field(False, description="代办人承诺书")
    contribution_years: int = Field(0, ge=0, le=80, description="缴费年限（不满15年支取）")
    pension_account_settled: bool = Field(False, description="已办理养老保险个人账户一次性结算")
    bank_account: Account


class LineOut(BaseModel):
    code: str
    label: str
    base: Money
    amount: Money
    rule: str


class PaymentOut(BaseModel):
    id: uuid.UUID
    kind: str
    person_id: uuid.UUID
    office_code: str
    unit_code: str | None
    amount: Money
    lines: list[LineOut]
    basis: dict
    bank_account: str
    status: str
    version: int
    accepted_on: date | None
    expected_payment_by: date | None
    expected_payment_provisional: bool = Field(description="所涉年度节假日安排未公布，按周末推算，公布后重算")
    rejection: str | None
    sample: bool = Field(False, description="按示例数据（文件未给出的数值）计算：生产环境不予核准和支付")
    steps: list[dict]


class PaymentsOut(BaseModel):
    items: list[PaymentOut]
    total: int
    page: int
    size: int


def shape(p: BenefitPayment) -> dict:
    return PaymentOut(
        id=p.id, kind=p.kind.value, person_id=p.person_id, office_code=p.office_code, unit_code=p.unit_code, amount=p.amount,
        lines=[LineOut(**line.__dict__) for line in p.lines], basis=p.basis, bank_account=masked_account(p.bank_account),
        status=p.status.value, version=p.version, accepted_on=p.accepted_on, expected_payment_by=p.due_on,
        expected_payment_provisional=p.due_provisional, rejection=p.rejection, sample=p.sample,
        steps=[{"status": s.status.value, "by": s.by, "at": s.at.isoformat(), "note": s.note} for s in p.steps],
    ).model_dump(mode="json")  # fmt: skip


def _person(actor: Principal, person_id: uuid.UUID | None) -> uuid.UUID:
    person = actor.person_id if actor.role is Role.insured else person_id
    if person is None:
        raise Invalid(
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "person_id", "message": "代办时须填写参保人"}],
        )
    return person


def _identity(number: str | None, runtime: ServiceRuntime) -> usecases.Identity:
    return usecases.Identity(number, runtime.settings.person_id_key.encode())


async def _created(uow: UoW, request: Request, actor: Principal, key: str | None, make) -> JSONResponse:  # type: ignore[no-untyped-def]
    return await create_idempotently(uow, request, actor.subject, key, make, shape)


@router.post(
    "/maternity/resident",
    status_code=201,
    response_model=PaymentOut,
    summary="居民生育医疗费报销（产前检查、分娩、计划生育）",
)
async def resident_maternity(body: ResidentMaternityIn, request: Request, actor: Person, uow: UoW, runtime: Runtime,
                             idempotency_key: IdempotencyKey = None):  # fmt: skip
    """按人、按事件各支付一次：产前检查按一次妊娠的限额，分娩或终止妊娠每次妊娠一次，手术每日一次；项目限本人性别（按参保记录）；
    产前检查、分娩及其项目须有当日有效的妊娠登记。重复申报同一事件 409 maternity_already_claimed。"""
    items = [i.model_dump() for i in body.items]
    return await _created(uow, request, actor, idempotency_key, lambda: usecases.file_resident_maternity(
        uow, actor, _person(actor, body.person_id), body.event_date, body.facility_level, items, body.bank_account,
        _identity(body.id_number, runtime)))  # fmt: skip


@router.post(
    "/maternity/employee",
    status_code=201,
    response_model=PaymentOut,
    summary="职工生育医疗费与生育津贴（单位申报）",
)
async def employee_maternity(body: EmployeeMaternityIn, request: Request, actor: UnitOrStaff, uow: UoW, runtime: Runtime,
                             idempotency_key: IdempotencyKey = None):  # fmt: skip
    """用人单位于生育或终止妊娠次月起12个月内申报职工垫付的生育医疗费，可一并申报生育津贴；金额按示例表计算（文件未给出职工标准）。"""
    allowance = body.allowance.model_dump() if body.allowance else None
    return await _created(uow, request, actor, idempotency_key, lambda: usecases.file_employee_maternity(
        uow, actor, body.person_id, body.event_date, body.facility_level, [i.model_dump() for i in body.items], allowance,
        body.remote, body.account_owner, body.bank_account, _identity(body.id_number, runtime)))  # fmt: skip


@router.post(
    "/maternity/allowance", status_code=201, response_model=PaymentOut, summary="职工生育津贴（单位申报）"
)
async def maternity_allowance(body: AllowanceIn, request: Request, actor: UnitOrStaff, uow: UoW, runtime: Runtime,
                              idempotency_key: IdempotencyKey = None):  # fmt: skip
    """只申报生育津贴（无垫付医疗费），付至参保人账户。"""
    allowance = body.model_dump(include=set(AllowanceClaimIn.model_fields))
    return await _created(uow, request, actor, idempotency_key, lambda: usecases.file_employee_maternity(
        uow, actor, body.person_id, body.event_date, None, [], allowance, body.remote, AccountOwner.person, body.bank_account,
        _identity(body.id_number, runtime)))  # fmt: skip


@router.post("/account-withdrawals", status_code=201, response_model=PaymentOut, summary="个人账户一次性支取")
async def withdrawal(
    body: WithdrawalIn, request: Request, actor: Person, uow: UoW, idempotency_key: IdempotencyKey = None
):
    return await _created(uow, request, actor, idempotency_key, lambda: usecases.file_withdrawal(
        uow, actor, _person(actor, body.person_id), body.reason, body.heirs_commitment, body.proxy_commitment, body.to_proxy,
        body.contribution_years, body.pension_account_settled, body.bank_account))  # fmt: skip


@router.get("/payments", response_model=PaymentsOut, summary="待遇支付申请列表")
async def list_payments(actor: Reader, uow: UoW, page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                        size: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:  # fmt: skip
    found, total = await uow.read(usecases.payments_of, actor, offset=(page - 1) * size, limit=size)
    return PaymentsOut(
        items=[PaymentOut(**shape(p)) for p in found], total=total, page=page, size=size
    ).model_dump(mode="json")


@router.get("/payments/{payment_id}", response_model=PaymentOut, summary="查看待遇支付申请")
async def get_payment(payment_id: uuid.UUID, actor: Reader, uow: UoW) -> dict:
    return shape(await uow.read(usecases.visible_payment, actor, payment_id))


@router.post(
    "/payments/{payment_id}/accept",
    response_model=PaymentOut,
    summary="受理（生育20个工作日、个人账户15个工作日内支付）",
)
async def accept(payment_id: uuid.UUID, body: VersionIn, actor: Staff, uow: UoW) -> dict:
    return shape(await uow.run(usecases.accept, actor, payment_id, version=body.version))


@router.post("/payments/{payment_id}/approve", response_model=PaymentOut, summary="市级核准")
async def approve(payment_id: uuid.UUID, body: VersionIn, actor: Staff, uow: UoW, runtime: Runtime) -> dict:
    allow_sample = sample_allowed(runtime.settings)
    return shape(
        await uow.run(usecases.approve, actor, payment_id, version=body.version, allow_sample=allow_sample)
    )


@router.post("/payments/{payment_id}/pay", response_model=PaymentOut, summary="支付")
async def pay(payment_id: uuid.UUID, body: PayIn, actor: Staff, uow: UoW, runtime: Runtime) -> dict:
    allow_sample = sample_allowed(runtime.settings)
    return shape(
        await uow.run(
            usecases.pay,
            actor,
            payment_id,
            version=body.version,
            reference=body.reference,
            allow_sample=allow_sample,
        )
    )


@router.post("/payments/{payment_id}/reject", response_model=PaymentOut, summary="不予支付（附原因）")
async def reject(payment_id: uuid.UUID, body: RejectIn, actor: Staff, uow: UoW) -> dict:
    return shape(
        await uow.run(
            usecases.reject, actor, payment_id, reason=body.reason, note=body.note, version=body.version
        )
    )
