"""Events of the employee scheme's money (issue 21): a contribution notice issued, a notice paid, a
personal account credited or debited. Registered in the same payload registry as
`shared.events.catalog` (and documented with it in docs/events/asyncapi.yaml); kept in a module of
their own while the event package is being reworked, to move into the catalogue afterwards.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events.registry import event


class _Payload(BaseModel):
    # Unknown fields are kept: a newer producer's additive fields must not break an older consumer.
    model_config = ConfigDict(extra="allow", frozen=True)


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
