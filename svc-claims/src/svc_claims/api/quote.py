"""POST /claims/quote: compute a bill from an explicit context, saving nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.errors import Problem
from shared.money import Money, NonNegativeMoney
from shared.service import UoW
from svc_claims import usecases
from svc_claims.domain.benefits import Accumulators, Bill, QuoteContext, QuoteError, quote
from svc_claims.policy import Policy, PolicyNotFound, Tier, load_policy

router = APIRouter(tags=["待遇计算"])
Staff = Annotated[Principal, require_roles(Role.staff)]

ZERO = Decimal("0.00")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccumulatorsIn(_In):
    stays: int = Field(0, ge=0, le=366, description="本年度已住院次数（含家庭病床）")
    deductible_used: NonNegativeMoney = Field(ZERO, description="本年度住院与门特合并起付线已负担金额")
    fund_paid: NonNegativeMoney = Field(ZERO, description="本年度统筹基金已支付（住院+门特，计入最高支付限额）")
    outpatient_deductible_used: NonNegativeMoney = Field(ZERO, description="本年度普通门诊起付线已负担金额")
    outpatient_fund_paid: NonNegativeMoney = Field(ZERO, description="本年度普通门诊基金已支付")
    outpatient_in_scope: NonNegativeMoney = Field(ZERO, description="本年度普通门诊政策范围内费用")
    sickbed_days: int = Field(0, ge=0, le=366, description="本年度家庭病床已用天数")
    major_illness_burden: NonNegativeMoney = Field(ZERO, description="本年度计入大病保险的政策范围内个人负担")
    major_illness_paid: NonNegativeMoney = Field(ZERO, description="本年度大病保险已支付")
    assistance_inpatient_burden: NonNegativeMoney = Field(ZERO, description="本年度住院（含门特）救助已计入的个人负担")
    assistance_outpatient_paid: NonNegativeMoney = Field(ZERO, description="本年度门诊救助已支付")
    assistance_paid: NonNegativeMoney = Field(ZERO, description="本年度医疗救助（含优抚补助）已支付")


class QuoteRequest(_In):
    region: str = Field("120000", pattern=r"^[0-9]{6}$", description="统筹区代码")
    scheme: Literal["employee", "flexible", "resident"] = Field(description="险种")
    tier: Tier = Field(description="缴费档次")
    special_groups: list[str] = Field([], max_length=20, description="特殊人群：subsistence 低保、extreme_poverty 特困、"
                                      "low_income 低收入、severe_disability 重度残疾、children_in_difficulty 困境儿童、"
                                      "martyrs_family/old_soldier/veteran_sent_home 优抚对象")  # fmt: skip
    service_date: date = Field(description="就医（出院）日期，决定适用政策年度")
    policy_year: int | None = Field(None, ge=2000, le=2100, description="适用政策年度（缺省为就医日期所在年度）")
    facility_level: int = Field(ge=1, le=3, description="医疗机构级别（1、2、3）")
    care_type: Literal["inpatient", "special_disease", "family_sickbed", "outpatient", "village_fee"] = Field(
        description="就医类型：住院、门诊特殊病、家庭病床、普通门（急）诊、村卫生室一般诊疗费"
    )
    in_scope: NonNegativeMoney = Field(description="政策范围内费用（元）")
    out_of_scope: NonNegativeMoney = Field(ZERO, description="政策范围外费用（元），个人负担")
    ytd: AccumulatorsIn = Field(default_factory=AccumulatorsIn, description="本年度累计（本次之前）")
    remote: Literal["referred", "self_referred"] | None = Field(None, description="异地就医：referred 转外就医；self_referred 未办理转外自行就医")
    family_doctor: bool = Field(False, description="已签约家庭医生（签约次月起）")
    reformed_level2: bool = Field(False, description="取消药品加成、理顺医疗服务价格的二级定点医疗机构")
    claim_free_years: int = Field(0, ge=0, le=100, description="连续未超过门诊起付标准的年数")
    carried_over_cap: NonNegativeMoney = Field(ZERO, description="往年结转至住院最高支付限额的门诊额度")
    sickbed_days: int = Field(0, ge=0, le=366, description="本次家庭病床天数")
    continues_stay: bool = Field(False, description="跨待遇享受期住院的后一期部分（起付线已负担）")
    not_payable: str | None = Field(None, max_length=40, description="不予支付情形：non_designated、third_party、public_health、abroad")


class LineOut(BaseModel):
    code: str = Field(description="规则代码")
    label: str = Field(description="说明")
    payer: Literal["fund", "major_illness", "assistance", "person"] = Field(description="支付方")
    base: Money = Field(description="计算基数")
    rate: Decimal | None = Field(description="比例")
    amount: Money = Field(description="金额")


class AccumulatorsOut(BaseModel):
    stays: int
    deductible_used: Money
    fund_paid: Money
    outpatient_deductible_used: Money
    outpatient_fund_paid: Money
    outpatient_in_scope: Money
    sickbed_days: int
    major_illness_burden: Money
    major_illness_paid: Money
    assistance_inpatient_burden: Money
    assistance_outpatient_paid: Money
    assistance_paid: Money


class QuoteOut(BaseModel):
    policy: str = Field(description="适用政策：统筹区/险种/年度")
    total: Money = Field(description="医疗费用总额")
    in_scope: Money
    out_of_scope: Money
    fund: Money = Field(description="基本医疗保险统筹基金支付")
    major_illness: Money = Field(description="大病保险支付")
    assistance: Money = Field(description="医疗救助（含优抚补助）支付")
    person: Money = Field(description="个人负担")
    lines: list[LineOut]
    accumulators: AccumulatorsOut = Field(description="本次之后的年度累计")


def shape(bill: Bill) -> QuoteOut:
    a = bill.accumulators
    return QuoteOut(
        policy="/".join(str(k) for k in bill.policy),
        total=bill.total, in_scope=bill.in_scope, out_of_scope=bill.out_of_scope, fund=bill.fund,
        major_illness=bill.major_illness, assistance=bill.assistance, person=bill.person,
        lines=[LineOut(code=ln.code, label=ln.label, payer=ln.payer, base=ln.base, rate=ln.rate, amount=ln.amount)
               for ln in bill.lines],
        accumulators=AccumulatorsOut(**{name: getattr(a, name) for name in AccumulatorsOut.model_fields}),
    )  # fmt: skip


def context_of(body: QuoteRequest) -> QuoteContext:
    return QuoteContext(
        scheme=body.scheme, tier=body.tier, facility_level=body.facility_level, care_type=body.care_type,
        in_scope=body.in_scope, out_of_scope=body.out_of_scope, special_groups=frozenset(body.special_groups),
        ytd=Accumulators(**body.ytd.model_dump()), remote=body.remote, family_doctor=body.family_doctor,
        reformed_level2=body.reformed_level2, claim_free_years=body.claim_free_years,
        carried_over_cap=body.carried_over_cap, sickbed_days=body.sickbed_days, continues_stay=body.continues_stay,
        not_payable=body.not_payable,
    )  # fmt: skip


def policy_for(body: QuoteRequest) -> Policy:
    try:
        return load_policy(body.region, body.scheme, body.policy_year or body.service_date.year)
    except PolicyNotFound as exc:
        raise Problem(422, "policy_not_found", "没有适用的待遇政策", str(exc)) from None


@contextmanager
def quote_errors() -> Iterator[None]:
    try:
        yield
    except QuoteError as exc:
        raise Problem(422, "invalid_quote", "测算参数不合法", str(exc)) from None


@router.post("/quote", response_model=QuoteOut, summary="待遇测算（不保存）")
async def quote_claim(body: QuoteRequest, actor: CurrentPrincipal) -> QuoteOut:
    """按明确给出的参保情况与本年度累计计算一张结算单：基本医保 → 大病保险 → 医疗救助，逐行说明。"""
    policy = policy_for(body)
    with quote_errors():
        return shape(quote(context_of(body), policy))


class SettlementRequest(QuoteRequest):
    ytd: None = Field(None, description="不可指定：按该参保人本年度已结算的记录累计")


class SettlementOut(QuoteOut):
    id: uuid.UUID = Field(description="结算记录编号")


@router.post("/persons/{person_id}/settlements", status_code=201, response_model=SettlementOut, summary="待遇结算（按已结算累计计算并记录）")
async def settle(person_id: uuid.UUID, body: SettlementRequest, actor: Staff, uow: UoW) -> SettlementOut:
    """与测算同一规则；起付线、最高支付限额等按该参保人本年度已结算的账单累计，并发结算依次进行。"""
    policy = policy_for(body)
    context = context_of(body.model_copy(update={"ytd": AccumulatorsIn()}))
    async with uow:
        with quote_errors():
            settlement_id, bill = await usecases.settle_bill(
                uow, actor, person_id, body.service_date, context, policy, body.model_dump(mode="json")
            )
        await uow.commit()
    return SettlementOut(id=settlement_id, **shape(bill).model_dump())


@router.get("/persons/{person_id}/benefit-years/{year}", response_model=AccumulatorsOut, summary="参保人年度累计（已结算）")
async def accumulators(person_id: uuid.UUID, year: Annotated[int, Path(ge=2000, le=2100)], actor: CurrentPrincipal, uow: UoW) -> AccumulatorsOut:
    async with uow:
        a = await usecases.benefit_year(uow, actor, person_id, year)
    return AccumulatorsOut(**{name: getattr(a, name) for name in AccumulatorsOut.model_fields})
