"""Every event payload of the platform, versioned. Changes within a version are additive only.

The AsyncAPI document in docs/events/ is generated from this module and the services'
subscription tables (`yb-local asyncapi`).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.events.registry import event

Scheme = Literal["employee", "flexible", "resident"]


class _Payload(BaseModel):
    # Unknown fields are kept: a newer producer's additive fields must not break an older consumer.
    model_config = ConfigDict(extra="allow", frozen=True)


class SpecialGroupRecordV1(_Payload):
    """A special group with its evidence: the certifying department, the document, the days it is valid."""

    group: str
    department: str  # civil_affairs | disabled_persons_federation | veterans_affairs | cadre_bureau
    document_number: str
    valid_from: date
    valid_to: date | None = None  # None: until revoked


@event("registration.approved", 1, producer="registration", summary="参保登记审核通过，待遇享受期生效")
class RegistrationApprovedV1(_Payload):
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    tier: str | None = None
    special_groups: list[str] = []
    benefit_start: date
    benefit_end: date | None = None  # None: open-ended (employee coverage until interrupted or terminated)
    unit_code: str | None = None
    category: str | None = None  # employees: in_service | retired
    period_rule: str | None = None  # which benefit-period rule gave the start (late payment, newborn …)
    # Added within v1: each of special_groups with its evidence and validity; a group applies on a
    # service date inside its validity. Empty from older producers (then special_groups stand alone).
    special_group_records: list[SpecialGroupRecordV1] = []
    # Added within v1: the person's sex as their record has it (a resident ID's 17th digit), for benefits
    # given by sex (maternity items). None from older producers or when the record has none.
    sex: Literal["male", "female"] | None = None


@event("registration.suspended", 1, producer="registration", summary="参保中断（单位停缴等），待遇至中断日止")
class RegistrationSuspendedV1(_Payload):
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    last_covered_day: date
    reason: str


@event(
    "registration.terminated",
    1,
    producer="registration",
    summary="参保终止（死亡、出国定居、退费等），待遇至终止日止",
)
class RegistrationTerminatedV1(_Payload):
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    last_covered_day: date
    reason: Literal["death", "emigration", "job_ended", "transfer_out", "refund", "other"]
    reason_text: str


@event("claims.eligible", 1, producer="claims", summary="参保人在待遇享受期内具备报销资格")
class ClaimsEligibleV1(_Payload):
    person_id: uuid.UUID
    enrollment_id: uuid.UUID
    office_code: str
    scheme: Scheme
    tier: str | None = None
    benefit_start: date
    benefit_end: date | None = None  # None: open-ended


@event(
    "claims.ineligible",
    1,
    producer="claims",
    summary="参保人待遇资格终止（中止参保等），自该日次日起不再报销",
)
class ClaimsIneligibleV1(_Payload):
    person_id: uuid.UUID
    enrollment_id: uuid.UUID
    office_code: str
    last_covered_day: date
    reason: str


class _ClaimFact(_Payload):
    claim_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    care_type: str


@event("claims.accepted", 1, producer="claims", summary="手工报销申请受理（30个工作日支付时限起算）")
class ClaimsAcceptedV1(_ClaimFact):
    accepted_on: date
    due_on: date
    claimed: Decimal


@event("claims.approved", 1, producer="claims", summary="手工报销经市级核准，生成支付单")
class ClaimsApprovedV1(_ClaimFact):
    fund: Decimal  # what the funds pay (basic, major illness, assistance, veterans)
    person_share: Decimal
    due_on: date


@event("claims.rejected", 1, producer="claims", summary="手工报销不予受理或不予支付（附原因代码）")
class ClaimsRejectedV1(_ClaimFact):
    reason: str
    reason_text: str


@event("claims.paid", 1, producer="claims", summary="手工报销款已支付至参保人或单位账户")
class ClaimsPaidV1(_ClaimFact):
    amount: Decimal
    paid_on: date
    within_limit: bool


@event("claims.overdue", 1, producer="claims", summary="手工报销自受理起超过30个工作日尚未支付")
class ClaimsOverdueV1(_ClaimFact):
    due_on: date
    status: str


FacilityKind = Literal["medical_institution", "retail_pharmacy", "ltc_nursing", "disability_assessment"]
FacilityStatus = Literal["designated", "suspended", "terminated"]


class _FacilitySnapshot(_Payload):
    """What other services keep in their registry projections: the whole record, so any event rebuilds it."""

    code: str
    name: str
    kind: FacilityKind
    institution_type: str | None = None
    level: int | None = None
    district_code: str
    office_code: str
    programmes: list[str] = []
    physical_hospital_code: str | None = None
    agreement_number: str | None = None
    agreement_valid_from: date | None = None
    agreement_valid_to: date | None = None
    status: FacilityStatus
    version: int


@event("facility.designated", 1, producer="facility", summary="定点医药机构签订协议，纳入定点管理")
class FacilityDesignatedV1(_FacilitySnapshot):
    pass


@event("facility.updated", 1, producer="facility", summary="定点医药机构信息变更或协议续签")
class FacilityUpdatedV1(_FacilitySnapshot):
    pass


@event("facility.suspended", 1, producer="facility", summary="定点医药机构暂停医保服务")
class FacilitySuspendedV1(_FacilitySnapshot):
    reason: str


@event("facility.terminated", 1, producer="facility", summary="定点医药机构解除协议")
class FacilityTerminatedV1(_FacilitySnapshot):
    reason: str


@event(
    "facility.reply_overdue",
    1,
    producer="facility",
    summary="定点申请超过办理时限（20个工作日或整体3个月）未答复",
)
class FacilityReplyOverdueV1(_Payload):
    application_id: uuid.UUID
    office_code: str
    limit: Literal["reply_20_working_days", "item_3_months"]
    due_date: date
    overdue_since: date


@event(
    "registration.benefit_registered",
    1,
    producer="registration",
    summary="待遇登记生效（就医登记、门特、异地备案等）",
)
class RegistrationBenefitRegisteredV1(_Payload):
    registration_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    kind: str
    facility_codes: list[str] = []
    valid_from: date
    valid_to: date | None = None
    replaces: uuid.UUID | None = None
    details: dict[str, Any] = {}


@event(
    "registration.benefit_expired",
    1,
    producer="registration",
    summary="待遇登记到期失效（临时外出备案、住院资格确认书等）",
)
class RegistrationBenefitExpiredV1(_Payload):
    registration_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    kind: str
    expired_on: date  # the first day it no longer applies
    details: dict[str, Any] = {}


@event("registration.stopped", 1, producer="registration", summary="参保关系中止（单位停保、转出前中止参保）")
class RegistrationStoppedV1(_Payload):
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    stopped_on: date
    reason: str


@event("transfer.overdue", 1, producer="transfer", summary="转移接续环节超过办理时限（5/10/5个工作日等）")
class TransferOverdueV1(_Payload):
    transfer_id: uuid.UUID
    transfer_ref: uuid.UUID
    side: Literal["incoming", "outgoing"]
    office_code: str
    peer_office: str | None = None
    step: Literal["send_letter", "send_table", "complete"]
    due_date: date
    provisional: bool = False


@event(
    "transfer.certificate_issued",
    1,
    producer="transfer",
    summary="开具（或补办）参保凭证：缴费年限、个人账户余额、欠费提示",
)
class TransferCertificateIssuedV1(_Payload):
    number: str
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    issued_on: date
    coverage_ended_on: date
    contribution_months: int
    account_balance: Decimal
    arrears: Decimal
    reissue: bool = False


@event("transfer.completed", 1, producer="transfer", summary="转入办结：缴费年限合并，个人账户余额记入")
class TransferCompletedV1(_Payload):
    transfer_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    from_office: str | None = None
    contribution_months: int
    account_balance: Decimal
    completed_on: date


@event(
    "transfer.transferred_out",
    1,
    producer="transfer",
    summary="转出完成：信息表已发出、资金已划转，本地参保关系转出",
)
class TransferTransferredOutV1(_Payload):
    transfer_ref: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    to_office: str
    certificate_number: str
    transferred_on: date


@event("settlement.approved", 1, producer="settlement", summary="定点医药机构月度基金清算表经市医保中心核准")
class SettlementApprovedV1(_Payload):
    clearing_id: uuid.UUID
    facility_code: str
    office_code: str
    period: str  # YYYY-MM
    insurance_type: Literal["employee", "resident"]
    care_type: Literal["inpatient", "outpatient", "special_disease"]
    total_paid: Decimal  # line 41, yuan
    approved_by: str
    approved_on: date


@event("settlement.paid", 1, producer="settlement", summary="月度结算款拨付定点医药机构（拨付单已下达）")
class SettlementPaidV1(_Payload):
    clearing_id: uuid.UUID
    order_no: str
    facility_code: str
    office_code: str
    period: str  # YYYY-MM
    insurance_type: Literal["employee", "resident"]
    care_type: Literal["inpatient", "outpatient", "special_disease"]
    amount: Decimal  # line 41, yuan
    paid_on: date
    due_on: date  # 30 working days after the declaration
    within_limit: bool


class CalendarDay(_Payload):
    date: date
    name: str


@event("calendar.notice_published", 1, producer="claims",
       summary="国务院办公厅某年度节假日安排通知经审核发布（各服务据此更新工作日历，暂定的期限随之重算）")  # fmt: skip
class CalendarNoticePublishedV1(_Payload):
    notice_id: uuid.UUID
    year: int
    version: int  # a later notice of the same year (a correction) has a higher number and wins
    holidays: list[CalendarDay]
    workdays: list[CalendarDay]  # adjusted working weekend days (调休上班)
    source: str
    published_by: str


@event("calendar.notices_requested", 1, producer="every service",
       summary="某服务进程启动：请求重新通告已发布的节假日安排（svc-claims 随即重发 calendar.notice_published）")  # fmt: skip
class CalendarNoticesRequestedV1(_Payload):
    service: str  # the service whose process just started listening


# --------------------------------------------------------------------------- the employee scheme's money
# A contribution notice issued, a notice paid, a personal account credited or debited (registration).

PayerKind = Literal["unit", "person"]


@event(
    "registration.contribution_notice_issued",
    1,
    producer="registration",
    summary="职工医保征缴单已生成（单位或灵活就业人员，按月）",
)
class ContributionNoticeIssuedV1(_Payload):
    notice_id: uuid.UUID
    number: str
    payer_kind: PayerKind  # unit: the unit's credit code; person: a flexible worker's person id (hex)
    payer_code: str
    office_code: str
    month: date  # the month's first day
    due_on: date
    total: Decimal
    line_count: int
    sample: bool  # computed with sample policy values


@event(
    "registration.contribution_paid",
    1,
    producer="registration",
    summary="征缴单已缴费（银行或税务缴费文件导入）",
)
class ContributionPaidV1(_Payload):
    notice_id: uuid.UUID
    number: str
    payer_kind: PayerKind
    payer_code: str
    office_code: str
    month: date
    amount: Decimal  # the notice's total plus the late fee
    late_fee: Decimal
    paid_on: date
    bank_reference: str


@event(
    "registration.account_credited",
    1,
    producer="registration",
    summary="个人账户记入（按月划入或转入余额），附记入后的余额",
)
class AccountCreditedV1(_Payload):
    person_id: uuid.UUID
    office_code: str
    # retiree_allocation: a retiree's monthly credit from the pooled fund (retirees pay no contribution)
    kind: Literal["contribution", "transfer_in", "retiree_allocation"]
    amount: Decimal
    booked_on: date
    month: date | None = None  # contributions and retirees' credits: the month credited for
    reference: str  # the natural key of the entry (per notice, per transfer)
    balance: Decimal  # the account's balance after this entry: the sum of its history
    contribution_months: int  # months with a contribution credited here (not counting transfers in)


@event(
    "registration.account_debited",
    1,
    producer="registration",
    summary="个人账户支出（一次性支取已支付），附支出后的余额",
)
class AccountDebitedV1(_Payload):
    person_id: uuid.UUID
    office_code: str
    kind: Literal["withdrawal"]
    amount: Decimal
    booked_on: date
    reference: str
    balance: Decimal
