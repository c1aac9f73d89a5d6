"""Manual reimbursement endpoints (手工报销): filing, supplements, acceptance, review, approval, payment."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import Invalid
from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.money import Money, MoneyOut, NonNegativeMoney
from shared.service import Runtime, UoW
from svc_claims.domain.reimbursement import (
    MATERIALS,
    REJECTION_REASONS,
    REVIEW_REASONS,
    AccountOwner,
    CareType,
    Channel,
    Receipt,
    Reimbursement,
    Requirement,
    ReviewLine,
    ReviewOutcome,
    Status,
    required_papers,
)
from svc_claims.settings import sample_allowed
from svc_claims.usecases import reimbursements as usecases

router = APIRouter(prefix="/reimbursements", tags=["手工报销"])
Filer = Annotated[Principal, require_roles(Role.insured, Role.unit, Role.staff)]
Staff = Annotated[Principal, require_roles(Role.staff)]
Unit = Annotated[Principal, require_roles(Role.unit)]
if TYPE_CHECKING:  # the checker cannot see a Literal built from the catalogue; the schema enumerates it
    Material = str
else:
    Material = Literal[tuple(MATERIALS)]


class ReceiptIn(BaseModel):
    number: Annotated[Text, Field(min_length=1, max_length=60)]
    issued_on: date
    amount: NonNegativeMoney
    in_scope: NonNegativeMoney = Field(description="政策范围内费用")
    out_of_scope: NonNegativeMoney = Field(description="政策范围外费用")


class ClaimIn(BaseModel):
    person_id: uuid.UUID | None = Field(None, description="单位、经办人员代办时填写参保人；本人申请可省略")
    care_type: CareType
    facility_code: str = Field(pattern=r"^[A-Z0-9]{6,20}$", description="就医机构编码（本市定点或异地机构）")
    facility_level: int | None = Field(
        None, ge=1, le=3, description="医疗机构级别：缺省取定点名录；跨省异地或名录中未定级的机构须填写"
    )
    service_from: date
    service_to: date
    receipts: list[ReceiptIn] = Field(min_length=1, max_length=200)
    materials: list[Material] = Field([], max_length=10, description="已提交的材料")
    accident: bool = Field(False, description="意外伤害（须公安、法院等证明）")
    remote_emergency: bool = Field(False, description="异地急诊（门诊费用须附诊断证明）")
    out_of_province: bool = Field(
        False, description="跨省异地就医：按异地就医备案类别计算（未备案按自行外出就医）"
    )
    bank_account: str = Field(pattern=r"^\d{10,30}$", description="收款账户（个人或单位）")
    account_owner: AccountOwner = Field(AccountOwner.person, description="收款账户属于参保人本人或其用人单位")
    channel: Channel | None = Field(
        None,
        description="申报渠道；缺省按申请人角色（本人 person、单位 unit、经办窗口 counter；"
        "经办人员录入街道（乡镇）或学校报送的材料时填 township、school）",
    )
    resubmits: uuid.UUID | None = Field(None, description="被退回后重新申请：原申请编号")


class BatchIn(BaseModel):
    claims: list[ClaimIn] = Field(min_length=1, max_length=500)


class VersionIn(BaseModel):
    version: int = Field(ge=1)


class SupplementIn(VersionIn):
    materials: list[Material] = Field(min_length=1, max_length=10)


class ReviewLineIn(BaseModel):
    receipt: Annotated[Text, Field(min_length=1, max_length=60)]
    outcome: ReviewOutcome
    accepted_in_scope: NonNegativeMoney
    reason: Literal[tuple(REVIEW_REASONS)] = "ok"  # type: ignore[valid-type]


class ReviewIn(VersionIn):
    lines: list[ReviewLineIn] = Field(min_length=1, max_length=200)


class RejectIn(VersionIn):
    reason: Literal[tuple(REJECTION_REASONS)]  # type: ignore[valid-type]
    note: Annotated[Text, Field(max_length=500)] | None = None


class PayIn(VersionIn):
    reference: Annotated[Text, Field(min_length=2, max_length=60)] = Field(description="银行划款凭证号")


class BillLineOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(description="规则代码")
    label: str = Field(description="说明")
    payer: str = Field(description="支付方")
    base: MoneyOut = Field(description="计算基数")
    rate: Decimal | None = Field(None, description="比例")
    amount: MoneyOut = Field(description="金额")
    sample: bool = False


class BillOut(BaseModel):
    """The benefit computed at approval, as stored: every amount written as money (two decimals)."""

    model_config = ConfigDict(extra="allow")
    total: MoneyOut = Field(description="医疗费用总额")
    in_scope: MoneyOut = Field(description="政策范围内费用")
    out_of_scope: MoneyOut = Field(description="政策范围外费用")
    fund: MoneyOut = Field(description="基本医疗保险统筹基金支付")
    major_illness: MoneyOut = Field(description="大病保险支付")
    assistance: MoneyOut = Field(description="医疗救助支付")
    veterans: MoneyOut = Field(description="优抚对象医疗补助")
    person: MoneyOut = Field(description="个人负担")
    lines: list[BillLineOut] = Field(description="逐行计算")
    accumulators: dict[str, Any] = Field(description="计算后的年度累计")
    policy: list[str | int] = Field(description="适用政策：统筹区、险种、年度、版本")
    sample: bool = Field(False, description="用到了示例数据")


class StepOut(BaseModel):
    status: str
    by: str
    at: datetime
    note: str | None


class PaperOut(BaseModel):
    code: str
    name: str
    any_of: list[str] = Field(description="满足此项的材料代码（任一即可）")


class PaymentOrderOut(BaseModel):
    amount: Money = Field(description="应支付金额（统筹基金、大病保险、医疗救助、优抚补助合计）")
    fund: Money
    major_illness: Money
    assistance: Money
    veterans: Money
    bank_account: str
    account_owner: str
    pay_by: date | None = Field(description="最迟支付日期")
    provisional: bool = Field(description="所涉年度节假日安排未公布，按周末推算，公布后重算")
    status: Literal["pending", "paid"]
    paid_on: date | None
    reference: str | None


class ClaimOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    unit_code: str | None
    channel: Channel
    care_type: CareType
    facility_code: str
    facility_level: int
    service_from: date
    service_to: date
    claimed: Money
    receipts: list[dict]
    remote_emergency: bool
    out_of_province: bool
    missing_materials: list[PaperOut] = Field(description="尚缺的材料（一次性告知）")
    status: Status
    version: int
    accepted_on: date | None
    expected_payment_by: date | None = Field(description="最迟支付日期（受理之日起30个工作日）")
    expected_payment_provisional: bool = Field(description="所涉年度节假日安排未公布，按周末推算，公布后重算")
    review: list[dict]
    bill: BillOut | None = Field(description="待遇计算结果，逐行说明（核准后）")
    payment_order: PaymentOrderOut | None = Field(description="支付单（市级核准后生成）")
    bank_account: str
    account_owner: str
    rejection: str | None
    resubmits: uuid.UUID | None
    resubmitted_as: uuid.UUID | None = Field(description="退回后重新申请的新申请编号")
    steps: list[StepOut]


class OutcomeOut(BaseModel):
    row: int
    claim: ClaimOut | None = None
    problem: dict | None = None


class ClaimsOut(BaseModel):
    items: list[ClaimOut]
    total: int
    page: int
    size: int


def paper(r: Requirement) -> PaperOut:
    return PaperOut(code=r.code, name=r.name, any_of=list(r.any_of))


def payment_order(c: Reimbursement) -> PaymentOrderOut | None:
    order = c.payment_order()
    if order is None:
        return None
    return PaymentOrderOut(
        amount=order.amount, fund=order.fund, major_illness=order.major_illness, assistance=order.assistance, veterans=order.veterans,
        bank_account=usecases.masked_account(c.bank_account), account_owner=order.account_owner.value, pay_by=order.pay_by,
        provisional=order.provisional, status="paid" if order.paid_on else "pending", paid_on=order.paid_on, reference=order.reference,
    )  # fmt: skip


def shape(c: Reimbursement) -> ClaimOut:
    """The claim as answered. Routes return the model itself: FastAPI then takes it as it is, where a dict
    would be validated against ClaimOut all over again."""
    return ClaimOut(
        id=c.id, person_id=c.person_id, office_code=c.office_code, unit_code=c.unit_code, channel=c.channel.value,
        care_type=c.care_type.value, facility_code=c.facility_code, facility_level=c.facility_level,
        service_from=c.service_from, service_to=c.service_to, claimed=c.claimed,
        receipts=[{"number": r.number, "issued_on": r.issued_on.isoformat(), "amount": f"{r.amount:.2f}",
                   "in_scope": f"{r.in_scope:.2f}", "out_of_scope": f"{r.out_of_scope:.2f}"} for r in c.receipts],
        remote_emergency=c.remote_emergency, out_of_province=c.out_of_province, missing_materials=[paper(r) for r in c.missing], status=c.status.value,
        version=c.version, accepted_on=c.accepted_on, expected_payment_by=c.due_on, expected_payment_provisional=c.due_provisional,
        review=[{"receipt": x.receipt, "outcome": x.outcome.value, "accepted_in_scope": f"{x.accepted_in_scope:.2f}",
                 "reason": x.reason, "reason_text": REVIEW_REASONS[x.reason]} for x in c.review],
        bill=c.bill, payment_order=payment_order(c), bank_account=usecases.masked_account(c.bank_account),
        account_owner=c.account_owner.value, rejection=c.rejection, resubmits=c.resubmits, resubmitted_as=c.resubmitted_as,
        steps=[StepOut(status=s.status.value, by=s.by, at=s.at, note=s.note) for s in c.steps],
    )  # fmt: skip


CHANNEL_OF_ROLE = {Role.insured: Channel.person, Role.unit: Channel.unit, Role.staff: Channel.counter}


def filing_of(body: ClaimIn, actor: Principal) -> usecases.Filing:
    person = actor.person_id if actor.role is Role.insured else body.person_id
    if person is None:
        raise Invalid(
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "person_id", "message": "代办时须填写参保人"}],
        )
    return usecases.Filing(
        person_id=person, care_type=body.care_type, facility_code=body.facility_code, facility_level=body.facility_level,
        service_from=body.service_from, service_to=body.service_to,
        receipts=tuple(Receipt(r.number, r.issued_on, r.amount, r.in_scope, r.out_of_scope) for r in body.receipts),
        materials=frozenset(body.materials), accident=body.accident, bank_account=body.bank_account,
        channel=body.channel or CHANNEL_OF_ROLE[actor.role], resubmits=body.resubmits, remote_emergency=body.remote_emergency,
        out_of_province=body.out_of_province,
        account_owner=body.account_owner,
    )  # fmt: skip


@router.post("", status_code=201, response_model=ClaimOut, summary="申请手工报销（材料不全时一次性告知）")
async def file_claim(
    body: ClaimIn, request: Request, actor: Filer, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def file() -> tuple[int, dict]:
        return 201, shape(await usecases.file_claim(uow, actor, filing_of(body, actor))).model_dump(
            mode="json"
        )

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, file)


@router.post("/batch", response_model=list[OutcomeOut], summary="单位批量申报（逐条受理或说明原因）")
async def file_batch(
    body: BatchIn, request: Request, actor: Unit, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def file() -> tuple[int, list]:
        outcomes = await usecases.file_batch(uow, actor, [filing_of(c, actor) for c in body.claims])
        return 200, [OutcomeOut(row=row, claim=shape(claim) if claim else None,
                                problem={"status": p.status, "code": p.code, "title": p.title, "detail": p.detail, "errors": p.errors} if p else None
                                ).model_dump(mode="json") for row, claim, p in outcomes]  # fmt: skip

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, file)


@router.get("", response_model=ClaimsOut, summary="报销申请列表（本人、单位职工、本经办机构）")
async def list_claims(
    actor: Filer, uow: UoW, status: Status | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1, size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ClaimsOut:  # fmt: skip
    found, total = await uow.read(
        usecases.claims_of, actor, status=status, offset=(page - 1) * size, limit=size
    )
    return ClaimsOut(items=[shape(c) for c in found], total=total, page=page, size=size)


class PapersOut(BaseModel):
    care_type: str
    papers: list[PaperOut]
    remote_emergency_adds: list[PaperOut] = Field(description="异地急诊另需")
    accident_adds: list[PaperOut] = Field(description="意外伤害另需")


class ReferenceOut(BaseModel):
    papers: list[PapersOut]
    review_reasons: dict[str, str]
    rejection_reasons: dict[str, str]


@router.get(
    "/reference", response_model=ReferenceOut, summary="申报须知：各就医类型所需材料、审核与退回原因代码"
)
async def reference(actor: Filer) -> dict:
    def extra(care: CareType, **flags: bool) -> list[PaperOut]:
        base = set(required_papers(care))
        return [paper(r) for r in required_papers(care, **flags) if r not in base]

    return ReferenceOut(
        papers=[PapersOut(care_type=care.value, papers=[paper(r) for r in required_papers(care)],
                          remote_emergency_adds=extra(care, remote_emergency=True), accident_adds=extra(care, accident=True))
                for care in CareType],
        review_reasons=dict(REVIEW_REASONS), rejection_reasons=dict(REJECTION_REASONS),
    ).model_dump(mode="json")  # fmt: skip


@router.get("/{claim_id}", response_model=ClaimOut, summary="查看报销申请（状态、说明、预计支付日期）")
async def get_claim(claim_id: uuid.UUID, actor: Filer, uow: UoW) -> ClaimOut:
    return shape(await uow.read(usecases.visible_claim, actor, claim_id))


@router.post("/{claim_id}/materials", response_model=ClaimOut, summary="补正材料")
async def supplement(claim_id: uuid.UUID, body: SupplementIn, actor: Filer, uow: UoW) -> ClaimOut:
    materials = frozenset(body.materials)
    return shape(
        await uow.run(usecases.supplement, actor, claim_id, materials=materials, version=body.version)
    )


@router.post("/{claim_id}/accept", response_model=ClaimOut, summary="受理")
async def accept(claim_id: uuid.UUID, body: VersionIn, actor: Staff, uow: UoW) -> ClaimOut:
    return shape(await uow.run(usecases.accept, actor, claim_id, version=body.version))


@router.post("/{claim_id}/review", response_model=ClaimOut, summary="区级审核（逐张票据：通过、核减、拒付）")
async def review(claim_id: uuid.UUID, body: ReviewIn, actor: Staff, uow: UoW) -> ClaimOut:
    lines = [ReviewLine(x.receipt, x.outcome, x.accepted_in_scope, x.reason) for x in body.lines]
    return shape(await uow.run(usecases.review, actor, claim_id, lines=lines, version=body.version))


@router.post("/{claim_id}/approve", response_model=ClaimOut, summary="市级核准（计算待遇、生成支付单）")
async def approve(claim_id: uuid.UUID, body: VersionIn, actor: Staff, uow: UoW, runtime: Runtime) -> ClaimOut:
    allow_sample = sample_allowed(runtime.settings)
    return shape(
        await uow.run(usecases.approve, actor, claim_id, version=body.version, allow_sample=allow_sample)
    )


@router.post("/{claim_id}/pay", response_model=ClaimOut, summary="支付（划款完成）")
async def pay(claim_id: uuid.UUID, body: PayIn, actor: Staff, uow: UoW, runtime: Runtime) -> ClaimOut:
    allow_sample = sample_allowed(runtime.settings)
    return shape(
        await uow.run(
            usecases.pay,
            actor,
            claim_id,
            version=body.version,
            reference=body.reference,
            allow_sample=allow_sample,
        )
    )


@router.post(
    "/{claim_id}/reject", response_model=ClaimOut, summary="不予受理或不予支付（附原因；票据可重新申请）"
)
async def reject(claim_id: uuid.UUID, body: RejectIn, actor: Staff, uow: UoW) -> ClaimOut:
    return shape(
        await uow.run(
            usecases.reject, actor, claim_id, reason=body.reason, note=body.note, version=body.version
        )
    )
