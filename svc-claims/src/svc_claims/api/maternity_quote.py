"""POST /claims/maternity/quote: what maternity items would pay, without filing anything ("what would I get")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shared.auth.dependencies import CurrentPrincipal
from shared.db import UnitOfWork
from shared.errors import Invalid
from shared.money import Money, NonNegativeMoney
from shared.service import UoW
from svc_claims.domain.maternity import (
    DELIVERIES,
    MaternityBenefit,
    MaternityError,
    MaternityTable,
    maternity_item,
    prenatal,
)
from svc_claims.repository.policies import (
    PolicyNotFound,
    deployment_region,
    maternity_in_force,
    policy_in_force,
)

router = APIRouter(tags=["待遇计算"])

# The item codes of the maternity tables (data/maternity/*.json; a test keeps the two the same).
MaternityItem = Literal[
    "prenatal", "natural_delivery", "assisted_delivery", "caesarean", "caesarean_with_surgery", "delivery_complication",
    "severe_comorbidity", "referral_sending_hospital", "induced_labour", "abortion", "high_risk_abortion",
    "iud_insertion_or_removal", "iud_replacement", "female_sterilisation", "male_sterilisation", "sterilisation_reversal",
    "complicated_iud_removal", "family_planning_complication", "spontaneous_or_drug_abortion",
]  # fmt: skip
ITEM_WORDS = (
    "prenatal 产前检查、natural_delivery 自然分娩、assisted_delivery 人工干预分娩、caesarean 剖腹产、"
    "caesarean_with_surgery 剖腹产伴子宫肌瘤或卵巢囊肿切除、delivery_complication 分娩期并发症、"
    "severe_comorbidity 分娩期合并严重内外科疾病（住院比例）、referral_sending_hospital 转诊转出医院费用、"
    "induced_labour 引产、abortion 人工流产、high_risk_abortion 高危人工流产、iud_insertion_or_removal 放置（取出）宫内节育器、"
    "iud_replacement 更换宫内节育器、female_sterilisation 女性绝育术、male_sterilisation 男性绝育术、"
    "sterilisation_reversal 绝育术后复通、complicated_iud_removal 复杂宫内节育器取出、"
    "family_planning_complication 计划生育手术并发症、spontaneous_or_drug_abortion 自然流产或药物流产"
)
DEFAULT_TIER = {"resident": "adult_middle", "employee": "in_service"}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MaternityQuoteItem(_In):
    item: MaternityItem = Field(description=ITEM_WORDS)
    cost: NonNegativeMoney = Field(description="该项目医疗费用（元）")
    weeks: int | None = Field(None, ge=0, le=45, description="产前检查：终止妊娠或分娩时的孕周")
    delivered: bool = Field(False, description="产前检查：以分娩结束")


class MaternityQuoteIn(_In):
    scheme: Literal["resident", "employee"] = Field(
        description="险种：resident 城乡居民；employee 职工（示例数据）"
    )
    tier: str | None = Field(
        None,
        max_length=30,
        description="缴费档次（仅“合并严重内外科疾病”按住院比例时用；缺省为成年中档/在职）",
    )
    event_date: date = Field(description="分娩或终止妊娠（手术）日期，决定适用年度")
    facility_level: int = Field(ge=1, le=3, description="医疗机构级别")
    region: str | None = Field(None, pattern=r"^[0-9]{6}$", description="统筹区（缺省为本部署的统筹区）")
    items: list[MaternityQuoteItem] = Field(min_length=1, max_length=20)


class MaternityLineOut(BaseModel):
    item: str
    label: str
    cost: Money
    fund: Money = Field(description="生育保险支付")
    person: Money = Field(description="个人负担")
    rule: str = Field(description="支付方式")


class MaternityQuoteOut(BaseModel):
    table: str = Field(
        description="适用的生育保险待遇表版本：统筹区/maternity/险种/年度/版本（服务日期当日生效的版本）"
    )
    sample: bool = Field(description="用到了示例数据，仅供演示")
    fund: Money
    person: Money
    lines: list[MaternityLineOut]


def benefits_of(body: MaternityQuoteIn, table, inpatient_ratio: Decimal | None) -> list[MaternityBenefit]:  # type: ignore[no-untyped-def]
    """The prenatal checks summed under one limit (the band of the weeks at the end), each other item by the table."""
    checks = [i for i in body.items if i.item == "prenatal"]
    found: list[MaternityBenefit] = []
    if checks:
        delivered = any(i.delivered for i in checks) or any(i.item in DELIVERIES for i in body.items)
        weeks = max((i.weeks for i in checks if i.weeks is not None), default=None)
        found.append(prenatal(table, sum((i.cost for i in checks), Decimal("0.00")), weeks, delivered))
    others = [i for i in body.items if i.item != "prenatal"]
    return found + [
        maternity_item(table, i.item, i.cost, body.facility_level, inpatient_ratio) for i in others
    ]


async def inpatient_ratio(uow: UnitOfWork, body: MaternityQuoteIn, region: str) -> Decimal | None:
    """The scheme's inpatient ratio for a delivery with a severe comorbidity, if the policy gives one
    (maternity_item names what is missing)."""
    try:
        policy = await policy_in_force(uow, region, body.scheme, body.event_date)
        return policy.basic.inpatient_ratios.ratio(
            body.facility_level, body.tier or DEFAULT_TIER[body.scheme]
        )
    except (PolicyNotFound, KeyError):
        return None


async def table_in_force(uow: UnitOfWork, region: str, body: MaternityQuoteIn) -> MaternityTable:
    """The maternity table version in force on the event day (the release's or a published one)."""
    return await maternity_in_force(uow, region, body.scheme, body.event_date)


@router.post("/maternity/quote", response_model=MaternityQuoteOut, summary="生育待遇测算（不申报、不保存）")
async def quote_maternity(body: MaternityQuoteIn, actor: CurrentPrincipal, uow: UoW) -> MaternityQuoteOut:
    """按生育保险待遇表测算各项目的支付金额：产前检查按孕周限额，分娩、计划生育项目按定额、限额或比例；不申报、不保存，
    任何登录用户可用。项目代码见 items[].item 的枚举。"""
    region = body.region or deployment_region()
    try:
        table = await uow.read(table_in_force, region, body)
    except PolicyNotFound as exc:
        raise Invalid("policy_not_found", "没有适用的生育保险待遇", str(exc)) from None
    ratio = None
    if any(i.item == "severe_comorbidity" for i in body.items):
        ratio = await uow.read(inpatient_ratio, body, region)
    try:
        benefits = benefits_of(body, table, ratio)
    except MaternityError as exc:
        raise Invalid("invalid_quote", "测算参数不合法", str(exc)) from None
    lines = [
        MaternityLineOut(item=b.item, label=b.label, cost=b.cost, fund=b.fund, person=b.person, rule=b.rule)
        for b in benefits
    ]
    return MaternityQuoteOut(
        table=table.key, sample=table.sample, lines=lines,
        fund=sum((b.fund for b in benefits), Decimal("0.00")), person=sum((b.person for b in benefits), Decimal("0.00")),
    )  # fmt: skip
