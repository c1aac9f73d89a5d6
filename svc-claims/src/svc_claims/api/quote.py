"""POST /claims/quote: compute a bill from an explicit context, saving nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.db import UnitOfWork
from shared.errors import Invalid
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.money import Money, NonNegativeMoney
from shared.service import Runtime, UoW
from svc_claims.domain.benefits import Accumulators, Bill, QuoteContext, QuoteError, quote
from svc_claims.repository.policies import Policy, PolicyNotFound, policy_in_force, recent_policy_in_force
from svc_claims.settings import sample_allowed
from svc_claims.usecases import eligibility as usecases

router = APIRouter(tags=["待遇计算"])
Staff = Annotated[Principal, require_roles(Role.staff)]

ZERO = Decimal("0.00")
SpecialGroup = Literal[
    "subsistence", "extreme_poverty", "low_income", "severe_disability", "children_in_difficulty", "other_hardship",
    "price_subsidy_low_income", "martyrs_family", "old_soldier", "veteran_sent_home", "illness_impoverished",
]  # fmt: skip


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccumulatorsIn(_In):
    claim_free_years: int = Field(
        0, ge=0, le=100, description="本年度起：连续未超过门诊起付标准的年数（门诊起付线降低100/200/300元）"
    )
    carried_over_cap: NonNegativeMoney = Field(
        ZERO, description="本年度起：往年结转、尚未使用的门诊额度（加入住院最高支付限额）"
    )
    stays: int = Field(0, ge=0, le=366, description="本年度已住院次数（含家庭病床）")
    deductible_used: NonNegativeMoney = Field(ZERO, description="本年度住院与门特合并起付线已负担金额")
    fund_paid: NonNegativeMoney = Field(
        ZERO, description="本年度统筹基金已支付（住院+门特，计入最高支付限额）"
    )
    outpatient_deductible_used: NonNegativeMoney = Field(ZERO, description="本年度普通门诊起付线已负担金额")
    outpatient_fund_paid: NonNegativeMoney = Field(
        ZERO, description="本年度普通门诊（含村卫生室一般诊疗费）基金已支付"
    )
    outpatient_in_scope: NonNegativeMoney = Field(
        ZERO, description="本年度普通门诊政策范围内费用（不含一般诊疗费）"
    )
    village_fee_in_scope: NonNegativeMoney = Field(ZERO, description="本年度村卫生室一般诊疗费")
    family_doctor: bool = Field(False, description="本年度已享受家庭医生签约待遇")
    sickbed_days: int = Field(0, ge=0, le=366, description="本年度家庭病床已用天数")
    major_illness_burden: NonNegativeMoney = Field(ZERO, description="本年度计入大病保险的政策范围内个人负担")
    major_illness_paid: NonNegativeMoney = Field(ZERO, description="本年度大病保险已支付")
    assistance_inpatient_burden: NonNegativeMoney = Field(
        ZERO, description="本年度住院（含门特）救助已计入的个人负担"
    )
    assistance_outpatient_paid: NonNegativeMoney = Field(ZERO, description="本年度门诊救助已支付")
    assistance_paid: NonNegativeMoney = Field(ZERO, description="本年度医疗救助已支付（全部）")
    veterans_paid: NonNegativeMoney = Field(ZERO, description="本年度优抚对象医疗补助已支付")
    catastrophic_burden: NonNegativeMoney = Field(
        ZERO, description="本年度重特大疾病医疗救助已计入的个人负担"
    )
    catastrophic_paid: NonNegativeMoney = Field(ZERO, description="本年度重特大疾病医疗救助已支付")
    illness_burden: NonNegativeMoney = Field(ZERO, description="本年度因病支出型救助已计入的个人负担")
    illness_paid: NonNegativeMoney = Field(ZERO, description="本年度本人因病支出型救助已获金额")


class QuoteRequest(_In):
    region: str | None = Field(None, pattern=r"^[0-9]{6}$", description="统筹区代码（缺省为本部署的统筹区）")
    scheme: Literal["employee", "flexible", "resident"] = Field(
        description="险种：resident 城乡居民；employee 职工（示例数据）"
    )
    tier: str = Field(max_length=30, description="缴费档次：居民 student_child 学生儿童、adult_high 成年高档、adult_middle 中档、"
                      "adult_low 低档；职工（示例） in_service 在职、retired 退休")  # fmt: skip
    special_groups: list[SpecialGroup] = Field([], max_length=20, description="特殊人群：subsistence 低保、extreme_poverty 特困、"
                                               "low_income 低收入、severe_disability 重度残疾、children_in_difficulty 困境儿童、"
                                               "other_hardship 其他特殊困难、price_subsidy_low_income 领取物价补贴的低收入家庭、"
                                               "martyrs_family/old_soldier/veteran_sent_home 优抚对象、illness_impoverished 因病支出型困难家庭")  # fmt: skip
    service_date: date = Field(description="就医（出院/结算）日期，决定适用政策年度")
    admission_date: date | None = Field(
        None, description="入院日期（住院、家庭病床）；早于本待遇享受期起始日即为跨期住院的后一期部分"
    )
    benefit_period_start: date | None = Field(
        None, description="本待遇享受期起始日（缺省为就医日期所在年度1月1日）"
    )
    policy_year: int | None = Field(
        None, ge=2000, le=2100, description="适用政策年度（缺省为就医日期所在年度）"
    )
    facility_level: int = Field(ge=1, le=3, description="医疗机构级别（1、2、3）")
    care_type: Literal["inpatient", "special_disease", "family_sickbed", "outpatient", "village_fee"] = Field(
        description="就医类型：住院、门诊特殊病、家庭病床、普通门（急）诊、村卫生室一般诊疗费"
    )
    in_scope: NonNegativeMoney = Field(description="政策范围内费用（元）")
    out_of_scope: NonNegativeMoney = Field(ZERO, description="政策范围外费用（元），个人负担")
    ytd: AccumulatorsIn = Field(default_factory=AccumulatorsIn, description="本年度累计（本次之前）")
    remote: Literal["referred", "self_referred", "resident_remote", "temporary_emergency"] | None = Field(
        None,
        description="异地就医：referred 转外就医；self_referred 未办理转外自行就医；resident_remote 异地居住；temporary_emergency 临时外出急症",
    )
    family_doctor_signed_on: date | None = Field(
        None, description="家庭医生签约日期（签约次月起门诊额度+200元、比例+5个百分点）"
    )
    reformed_level2: bool = Field(
        False, description="已登记的取消药品加成、理顺医疗服务价格的二级定点医疗机构"
    )
    sickbed_days: int = Field(0, ge=0, le=366, description="本次家庭病床天数")
    continues_stay: bool = Field(
        False, description="跨待遇享受期住院的后一期部分（起付线已负担）；也可由入院日期推出"
    )
    not_payable: str | None = Field(
        None, max_length=40, description="不予支付情形：non_designated、third_party、public_health、abroad"
    )
    family_illness_paid: NonNegativeMoney | None = Field(
        None, description="家庭本年度已获因病支出型救助（缺省为本人累计）"
    )


class LineOut(BaseModel):
    code: str = Field(description="规则代码")
    label: str = Field(description="说明")
    payer: Literal["fund", "major_illness", "assistance", "veterans", "person"] = Field(description="支付方")
    base: Money = Field(description="计算基数")
    rate: Decimal | None = Field(description="比例")
    amount: Money = Field(description="金额")
    sample: bool = Field(description="用到了文件未给出的示例数值")


class AccumulatorsOut(BaseModel):
    claim_free_years: int
    carried_over_cap: Money
    stays: int
    deductible_used: Money
    fund_paid: Money
    outpatient_deductible_used: Money
    outpatient_fund_paid: Money
    outpatient_in_scope: Money
    village_fee_in_scope: Money
    family_doctor: bool
    sickbed_days: int
    major_illness_burden: Money
    major_illness_paid: Money
    assistance_inpatient_burden: Money
    assistance_outpatient_paid: Money
    assistance_paid: Money
    veterans_paid: Money
    catastrophic_burden: Money
    catastrophic_paid: Money
    illness_burden: Money
    illness_paid: Money


def accumulators_out(a: Accumulators) -> AccumulatorsOut:
    return AccumulatorsOut(**{name: getattr(a, name) for name in AccumulatorsOut.model_fields})


class QuoteOut(BaseModel):
    policy: str = Field(description="适用政策：统筹区/险种/年度")
    sample: bool = Field(description="结果用到了示例数据（非文件给出的数值），仅供演示")
    total: Money = Field(description="医疗费用总额")
    in_scope: Money
    out_of_scope: Money
    fund: Money = Field(description="基本医疗保险统筹基金支付")
    major_illness: Money = Field(description="大病保险支付")
    assistance: Money = Field(description="医疗救助支付")
    veterans: Money = Field(description="优抚对象医疗补助")
    person: Money = Field(description="个人负担")
    lines: list[LineOut]
    accumulators: AccumulatorsOut = Field(description="本次之后的年度累计")


def shape(bill: Bill) -> QuoteOut:
    return QuoteOut(
        policy="/".join(str(k) for k in bill.policy), sample=bill.sample,
        total=bill.total, in_scope=bill.in_scope, out_of_scope=bill.out_of_scope, fund=bill.fund,
        major_illness=bill.major_illness, assistance=bill.assistance, veterans=bill.veterans, person=bill.person,
        lines=[LineOut(**line.record()) for line in bill.lines],
        accumulators=accumulators_out(bill.accumulators),
    )  # fmt: skip


def context_of(body: QuoteRequest) -> QuoteContext:
    return QuoteContext(
        scheme=body.scheme, tier=body.tier, facility_level=body.facility_level, care_type=body.care_type,
        in_scope=body.in_scope, out_of_scope=body.out_of_scope, special_groups=frozenset(body.special_groups),
        ytd=Accumulators(**body.ytd.model_dump()), remote=body.remote, reformed_level2=body.reformed_level2,
        sickbed_days=body.sickbed_days, continues_stay=body.continues_stay, not_payable=body.not_payable,
        service_date=body.service_date, admission_date=body.admission_date,
        benefit_period_start=body.benefit_period_start, family_doctor_signed_on=body.family_doctor_signed_on,
        family_illness_paid=body.family_illness_paid,
    )  # fmt: skip


def policy_day(body: QuoteRequest) -> date:
    """The service date (or, for another policy year, the day of that year nearest the service date)."""
    year = body.policy_year or body.service_date.year
    return (
        body.service_date
        if year == body.service_date.year
        else date(year, 12, 31)
        if year < body.service_date.year
        else date(year, 1, 1)
    )


async def policy_for(uow: UnitOfWork, body: QuoteRequest) -> Policy:
    """The version in force on the policy day, read afresh."""
    try:
        return await policy_in_force(uow, body.region, body.scheme, policy_day(body))
    except PolicyNotFound as exc:
        raise Invalid("policy_not_found", "没有适用的待遇政策", str(exc)) from None


@contextmanager
def quote_errors() -> Iterator[None]:
    try:
        yield
    except QuoteError as exc:
        raise Invalid("invalid_quote", "测算参数不合法", str(exc)) from None


@router.post("/quote", response_model=QuoteOut, summary="待遇测算（不保存）")
async def quote_claim(body: QuoteRequest, actor: CurrentPrincipal, uow: UoW) -> QuoteOut:
    """按明确给出的参保情况与本年度累计计算一张结算单（不保存）：基本医保 → 大病保险 → 医疗救助/优抚补助，逐行说明；
    与实际结算同一规则、同一结果。任何已登录用户可用（参保人估算、经办人员核对）。适用就医日期当日生效的政策版本。"""
    policy = recent_policy_in_force(
        body.region, body.scheme, policy_day(body)
    )  # a few seconds' view: no round trip
    if policy is None:
        policy = await uow.read(policy_for, body)
    with quote_errors():
        return shape(quote(context_of(body), policy))


class SettlementRequest(QuoteRequest):
    ytd: None = Field(None, description="不可指定：按该参保人本年度已结算的记录累计")  # type: ignore[assignment]  # a settlement takes the year from the records, never from the caller
    facility_code: str = Field(
        pattern=r"^[A-Z0-9]{6,20}$", description="定点医疗机构编码（与票据号一起确定一张票据，只结算一次）"
    )
    receipt_no: str = Field(
        min_length=1, max_length=60, pattern=r"^[0-9A-Za-z\-_/]+$", description="票据（结算单）号"
    )


class SettlementOut(QuoteOut):
    id: uuid.UUID = Field(description="结算记录编号")


def stored_settlement(settlement_id: uuid.UUID, bill: dict) -> SettlementOut:
    """A settlement as recorded (a repeated request answers it again)."""
    return SettlementOut(id=settlement_id, **{**bill, "policy": "/".join(str(k) for k in bill["policy"])})


@router.post("/persons/{person_id}/settlements", status_code=201, response_model=SettlementOut, summary="待遇结算（按已结算累计计算并记录）",
             responses={200: {"description": "同一票据同一请求已结算过：返回首次结算结果"}})  # fmt: skip
async def settle(person_id: uuid.UUID, body: SettlementRequest, request: Request, actor: Staff, uow: UoW, runtime: Runtime,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:  # fmt: skip
    """与测算同一规则；缴费档次、特殊人群按参保记录；起付线、最高支付限额等按该参保人本年度已结算的账单累计，并发结算依次进行。
    一张票据（机构编码+票据号）只结算一次：同一请求重复提交返回首次结果（200），不同内容 409 duplicate_receipt。"""
    context = context_of(body.model_copy(update={"ytd": AccumulatorsIn()}))
    allow_sample = sample_allowed(runtime.settings)

    async def command() -> tuple[int, dict]:
        with quote_errors():
            settlement_id, bill, _ = await usecases.settle_receipt(
                uow, actor, person_id, receipt=(body.facility_code, body.receipt_no), service_date=body.service_date,
                context=context, policy=policy, request=body.model_dump(mode="json"), allow_sample=allow_sample,
            )  # fmt: skip
        if isinstance(bill, dict):  # the first settlement of this receipt, as recorded
            return 200, stored_settlement(settlement_id, bill).model_dump(mode="json")
        return 201, SettlementOut(id=settlement_id, **shape(bill).model_dump()).model_dump(mode="json")

    async with uow:
        # Another office's person: 404 before any other answer.
        await usecases.require_reach(uow, actor, person_id)
        policy = await policy_for(uow, body)
        return await run_idempotent(uow, request, actor.subject, idempotency_key, command)


@router.get(
    "/persons/{person_id}/benefit-years/{year}",
    response_model=AccumulatorsOut,
    summary="参保人年度累计（已结算）",
)
async def accumulators(
    person_id: uuid.UUID,
    year: Annotated[int, Path(ge=2000, le=2100)],
    actor: CurrentPrincipal,
    uow: UoW,
    scheme: Annotated[
        Literal["employee", "flexible", "resident"], Query(description="险种（各险种分别累计）")
    ] = "resident",
) -> AccumulatorsOut:
    return accumulators_out(await uow.read(usecases.benefit_year, actor, person_id, scheme=scheme, year=year))
