"""Manual reimbursement (手工/零星报销), seeds 000/003/004 (DOMAIN.md, svc-claims):

Bills the person paid in cash are filed by the person, the unit (its employees, in batches), the
township centre or the school; every missing paper is told at once (一次性告知) and the filer
supplements (补正). Then acceptance (受理) → district review per receipt (审核: accepted, reduced or
refused with a reason code) → city approval (核准, city-level staff) → payment (支付). At most 30
working days from acceptance to payment. A rejected claim may be filed again, linked to the first.

Pure: the claim's state machine, the materials per care type, the review arithmetic, the due date.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from shared.calendar import WorkingCalendar
from shared.errors import Conflict, Invalid

PAYMENT_WORKING_DAYS = 30
MAX_AMOUNT = Decimal("10000000.00")  # a receipt above ten million yuan is a typing error, not a bill
ZERO = Decimal("0.00")


class CareType(StrEnum):
    outpatient_large = "outpatient_large"  # 门（急）诊大额
    special_disease = "special_disease"  # 门特
    observation_inpatient = "observation_inpatient"  # 急诊留观转住院
    inpatient = "inpatient"  # 住院


# The benefit engine's care type for each (the engine computes what the fund pays).
ENGINE_CARE_TYPE = {CareType.outpatient_large: "outpatient", CareType.special_disease: "special_disease",
                    CareType.observation_inpatient: "inpatient", CareType.inpatient: "inpatient"}  # fmt: skip


class Channel(StrEnum):
    person = "person"  # 个人（灵活就业、居民）
    unit = "unit"  # 单位（在职职工）
    township = "township"  # 街道（乡镇）服务中心（退休人员、居民）
    school = "school"  # 学校（学生）
    counter = "counter"  # 窗口代办


class AccountOwner(StrEnum):
    person = "person"  # 参保人账户（社会保障卡）
    unit = "unit"  # 用人单位账户（单位申报的在职职工）


# Who may file through which channel: the person files personally, the unit for its employees, and staff
# enter what a township centre or a school brought, or what was handed in at the counter.
FILER_CHANNELS: Mapping[str, frozenset[Channel]] = {
    "insured": frozenset({Channel.person}),
    "unit": frozenset({Channel.unit}),
    "staff": frozenset({Channel.township, Channel.school, Channel.counter}),
}

# The papers (seed 000, 手工（零星）报销 【办理材料】), by code.
MATERIALS: Mapping[str, str] = {
    "receipts": "医疗收费票据原件",
    "itemised_bill": "与票据相对应的费用明细清单原件",
    "prescriptions": "与药费收据相对应的处方底联原件",
    "diagnosis": "诊断证明原件",
    "observation_record": "急诊留观相关病历原件（留观病种、起止日期、是否转住院）",
    "discharge_summary": "住院病案首页和出院记录复印件（医院盖章）",
    "accident_papers": "公安、法院等有关部门出具的意外伤害证明",
}


@dataclass(frozen=True)
class Requirement:
    """One item of the list of papers; any one of `any_of` satisfies it (the seed's "A 或 B")."""

    code: str
    any_of: tuple[str, ...]

    @property
    def name(self) -> str:
        return "，或".join(MATERIALS[m] for m in self.any_of)

    def met_by(self, given: frozenset[str]) -> bool:
        return any(m in given for m in self.any_of)


def _paper(code: str) -> Requirement:
    return Requirement(code, (code,))


RECEIPTS, ITEMISED, PRESCRIPTIONS = _paper("receipts"), _paper("itemised_bill"), _paper("prescriptions")
# Seed 000: outpatient bills need the diagnosis only from people treated as emergencies elsewhere (异地急诊);
# observation turned inpatient: the diagnosis or the observation records; inpatient: the diagnosis, or the
# case summary and discharge record.
NEEDED: Mapping[CareType, tuple[Requirement, ...]] = {
    CareType.outpatient_large: (RECEIPTS, ITEMISED, PRESCRIPTIONS),
    CareType.special_disease: (RECEIPTS, ITEMISED, PRESCRIPTIONS),
    CareType.observation_inpatient: (
        RECEIPTS,
        ITEMISED,
        PRESCRIPTIONS,
        Requirement("diagnosis_or_observation_record", ("diagnosis", "observation_record")),
    ),
    CareType.inpatient: (
        RECEIPTS,
        ITEMISED,
        Requirement("diagnosis_or_discharge_summary", ("diagnosis", "discharge_summary")),
    ),
}
REMOTE_EMERGENCY_NEEDS = _paper("diagnosis")  # outpatient care, emergency treatment away from Tianjin
ACCIDENT_NEEDS = _paper("accident_papers")  # DOMAIN.md: accident cases need police or court papers
OUTPATIENT = frozenset({CareType.outpatient_large, CareType.special_disease})


class Status(StrEnum):
    awaiting_materials = "awaiting_materials"  # 待补正
    filed = "filed"  # 材料齐全，待受理
    accepted = "accepted"  # 已受理（30个工作日起算）
    reviewed = "reviewed"  # 区级审核完成
    approved = "approved"  # 市级核准，支付单已生成
    paid = "paid"
    rejected = "rejected"


OPEN = frozenset({Status.accepted, Status.reviewed, Status.approved})  # the 30 working days run


class ReviewOutcome(StrEnum):
    accepted = "accepted"
    reduced = "reduced"
    refused = "refused"


# Reason codes of a review line (审核意见).
REVIEW_REASONS: Mapping[str, str] = {
    "ok": "符合规定",
    "out_of_catalogue": "超出基本医疗保险目录范围",
    "non_designated": "非定点医疗机构",
    "duplicate_receipt": "票据重复报销",
    "not_covered_date": "就医日期不在待遇享受期内",
    "third_party": "应由第三方负担",
    "over_limit": "超出限定支付范围",
    "materials_doubtful": "材料不实或无法核实",
}
REJECTION_REASONS: Mapping[str, str] = {
    **{k: v for k, v in REVIEW_REASONS.items() if k != "ok"},
    "materials_incomplete": "材料不全且逾期未补正",
    "not_insured": "非本统筹区参保人员",
}


class PaymentLimit:
    """What an application paid within a number of working days of its acceptance has: a due date (the
    day of acceptance is day 0), provisional while a year it touches has no holiday table, and computed
    again once the table is loaded (the calendar's promise)."""

    accepted_on: date | None
    due_provisional: bool

    @property
    def limit_working_days(self) -> int:
        raise NotImplementedError

    def due_from(self, accepted_on: date, calendar: WorkingCalendar) -> dict[str, Any]:
        due = calendar.add_working_days(accepted_on, self.limit_working_days)
        return {"accepted_on": accepted_on, "due_on": due.date, "due_provisional": due.provisional}

    def with_due_recomputed(self, calendar: WorkingCalendar) -> Self:
        if self.accepted_on is None or not self.due_provisional:
            return self
        return replace(self, **self.due_from(self.accepted_on, calendar))  # type: ignore[type-var]


@dataclass(frozen=True)
class Receipt:
    number: str
    issued_on: date
    amount: Decimal
    in_scope: Decimal  # 政策范围内
    out_of_scope: Decimal


@dataclass(frozen=True)
class ReviewLine:
    receipt: str
    outcome: ReviewOutcome
    accepted_in_scope: Decimal
    reason: str


@dataclass(frozen=True)
class Step:
    status: Status
    by: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True)
class Reimbursement(PaymentLimit):
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
    receipts: tuple[Receipt, ...]
    materials: frozenset[str]
    accident: bool
    bank_account: str
    status: Status
    version: int
    steps: tuple[Step, ...]
    accepted_on: date | None = None
    due_on: date | None = None
    review: tuple[ReviewLine, ...] = ()
    bill: dict[str, Any] | None = None  # the engine's explained bill, at approval
    settlement_id: uuid.UUID | None = None
    resubmits: uuid.UUID | None = None
    rejection: str | None = None
    overdue_announced: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    remote_emergency: bool = False  # 异地急诊 (outpatient: the diagnosis is needed)
    out_of_province: bool = False  # 跨省异地就医: the filing's class (or none) decides the self-pay points
    account_owner: AccountOwner = AccountOwner.person
    due_provisional: bool = False  # the due date touches a year whose holidays are not published yet
    resubmitted_as: uuid.UUID | None = None  # the corrected claim filed after this one was rejected
    paid_on: date | None = None

    @property
    def missing(self) -> tuple[Requirement, ...]:
        return missing_materials(self.care_type, self.accident, self.materials, self.remote_emergency)

    @property
    def limit_working_days(self) -> int:
        return PAYMENT_WORKING_DAYS

    @property
    def claimed(self) -> Decimal:
        return sum((r.amount for r in self.receipts), ZERO)

    def require_move(self, to: Status, version: int) -> None:
        check_move(self.status, self.version, to, version, ALLOWED)

    def _move(
        self, to: Status, version: int, by: str, at: datetime, note: str | None = None, **changes: Any
    ) -> Reimbursement:
        self.require_move(to, version)
        return replace(
            self, status=to, version=self.version + 1, steps=(*self.steps, Step(to, by, at, note)), **changes
        )

    def supplement(self, materials: frozenset[str], version: int, by: str, at: datetime) -> Reimbursement:
        """补正: the papers brought later; complete, the claim waits for acceptance."""
        given = self.materials | materials
        if self.status is not Status.awaiting_materials:
            raise Conflict("invalid_transition", "该申请无需补正材料")
        if missing_materials(
            self.care_type, self.accident, given, self.remote_emergency
        ):  # still incomplete: recorded, still waiting
            if version != self.version:
                raise Conflict("version_conflict", "记录已被他人修改", current_version=self.version)
            return replace(
                self,
                materials=given,
                version=self.version + 1,
                steps=(*self.steps, Step(self.status, by, at, "补正部分材料")),
            )
        return self._move(Status.filed, version, by, at, "补正材料，材料齐全", materials=given)

    def accept(
        self, version: int, by: str, at: datetime, today: date, calendar: WorkingCalendar
    ) -> Reimbursement:
        return self._move(Status.accepted, version, by, at, "受理", **self.due_from(today, calendar))

    def reviewed(self, lines: Sequence[ReviewLine], version: int, by: str, at: datetime) -> Reimbursement:
        self.require_move(Status.reviewed, version)
        check_review(self.receipts, lines)
        return self._move(Status.reviewed, version, by, at, "区级审核", review=tuple(lines))

    def approved(
        self, bill: dict[str, Any], settlement_id: uuid.UUID, version: int, by: str, at: datetime
    ) -> Reimbursement:
        return self._move(
            Status.approved, version, by, at, "市级核准，生成支付单", bill=bill, settlement_id=settlement_id
        )

    def paid(self, version: int, by: str, at: datetime, today: date, reference: str) -> Reimbursement:
        return self._move(Status.paid, version, by, at, f"已支付（{reference}）", paid_on=today,
                          extra={**self.extra, "payment_reference": reference})  # fmt: skip

    def rejected(self, reason: str, note: str | None, version: int, by: str, at: datetime) -> Reimbursement:
        words = REJECTION_REASONS[reason] + (f"：{note}" if note else "")
        return self._move(Status.rejected, version, by, at, words, rejection=reason)

    def resubmitted(self, person_id: uuid.UUID, new_claim: uuid.UUID, by: str, at: datetime) -> Reimbursement:
        """重新申请: a rejected claim of the same person, followed by one corrected claim (linked both ways)."""
        if self.person_id != person_id:
            raise Invalid(
                "resubmission_invalid",
                "原申请不属于该参保人",
                errors=[{"field": "resubmits", "message": "原申请的参保人不同"}],
            )
        if self.status is not Status.rejected:
            raise Conflict("resubmission_invalid", "原申请未被退回，不能重新申请", f"原申请状态为 {self.status.value}",
                          errors=[{"field": "resubmits", "message": "只有被退回的申请可以重新申请"}])  # fmt: skip
        if self.resubmitted_as is not None:
            raise Conflict("already_resubmitted", "原申请已重新申请过", f"重新申请的编号为 {self.resubmitted_as}",
                          existing_claim=str(self.resubmitted_as), errors=[{"field": "resubmits", "message": "已重新申请"}])  # fmt: skip
        return replace(
            self,
            resubmitted_as=new_claim,
            steps=(*self.steps, Step(self.status, by, at, f"已重新申请（{new_claim}）")),
        )

    def accepted_in_scope(self) -> Decimal:
        return sum((line.accepted_in_scope for line in self.review), ZERO)

    def payment_order(self) -> PaymentOrder | None:
        """支付单: produced by the approval; what the fund and the later payers owe, to the account on file."""
        if self.bill is None:
            return None
        share = {k: Decimal(str(self.bill[k])) for k in ("fund", "major_illness", "assistance", "veterans")}
        return PaymentOrder(
            amount=sum(share.values(), ZERO), fund=share["fund"], major_illness=share["major_illness"], assistance=share["assistance"],
            veterans=share["veterans"], account_owner=self.account_owner, pay_by=self.due_on, provisional=self.due_provisional,
            paid_on=self.paid_on, reference=self.extra.get("payment_reference"),
        )  # fmt: skip


@dataclass(frozen=True)
class PaymentOrder:
    amount: Decimal  # fund + major illness + assistance + veterans = the bill's total less the person's share
    fund: Decimal
    major_illness: Decimal
    assistance: Decimal
    veterans: Decimal
    account_owner: AccountOwner
    pay_by: date | None
    provisional: bool
    paid_on: date | None
    reference: str | None


ALLOWED: Mapping[Status, frozenset[Status]] = {
    Status.awaiting_materials: frozenset({Status.filed, Status.rejected}),
    Status.filed: frozenset({Status.accepted, Status.rejected}),
    Status.accepted: frozenset({Status.reviewed, Status.rejected}),
    Status.reviewed: frozenset({Status.approved, Status.rejected}),
    Status.approved: frozenset({Status.paid}),
    Status.paid: frozenset(),
    Status.rejected: frozenset(),
}


def check_move(
    status: Status,
    current_version: int,
    to: Status,
    version: int,
    allowed: Mapping[Status, frozenset[Status]],
) -> None:
    """The application may go to `to` from where it is, and the caller saw its current version."""
    if version != current_version:
        raise Conflict(
            "version_conflict",
            "记录已被他人修改",
            f"当前版本为 {current_version}，请刷新后重试",
            current_version=current_version,
        )
    if to not in allowed[status]:
        raise Conflict(
            "invalid_transition",
            "当前状态不允许此操作",
            f"申请状态为 {status.value}，不能变为 {to.value}",
        )


def required_papers(
    care_type: CareType, accident: bool = False, remote_emergency: bool = False
) -> tuple[Requirement, ...]:
    needed = NEEDED[care_type]
    if remote_emergency and care_type in OUTPATIENT:
        needed = (*needed, REMOTE_EMERGENCY_NEEDS)
    return (*needed, ACCIDENT_NEEDS) if accident else needed


def missing_materials(
    care_type: CareType, accident: bool, given: frozenset[str], remote_emergency: bool = False
) -> tuple[Requirement, ...]:
    """Every paper still missing, all at once (一次性告知)."""
    return tuple(r for r in required_papers(care_type, accident, remote_emergency) if not r.met_by(given))


def check_channel(role: str, channel: Channel) -> None:
    if channel not in FILER_CHANNELS.get(role, frozenset()):
        allowed = "、".join(sorted(c.value for c in FILER_CHANNELS.get(role, frozenset())))
        raise Invalid("channel_not_allowed", "申报渠道与申请人不符", f"此申请人可用的渠道：{allowed or '无'}",
                      errors=[{"field": "channel", "message": f"不能以 {channel.value} 渠道申报"}])  # fmt: skip


def check_account_owner(owner: AccountOwner, unit_code: str | None) -> None:
    """The unit's account only for its employee's claim (the seed: paid to the unit or the person)."""
    if owner is AccountOwner.unit and unit_code is None:
        raise Invalid("account_owner_invalid", "收款账户不正确", "非单位职工的报销款只能支付至本人账户",
                      errors=[{"field": "account_owner", "message": "该参保人没有用人单位"}])  # fmt: skip


def check_receipts(
    receipts: Sequence[Receipt], service_from: date, service_to: date, today: date | None = None
) -> None:
    """Amounts add up, are neither negative nor absurd, and fall in the service dates (not in the future);
    all errors at once."""
    errors = []
    if service_to < service_from:
        errors.append({"field": "service_to", "message": "结束日期早于开始日期"})
    if today is not None and service_to > today:
        errors.append({"field": "service_to", "message": f"就医日期晚于今天（{today}）"})
    numbers = [r.number for r in receipts]
    if len(set(numbers)) != len(numbers):
        errors.append({"field": "receipts", "message": "同一票据号重复填写"})
    for i, r in enumerate(receipts):
        where = f"receipts[{i}]"
        if min(r.amount, r.in_scope, r.out_of_scope) < 0 or r.amount > MAX_AMOUNT:
            errors.append({"field": f"{where}.amount", "message": f"金额须在 0 至 {MAX_AMOUNT} 元之间"})
        elif r.in_scope + r.out_of_scope != r.amount:
            errors.append(
                {
                    "field": f"{where}.in_scope",
                    "message": f"政策范围内 {r.in_scope} 与范围外 {r.out_of_scope} 之和不等于票据金额 {r.amount}",
                }
            )
        if not service_from <= r.issued_on <= service_to:
            errors.append(
                {
                    "field": f"{where}.issued_on",
                    "message": f"票据日期不在就医期间 {service_from} 至 {service_to}",
                }
            )
    if errors:
        raise Invalid("receipts_invalid", "票据信息不正确", errors=errors)


def check_review(receipts: Sequence[Receipt], lines: Sequence[ReviewLine]) -> None:
    """One line per receipt; accepted keeps the in-scope amount, reduced lowers it, refused takes it to 0."""
    by_number = {r.number: r for r in receipts}
    errors = []
    if sorted(line.receipt for line in lines) != sorted(by_number):
        errors.append({"field": "lines", "message": "须对每张票据逐一给出审核意见"})
    for i, line in enumerate(lines):
        receipt = by_number.get(line.receipt)
        if receipt is None:
            continue
        expected_ok = {
            ReviewOutcome.accepted: line.accepted_in_scope == receipt.in_scope,
            ReviewOutcome.reduced: ZERO <= line.accepted_in_scope < receipt.in_scope,
            ReviewOutcome.refused: line.accepted_in_scope == ZERO,
        }[line.outcome]
        if not expected_ok:
            errors.append(
                {
                    "field": f"lines[{i}].accepted_in_scope",
                    "message": f"与审核结论 {line.outcome.value} 不符（票据政策范围内 {receipt.in_scope}）",
                }
            )
        if line.reason not in REVIEW_REASONS or (
            line.outcome is not ReviewOutcome.accepted and line.reason == "ok"
        ):
            errors.append({"field": f"lines[{i}].reason", "message": "核减或拒付须选择原因代码"})
    if errors:
        raise Invalid("review_invalid", "审核意见不正确", errors=errors)
