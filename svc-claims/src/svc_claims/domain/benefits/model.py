"""What the engine takes and gives: the context of one claim, the year so far, the explained bill."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, NonNegativeInt
from pydantic_core import core_schema

from shared.money import NonNegativeMoney

CareType = Literal["inpatient", "special_disease", "family_sickbed", "outpatient", "village_fee"]
# 异地就医: referred 转外就医（+5 个百分点自负）; self_referred 未办理转外自行就医（二、三级 +10，其他不予支付）;
# resident_remote 异地居住就医、temporary_emergency 临时外出急症（比例按本市规定执行）.
RemoteClass = Literal["referred", "self_referred", "resident_remote", "temporary_emergency"]
Payer = Literal["fund", "major_illness", "assistance", "veterans", "person"]
PAYERS: tuple[Payer, ...] = ("fund", "major_illness", "assistance", "veterans", "person")

ZERO = Decimal("0.00")
INPATIENT_LIKE: frozenset[str] = frozenset({"inpatient", "special_disease", "family_sickbed"})
STAYS: frozenset[str] = frozenset({"inpatient", "family_sickbed"})
OUTPATIENT_LIKE: frozenset[str] = frozenset({"outpatient", "village_fee"})


class QuoteError(ValueError):
    """The context cannot be computed (unknown level or tier, negative amounts …): a 422 at the API."""


# Line, Accumulators and Bill are slotted, not frozen: a quote builds a dozen of them, and a frozen
# dataclass's __init__ costs five times as much. Nothing changes one once the engine has returned it.


@dataclass(slots=True)
class Accumulators:
    """Per person, scheme and benefit year: the year's entitlements and what earlier claims used.

    Checked where they enter (the API's model, the repository's adapter: non-negative money); the
    engine trusts them as it trusts a loaded policy.
    """

    # -- the year's entitlements, fixed at the start of the year (``rollover.next_year``)
    claim_free_years: NonNegativeInt = 0  # 连续未超过门诊起付标准的年数（次年门诊起付线降低 100/200/300）
    carried_over_cap: NonNegativeMoney = ZERO  # 往年结转、尚未使用的门诊额度，加入住院（含门特）最高支付限额
    # -- used so far
    stays: NonNegativeInt = 0  # 住院次数（含家庭病床）
    deductible_used: NonNegativeMoney = ZERO  # 住院+门特合并起付线已负担
    fund_paid: NonNegativeMoney = ZERO  # 统筹基金已支付（住院+门特，计入18万及结转额度）
    outpatient_deductible_used: NonNegativeMoney = ZERO  # 普通门诊起付线已负担
    outpatient_fund_paid: NonNegativeMoney = ZERO  # 普通门诊（含村卫生室一般诊疗费）基金已支付（计入4000）
    outpatient_in_scope: NonNegativeMoney = ZERO  # 普通门诊政策范围内费用（不含一般诊疗费）
    village_fee_in_scope: NonNegativeMoney = ZERO  # 村卫生室一般诊疗费
    family_doctor: bool = False  # 本年度曾享受家庭医生签约待遇（年末结转按 4200 计）
    sickbed_days: NonNegativeInt = 0  # 家庭病床天数
    major_illness_burden: NonNegativeMoney = ZERO  # 计入大病保险的政策范围内个人负担
    major_illness_paid: NonNegativeMoney = ZERO
    assistance_inpatient_burden: NonNegativeMoney = ZERO  # 住院（含门特）救助已计入的个人负担
    assistance_outpatient_paid: NonNegativeMoney = ZERO  # 门诊救助已支付
    assistance_paid: NonNegativeMoney = ZERO  # 医疗救助（门诊、住院、重特大、因病支出型）已支付
    veterans_paid: NonNegativeMoney = ZERO  # 优抚对象医疗补助已支付
    catastrophic_burden: NonNegativeMoney = ZERO  # 重特大疾病医疗救助已计入的个人负担
    catastrophic_paid: NonNegativeMoney = ZERO
    illness_burden: NonNegativeMoney = ZERO  # 因病支出型家庭救助已计入的个人负担
    illness_paid: NonNegativeMoney = ZERO


@dataclass(frozen=True)
class QuoteContext:
    """Everything one claim is computed from, explicitly (the engine reads no clock and no database)."""

    scheme: str
    tier: str
    facility_level: int
    care_type: CareType
    in_scope: Decimal  # 政策范围内费用（三目内）
    out_of_scope: Decimal = ZERO  # 政策范围外费用，个人负担
    special_groups: frozenset[str] = frozenset()
    ytd: Accumulators = field(default_factory=Accumulators)
    remote: RemoteClass | None = None
    reformed_level2: bool = False  # 已登记的取消药品加成、理顺价格的二级定点医疗机构
    sickbed_days: int = 0  # 本次家庭病床天数
    continues_stay: bool = False  # 跨待遇享受期住院的后一期部分（也可由 admission_date 推出）
    not_payable: str | None = None  # 不予支付情形代码（非定点、第三方负担……）
    service_date: date | None = None  # 就医（出院/结算）日期
    admission_date: date | None = None  # 入院日期（住院、家庭病床）
    benefit_period_start: date | None = None  # 本待遇享受期起始日（缺省：就医日期所在年度1月1日）
    family_doctor_signed_on: date | None = None  # 家庭医生签约日期（签约次月起享受）
    family_illness_paid: Decimal | None = None  # 家庭本年度已获因病支出型救助（缺省：本人累计）


@dataclass(frozen=True, slots=True)
class Rule:
    """What a line applies: its machine code, its words, who pays, at what rate (None: a part taken whole)."""

    code: str  # 规则代码（机器可读）
    label: str  # 中文说明
    payer: Payer
    rate: Decimal | None = None  # 适用比例
    sample: bool = False  # 用到了文件未给出的示例数值（或政策整体为示例数据）


@dataclass(slots=True)
class Line:
    """One rule applied to a base: the engine's rules are worked out once per policy and shared by the lines."""

    rule: Rule
    base: Decimal  # 计算基数
    amount: Decimal

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def label(self) -> str:
        return self.rule.label

    @property
    def payer(self) -> Payer:
        return self.rule.payer

    @property
    def rate(self) -> Decimal | None:
        return self.rule.rate

    @property
    def sample(self) -> bool:
        return self.rule.sample

    def record(self) -> dict[str, Any]:
        return {"code": self.rule.code, "label": self.rule.label, "payer": self.rule.payer, "base": self.base, "rate": self.rule.rate,
                "amount": self.amount, "sample": self.rule.sample}  # fmt: skip

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # A stored or published bill keeps its lines flat (code, label, payer, base, rate, amount, sample).
        return core_schema.is_instance_schema(
            cls, serialization=core_schema.plain_serializer_function_ser_schema(cls.record)
        )


@dataclass(slots=True)
class Bill:
    total: Decimal
    in_scope: Decimal
    out_of_scope: Decimal
    fund: Decimal  # 基本医疗保险统筹基金
    major_illness: Decimal  # 大病保险
    assistance: Decimal  # 医疗救助
    veterans: Decimal  # 优抚对象医疗补助
    person: Decimal  # 个人负担
    lines: tuple[Line, ...]
    accumulators: Accumulators
    policy: (
        tuple[str, str, int, str] | tuple[str, str, int]
    )  # region, scheme, year, version (bills before versions: no version)
    sample: bool = False  # 政策整体为示例数据，或某一行用到了示例数值

    @property
    def paid_by_others(self) -> Decimal:
        return self.fund + self.major_illness + self.assistance + self.veterans
