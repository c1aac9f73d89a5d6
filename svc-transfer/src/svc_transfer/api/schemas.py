"""Request and response shapes shared by the transfer routers."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from shared.calendar import default_calendar
from shared.http.fields import Text
from shared.identity import IdType, InvalidIdentifier, mask_id, normalize_id
from shared.money import Money, NonNegativeMoney
from svc_transfer.domain.certificate import months_between
from svc_transfer.domain.transfer import STEP_TITLES, Period, Person, Side, Status, Step, Transfer
from svc_transfer.interop.exchange import Interop

CASE = TypeAdapter(Transfer)  # the case as JSON, for the fields shown as they are stored

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def get_interop(request: Request) -> Interop:
    return request.app.state.interop


class PersonIn(BaseModel):
    id_type: IdType = Field(IdType.resident_id, description="证件类型")
    id_number: str = Field(min_length=5, max_length=40, description="证件号码")
    name: Text = Field(min_length=1, max_length=50, description="姓名")

    @model_validator(mode="after")
    def _valid_number(self) -> PersonIn:
        try:
            self.id_number = normalize_id(self.id_type, self.id_number)
        except InvalidIdentifier as exc:
            raise ValueError(str(exc)) from exc
        return self

    def domain(self) -> Person:
        return Person(self.id_type.value, self.id_number, self.name)


class PeriodIn(BaseModel):
    start: str = Field(pattern=MONTH, description="起始年月 YYYY-MM")
    end: str = Field(pattern=MONTH, description="终止年月 YYYY-MM（含）")
    unit_name: Text | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if months_between(self.start, self.end) == 0:
            raise ValueError("终止年月不能早于起始年月")
        return self

    def domain(self) -> Period:
        return Period(self.start, self.end, months_between(self.start, self.end), self.unit_name)


class Versioned(BaseModel):
    version: int = Field(ge=1, description="当前版本号，防止两人同时办理")


class StepOut(BaseModel):
    step: str
    title: str
    started_on: date
    due_on: date
    provisional: bool = Field(description="所在年度节假日安排未公布，按周末推算，公布后重算")
    done_on: date | None
    overdue: bool
    overdue_announced: bool = Field(description="已发出超期提醒（transfer.overdue）")


class TransferOut(BaseModel):
    id: uuid.UUID
    side: Side
    status: Status
    version: int
    profile: str
    office_code: str
    peer_office: str | None
    transfer_ref: uuid.UUID
    person: dict
    certificate: dict
    warnings: list[str]
    steps: list[StepOut]
    table: dict | None
    funds: dict | None
    reason_code: str | None
    reason: str | None
    history: list[dict]
    delivery_failure: dict | None = Field(None, description="对端拒收或无法送达的报文（待重新发送）")
    accepted_on: date | None = None
    whole_limit: StepOut | None = Field(None, description="全程办结时限：受理后20个工作日（服务事项目录）")


def step_out(step: Step, today: date) -> StepOut:
    calendar = default_calendar()
    due = step.due(calendar)
    return StepOut(
        step=step.name.value,
        title=STEP_TITLES[step.name],
        started_on=step.started_on,
        due_on=due.date,
        provisional=due.provisional,
        done_on=step.done_on,
        overdue=step.overdue(calendar, today),
        overdue_announced=step.overdue_announced,
    )


def shape(case: Transfer, today: date) -> TransferOut:
    """The case as the apps show it: the ID number masked (PIPL), each step with its due date."""
    document = CASE.dump_python(case, mode="json")
    document["person"] = {**document["person"], "id_number": mask_id(case.person.id_number)}
    whole = case.whole_limit()
    return TransferOut(
        **{
            **document,
            "steps": [step_out(s, today) for s in case.steps],
            "whole_limit": whole and step_out(whole, today),
        }
    )


class CertificateIn(BaseModel):
    """What the person brings: the outgoing office's 参保凭证, or the army's transfer certificate."""

    kind: Literal["certificate", "army"] = "certificate"
    number: str = Field(min_length=4, max_length=40, pattern=r"^[0-9A-Za-z\-]+$", description="凭证编号")
    issuing_office: str | None = Field(None, pattern=r"^\d{6}$", description="出具凭证的转出地经办机构代码")
    army_kind: Literal["军人退役医疗保险个人账户转移凭证", "义务兵退役医疗保险金转移凭证"] | None = None
    coverage_ended_on: date = Field(description="转出地中止参保日期")
    contribution_months: int = Field(ge=0, le=1200, description="缴费月数")
    account_balance: NonNegativeMoney = Field(description="个人账户余额")
    arrears: NonNegativeMoney = Field(default=Decimal("0.00"), description="欠费金额（提醒补缴，不影响受理）")

    @model_validator(mode="after")
    def _issuer_matches_kind(self) -> CertificateIn:
        if self.kind == "certificate" and self.issuing_office is None:
            raise ValueError("参保凭证须注明出具凭证的转出地经办机构代码")
        if self.kind == "army" and self.army_kind is None:
            raise ValueError("退役军人须注明凭证种类")
        return self


class ApplicationIn(BaseModel):
    person: PersonIn
    certificate: CertificateIn
    unit_id: str | None = Field(
        None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="现参保单位统一社会信用代码"
    )
    proxy_name: Text | None = Field(
        None, max_length=50, description="代办人姓名（代办时填写，代办人持本人证件）"
    )


class OutgoingIn(BaseModel):
    certificate_number: str = Field(
        min_length=4, max_length=40, pattern=r"^[0-9A-Za-z\-]+$", description="本机构出具的参保凭证编号"
    )
    destination_office: str = Field(pattern=r"^\d{6}$", description="转入地经办机构代码")


class RefusalIn(Versioned):
    reason_code: Literal[
        "not_enrolled_here", "coverage_not_ended", "materials_incomplete", "certificate_invalid"
    ]
    note: Text | None = Field(None, max_length=500)


class SendTableIn(Versioned):
    fund_reference: Text = Field(min_length=4, max_length=60, description="资金划转凭证号（银行流水号）")


class IssueCertificateIn(BaseModel):
    """The clerk names the person and may annotate; coverage and balance come from the records."""

    model_config = ConfigDict(extra="forbid")  # a typed history or balance is refused, not ignored

    person: PersonIn
    arrears: NonNegativeMoney = Field(
        default=Decimal("0.00"), description="欠费金额（征收系统告知，仅作提醒，不划转资金）"
    )
    note: Text | None = Field(None, max_length=500, description="经办人备注")


class ResendIn(Versioned):
    note: Text = Field(min_length=2, max_length=500, description="已核实并更正的情况（对端地址、报文内容等）")


class ConfirmFundsIn(Versioned):
    amount_received: NonNegativeMoney = Field(description="银行实际到账金额")
    note: Text = Field(min_length=2, max_length=500, description="核对说明（银行流水、联系转出地的情况）")


class CertificateOut(BaseModel):
    number: str
    office_code: str
    person: dict
    scheme: str
    coverage_ended_on: date
    contribution_months: int
    history: list[dict]
    account_balance: Money
    arrears: Money
    arrears_warning: str | None
    issued_on: date
    status: str
    reissues: list[dict]
    account_balance_stated: bool = Field(description="个人账户余额是否有记录来源；否则凭证注明未载明")
    account_balance_note: str | None
    note: str | None
    sex: Literal["male", "female"] | None = Field(None, description="性别（参保记录；无记录时为空）")
    clerk: str | None = Field(None, description="经办人")
    office_name: str | None = Field(None, description="出具机构名称（机构名录）")
    office_address: str | None = Field(None, description="出具机构地址（机构名录；名录未载时为空）")
    office_phone: str | None = Field(None, description="出具机构咨询电话（机构名录；名录未载时为空）")
    verification_code: str | None = Field(None, description="核验码（公开核验页面凭此查验凭证真伪与有效性）")


class CertificateVerificationOut(BaseModel):
    """The public check of a 参保凭证: who issued it, when, whether it is valid; never whom it names."""

    number: str = Field(description="凭证编号")
    office_code: str = Field(description="出具机构代码")
    office_name: str | None = Field(description="出具机构名称")
    issued_on: date = Field(description="出具日期")
    validity: Literal["valid", "used", "superseded"] = Field(
        description="valid 有效；used 已用于办理转移接续；superseded 已作废"
    )
    validity_title: str = Field(description="有效性（中文）")
    reissued: int = Field(description="补办次数")
    last_reissued_on: date | None = Field(description="最近补办日期")
