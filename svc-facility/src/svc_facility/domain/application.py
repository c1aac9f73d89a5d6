"""A designation application (申请定点协议管理), from receipt to agreement and after: allowed steps only.

Flow (file 000, the four designation guides; digest "svc-facility"): materials received → the office
tells every missing material at once (一次性告知) and the applicant corrects (补正) → acceptance
opinion within 20 working days (受理 / 不予受理) → expert review (专家评审) → public notice (公示) →
agreement (医保协议; three-party for the long-term-care kinds) → designated; later suspended,
terminated, reinstated or renewed.

Every method returns a new ``Application`` (the aggregate is immutable), bumps ``version`` by one and
records a ``Step``: who, when, what, from which status to which, why, and the data of the decision.

Interpretations:

- Review: the medical and pharmacy guides call it 专家评审; the long-term-care guides list 现场核查
  (on-site check) among "申请、材料审核、现场核查、社会公示". Both are this one review step, recorded
  with ``start_review`` (accepted → expert_review, opens the expert-review pause) and
  ``record_review`` (closes the pause; a failed review refuses the application, a passed one stays in
  expert_review until the notice opens — the office's time between the two counts).
- Pauses open and close on the business date (Asia/Shanghai) of the step that opens / closes them,
  so they follow what actually happened; the notice's own ``starts_on``/``ends_on`` are recorded
  beside it. The notice can be closed only after its last day (``ends_on`` is a full notice day).
- ``refuse`` is the acceptance-stage refusal (不予受理), from received or supplement_requested (the
  applicant did not correct). Later refusals come from a failed review or from upheld objections to
  the notice. Every refusal keeps its reasons.
- ``request_supplement`` must list *every* required material the application lacks (一次性告知): a
  partial list is refused. It may also name other items (e.g. an illegible copy). ``supplement`` adds
  what was brought and goes back to received; what is still missing is recorded, and the office may
  ask again.
- ``accept`` needs complete materials (受理条件: 申请材料齐全、符合法定形式) and no unmet condition; it
  answers 422 listing every missing material, or every unmet condition.
- Agreement parties: three for ltc_nursing *and* disability_assessment (both guides quote
  "签订三方服务协议"; see ``kinds``); two otherwise. When copies are given for a long-term-care kind,
  fewer than the guide's 5 / 10 are refused.
- ``reinstate`` and ``renew`` need the agreement still valid on the day (on or before ``valid_to``);
  ``withdraw`` is possible until designation — after it, the institution's exit is ``terminate``.
- Clock dates: the reply is decided on the business date of ``accept`` or ``refuse`` (the acceptance
  opinion); the item concludes on the date it is designated, refused or withdrawn.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from shared.calendar import WorkingCalendar
from shared.clock import business_date_of
from shared.errors import Conflict, Invalid
from svc_facility.domain.deadline import ClockStatus, Pause, PauseKind, reply_clock
from svc_facility.domain.eligibility import (
    ApplicantFacts,
    UnmetCondition,
    required_materials,
    unmet_conditions,
)
from svc_facility.domain.kinds import (
    AGREEMENT_COPIES,
    ITEM_LIMIT_MONTHS,
    KIND_NAMES,
    REPLY_LIMIT_WORKING_DAYS,
    ApplicantKind,
    InstitutionType,
    agreement_party_count,
)


class Status(StrEnum):
    received = "received"  # 已接收申请材料
    supplement_requested = "supplement_requested"  # 已一次性告知补正
    accepted = "accepted"  # 受理
    refused = "refused"  # 不予受理 / 评审未通过 / 公示异议成立
    expert_review = "expert_review"  # 专家评审（现场核查）
    public_notice = "public_notice"  # 公示
    agreement_pending = "agreement_pending"  # 待签订协议
    designated = "designated"  # 已定点
    suspended = "suspended"  # 中止
    terminated = "terminated"  # 解除
    withdrawn = "withdrawn"  # 申请撤回


STATUS_NAMES: Mapping[Status, str] = MappingProxyType(
    {
        Status.received: "已接收",
        Status.supplement_requested: "待补正",
        Status.accepted: "已受理",
        Status.refused: "不予定点",
        Status.expert_review: "专家评审",
        Status.public_notice: "公示中",
        Status.agreement_pending: "待签协议",
        Status.designated: "已定点",
        Status.suspended: "已中止",
        Status.terminated: "已解除",
        Status.withdrawn: "已撤回",
    }
)

_BEFORE_DESIGNATION = frozenset(
    {
        Status.received,
        Status.supplement_requested,
        Status.accepted,
        Status.expert_review,
        Status.public_notice,
        Status.agreement_pending,
    }
)

# The table: action → (statuses it may start from, statuses it may lead to). Nothing else moves.
ACTIONS: Mapping[str, tuple[frozenset[Status], frozenset[Status]]] = MappingProxyType(
    {
        "request_supplement": (frozenset({Status.received}), frozenset({Status.supplement_requested})),
        "supplement": (frozenset({Status.supplement_requested}), frozenset({Status.received})),
        "accept": (frozenset({Status.received}), frozenset({Status.accepted})),
        "refuse": (frozenset({Status.received, Status.supplement_requested}), frozenset({Status.refused})),
        "start_review": (frozenset({Status.accepted}), frozenset({Status.expert_review})),
        "record_review": (
            frozenset({Status.expert_review}),
            frozenset({Status.expert_review, Status.refused}),
        ),
        "open_public_notice": (frozenset({Status.expert_review}), frozenset({Status.public_notice})),
        "close_public_notice": (
            frozenset({Status.public_notice}),
            frozenset({Status.agreement_pending, Status.refused}),
        ),
        "sign_agreement": (frozenset({Status.agreement_pending}), frozenset({Status.designated})),
        "suspend": (frozenset({Status.designated}), frozenset({Status.suspended})),
        "terminate": (frozenset({Status.designated, Status.suspended}), frozenset({Status.terminated})),
        "reinstate": (frozenset({Status.suspended}), frozenset({Status.designated})),
        "renew": (frozenset({Status.designated}), frozenset({Status.designated})),
        "withdraw": (_BEFORE_DESIGNATION, frozenset({Status.withdrawn})),
    }
)


def _allowed_moves() -> dict[Status, frozenset[Status]]:
    moves: dict[Status, set[Status]] = {status: set() for status in Status}
    for starts, ends in ACTIONS.values():
        for start in starts:
            moves[start] |= ends
    return {status: frozenset(targets) for status, targets in moves.items()}


# The same table by status (for documentation, the API and tests).
ALLOWED: Mapping[Status, frozenset[Status]] = MappingProxyType(_allowed_moves())

FINAL_STATUSES = frozenset({Status.refused, Status.terminated, Status.withdrawn})
# The day the item reaches one of these is the day it concludes (the 3-month clock stops).
CONCLUDING_STATUSES = frozenset({Status.designated, Status.refused, Status.withdrawn})
# The acceptance opinion (受理意见) the 20-working-day clock waits for.
REPLY_ACTIONS = frozenset({"accept", "refuse"})


@dataclass(frozen=True)
class Step:
    at: datetime
    by: str
    action: str
    from_status: Status | None  # None for the receipt that creates the application
    to_status: Status
    reason: str | None
    data: dict[str, Any]  # JSON-friendly: strings, numbers, booleans, lists, ISO dates


@dataclass(frozen=True)
class Review:
    reviewers: tuple[str, ...]
    scores: dict[str, Any] = field(default_factory=dict)
    conclusion: str | None = None
    passed: bool | None = None  # None while the review runs


@dataclass(frozen=True)
class Notice:
    starts_on: date
    ends_on: date  # the last notice day, inclusive
    objections: tuple[str, ...] = ()
    upheld: bool | None = None  # None while the notice runs


@dataclass(frozen=True)
class Agreement:
    number: str
    valid_from: date
    valid_to: date
    parties: tuple[str, ...]
    copies: int | None = None


@dataclass(frozen=True)
class Application:
    id: uuid.UUID
    applicant_id: str
    kind: ApplicantKind
    institution_type: InstitutionType | None
    name: str
    district_code: str
    office_code: str
    facts: ApplicantFacts
    materials: tuple[str, ...]
    status: Status
    version: int
    received_on: date
    pauses: tuple[Pause, ...] = ()
    steps: tuple[Step, ...] = ()
    review: Review | None = None
    notice: Notice | None = None
    agreement: Agreement | None = None
    refusal_reasons: tuple[str, ...] = ()
    requested_materials: tuple[str, ...] = ()  # the last 一次性告知 list

    # ------------------------------------------------------------------ questions

    def missing_materials(self) -> list[str]:
        """Required materials not yet brought (what the office fetches itself is not required)."""
        required = required_materials(self.kind, self.institution_type, military=self.facts.military)
        return [item for item in required if item not in self.materials]

    def unmet_conditions(self, on: date) -> list[UnmetCondition]:
        return unmet_conditions(self.facts, on)

    @property
    def reply_decided_on(self) -> date | None:
        """Business date of the acceptance opinion (accepted or refused at acceptance)."""
        for step in self.steps:
            if step.action in REPLY_ACTIONS:
                return business_date_of(step.at)
        return None

    @property
    def concluded_on(self) -> date | None:
        """Business date the whole item ended: designated, refused or withdrawn."""
        for step in self.steps:
            if step.to_status in CONCLUDING_STATUSES and step.from_status is not None:
                return business_date_of(step.at)
        return None

    def clock(self, today: date, calendar: WorkingCalendar, item_months: int | None = None) -> ClockStatus:
        """The reply and item time limits on ``today`` (see ``deadline``); `item_months` overrides the
        whole item's limit (the service takes it from the service catalogue)."""
        # A decided item's clock is frozen; read it no earlier than its last decision (a test or demo
        # deployment may move the business date back after deciding).
        today = max(d for d in (today, self.reply_decided_on, self.concluded_on) if d is not None)
        return reply_clock(
            self.received_on,
            self.pauses,
            today,
            calendar,
            limit_working_days=REPLY_LIMIT_WORKING_DAYS,
            item_months=item_months or ITEM_LIMIT_MONTHS[self.kind],
            decided_on=self.reply_decided_on,
            concluded_on=self.concluded_on,
        )

    # ------------------------------------------------------------------ before acceptance

    def request_supplement(
        self, missing: Sequence[str], by: str, at: datetime, expected_version: int
    ) -> Application:
        """Tell every missing material at once (一次性告知); the reply clock pauses until the applicant corrects."""
        self._guard("request_supplement", expected_version)
        listed = _clean_list(missing, "missing", "须列明需补正的材料")
        left_out = [item for item in self.missing_materials() if item not in listed]
        if left_out:
            raise Invalid(
                "incomplete_supplement_notice",
                "须一次性告知全部需补正的材料",
                f"尚缺而未告知的材料：{'、'.join(left_out)}",
                errors=[{"field": "missing", "message": item} for item in left_out],
            )
        on = _business_date(at)
        return self._step(
            "request_supplement",
            Status.supplement_requested,
            by,
            at,
            reason="申请材料不齐全，一次性告知补正",
            data={"missing": list(listed)},
            pauses=(*self.pauses, Pause(PauseKind.supplement, on)),
            requested_materials=listed,
        )

    def supplement(
        self, materials: Sequence[str], by: str, at: datetime, expected_version: int
    ) -> Application:
        """The applicant brings the materials (补正); the clock runs again from the next working day."""
        self._guard("supplement", expected_version)
        brought = _clean_list(materials, "materials", "须提交补正材料")
        merged = (*self.materials, *(item for item in brought if item not in self.materials))
        still_missing = [item for item in self.requested_materials if item not in merged]
        return self._step(
            "supplement",
            Status.received,
            by,
            at,
            reason=None,
            data={"materials": list(brought), "still_missing": still_missing},
            materials=merged,
            pauses=self._close_running_pause(at),
        )

    def accept(
        self, by: str, at: datetime, expected_version: int, on: date | None = None, reason: str | None = None
    ) -> Application:
        """受理: complete materials and every condition met on ``on`` (default: the business date of ``at``)."""
        self._guard("accept", expected_version)
        on = on or _business_date(at)
        missing = self.missing_materials()
        if missing:
            raise Invalid(
                "materials_missing",
                "申请材料不齐全",
                f"缺少：{'、'.join(missing)}",
                errors=[{"field": "materials", "message": item} for item in missing],
            )
        unmet = self.unmet_conditions(on)
        if unmet:
            raise Invalid(
                "conditions_unmet",
                "不符合定点申请条件",
                "；".join(condition.message for condition in unmet),
                errors=[{"code": condition.code, "message": condition.message} for condition in unmet],
            )
        return self._step(
            "accept",
            Status.accepted,
            by,
            at,
            reason=reason or "申请材料齐全，符合申请条件",
            data={"checked_on": on.isoformat()},
        )

    def refuse(self, reasons: Sequence[str], by: str, at: datetime, expected_version: int) -> Application:
        """不予受理, with every reason (e.g. each unmet condition's message)."""
        self._guard("refuse", expected_version)
        listed = _clean_list(reasons, "reasons", "不予受理须说明理由")
        return self._step(
            "refuse",
            Status.refused,
            by,
            at,
            reason="；".join(listed),
            data={"reasons": list(listed)},
            refusal_reasons=listed,
            pauses=self._close_running_pause(at),
        )

    # ------------------------------------------------------------------ review and notice

    def start_review(
        self, by: str, at: datetime, expected_version: int, reviewers: Sequence[str] = ()
    ) -> Application:
        """专家评审 (现场核查) begins; its time does not count towards the limit."""
        self._guard("start_review", expected_version)
        panel = tuple(reviewers)
        return self._step(
            "start_review",
            Status.expert_review,
            by,
            at,
            reason=None,
            data={"reviewers": list(panel)},
            review=Review(reviewers=panel),
            pauses=(*self.pauses, Pause(PauseKind.expert_review, _business_date(at))),
        )

    def record_review(
        self,
        reviewers: Sequence[str],
        scores: Mapping[str, Any],
        conclusion: str,
        passed: bool,
        by: str,
        at: datetime,
        expected_version: int,
    ) -> Application:
        """The review result: the pause closes; failing refuses the application, passing awaits the notice."""
        self._guard("record_review", expected_version)
        if self.review is not None and self.review.passed is not None:
            raise _invalid_transition("评审结论已录入", self.status, "record_review")
        panel = _clean_list(reviewers, "reviewers", "须列明评审专家")
        conclusion = _require_text(conclusion, "conclusion", "须填写评审结论")
        review = Review(reviewers=panel, scores=dict(scores), conclusion=conclusion, passed=bool(passed))
        data = {
            "reviewers": list(panel),
            "scores": dict(scores),
            "conclusion": conclusion,
            "passed": bool(passed),
        }
        pauses = self._close_running_pause(at)
        if passed:
            return self._step(
                "record_review",
                Status.expert_review,
                by,
                at,
                reason=conclusion,
                data=data,
                review=review,
                pauses=pauses,
            )
        return self._step(
            "record_review",
            Status.refused,
            by,
            at,
            reason=conclusion,
            data=data,
            review=review,
            pauses=pauses,
            refusal_reasons=(f"专家评审未通过：{conclusion}",),
        )

    def open_public_notice(
        self, starts_on: date, ends_on: date, by: str, at: datetime, expected_version: int
    ) -> Application:
        """公示 after a passed review; its time does not count towards the limit."""
        self._guard("open_public_notice", expected_version)
        if self.review is None or self.review.passed is not True:
            raise _invalid_transition("专家评审尚未通过，不能公示", self.status, "open_public_notice")
        if ends_on < starts_on:
            raise Invalid(
                "invalid_notice_period", "公示期有误", f"公示结束日 {ends_on} 早于开始日 {starts_on}"
            )
        return self._step(
            "open_public_notice",
            Status.public_notice,
            by,
            at,
            reason=None,
            data={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
            notice=Notice(starts_on=starts_on, ends_on=ends_on),
            pauses=(*self.pauses, Pause(PauseKind.public_notice, _business_date(at))),
        )

    def close_public_notice(
        self, objections: Sequence[str], upheld: bool, by: str, at: datetime, expected_version: int
    ) -> Application:
        """End of 公示: objections upheld refuse the application; otherwise the agreement is next."""
        self._guard("close_public_notice", expected_version)
        assert self.notice is not None  # public_notice is reached only through open_public_notice
        on = _business_date(at)
        if on <= self.notice.ends_on:
            raise Conflict(
                "notice_not_ended", "公示期未结束", f"公示至 {self.notice.ends_on}，{on} 不能结束公示"
            )
        raised = tuple(objection.strip() for objection in objections if objection and objection.strip())
        if upheld and not raised:
            raise Invalid("objections_required", "异议成立须列明异议", errors=[{"field": "objections"}])
        notice = replace(self.notice, objections=raised, upheld=bool(upheld))
        data = {"objections": list(raised), "upheld": bool(upheld)}
        pauses = self._close_running_pause(at)
        if upheld:
            return self._step(
                "close_public_notice",
                Status.refused,
                by,
                at,
                reason="公示异议成立",
                data=data,
                notice=notice,
                pauses=pauses,
                refusal_reasons=tuple(f"公示异议成立：{objection}" for objection in raised),
            )
        reason = "公示期满无异议" if not raised else "公示异议不成立"
        return self._step(
            "close_public_notice",
            Status.agreement_pending,
            by,
            at,
            reason=reason,
            data=data,
            notice=notice,
            pauses=pauses,
        )

    # ------------------------------------------------------------------ agreement

    def sign_agreement(
        self,
        number: str,
        valid_from: date,
        valid_to: date,
        parties: Sequence[str],
        by: str,
        at: datetime,
        expected_version: int,
        copies: int | None = None,
    ) -> Application:
        """医保协议 (three-party for the long-term-care kinds) → designated."""
        self._guard("sign_agreement", expected_version)
        agreement = self._valid_agreement(number, valid_from, valid_to, parties, copies)
        return self._step(
            "sign_agreement",
            Status.designated,
            by,
            at,
            reason=None,
            data={
                "number": agreement.number,
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat(),
                "parties": list(agreement.parties),
                "copies": copies,
            },
            agreement=agreement,
        )

    def suspend(self, reason: str, by: str, at: datetime, expected_version: int) -> Application:
        self._guard("suspend", expected_version)
        reason = _require_text(reason, "reason", "中止协议须说明理由")
        return self._step("suspend", Status.suspended, by, at, reason=reason, data={})

    def terminate(self, reason: str, by: str, at: datetime, expected_version: int) -> Application:
        self._guard("terminate", expected_version)
        reason = _require_text(reason, "reason", "解除协议须说明理由")
        return self._step("terminate", Status.terminated, by, at, reason=reason, data={})

    def reinstate(
        self, by: str, at: datetime, expected_version: int, reason: str | None = None
    ) -> Application:
        """Suspended → designated, while the agreement is still valid."""
        self._guard("reinstate", expected_version)
        self._require_agreement_valid(_business_date(at), "恢复")
        return self._step("reinstate", Status.designated, by, at, reason=reason, data={})

    def renew(
        self, valid_to: date, by: str, at: datetime, expected_version: int, reason: str | None = None
    ) -> Application:
        """Extend the agreement, only before it ends."""
        self._guard("renew", expected_version)
        assert self.agreement is not None  # designated is reached only through sign_agreement
        self._require_agreement_valid(_business_date(at), "续签")
        if valid_to <= self.agreement.valid_to:
            raise Invalid(
                "invalid_agreement",
                "协议信息有误",
                f"新的到期日 {valid_to} 须晚于原到期日 {self.agreement.valid_to}",
            )
        return self._step(
            "renew",
            Status.designated,
            by,
            at,
            reason=reason,
            data={"previous_valid_to": self.agreement.valid_to.isoformat(), "valid_to": valid_to.isoformat()},
            agreement=replace(self.agreement, valid_to=valid_to),
        )

    def withdraw(
        self, by: str, at: datetime, expected_version: int, reason: str | None = None
    ) -> Application:
        """The applicant withdraws before designation; a running pause ends with it."""
        self._guard("withdraw", expected_version)
        return self._step(
            "withdraw", Status.withdrawn, by, at, reason=reason, data={}, pauses=self._close_running_pause(at)
        )

    # ------------------------------------------------------------------ internals

    def _guard(self, action: str, expected_version: int) -> None:
        # The version first: a stale caller's view of the status is not worth judging.
        if expected_version != self.version:
            raise Conflict(
                "version_conflict",
                "记录已被他人修改",
                f"当前版本为 {self.version}，请刷新后重试",
                current_version=self.version,
            )
        starts, _ = ACTIONS[action]
        if self.status not in starts:
            raise _invalid_transition(None, self.status, action)

    def _step(
        self,
        action: str,
        to: Status,
        by: str,
        at: datetime,
        reason: str | None,
        data: dict[str, Any],
        **changes: Any,
    ) -> Application:
        _, ends = ACTIONS[action]
        assert to in ends, f"{action} cannot lead to {to}"  # the table and the methods must agree
        by = _require_text(by, "by", "须记录操作人")
        _require_aware(at)
        step = Step(
            at=at, by=by, action=action, from_status=self.status, to_status=to, reason=reason, data=data
        )
        return replace(self, status=to, version=self.version + 1, steps=(*self.steps, step), **changes)

    def _close_running_pause(self, at: datetime) -> tuple[Pause, ...]:
        if not self.pauses or not self.pauses[-1].running:
            return self.pauses
        return (*self.pauses[:-1], replace(self.pauses[-1], ended_on=_business_date(at)))

    def _valid_agreement(
        self, number: str, valid_from: date, valid_to: date, parties: Sequence[str], copies: int | None
    ) -> Agreement:
        number = _require_text(number, "number", "须填写协议编号")
        if valid_to <= valid_from:
            raise Invalid(
                "invalid_agreement", "协议信息有误", f"协议到期日 {valid_to} 须晚于生效日 {valid_from}"
            )
        named = tuple(party.strip() for party in parties if party and party.strip())
        needed = agreement_party_count(self.kind)
        if len(named) != needed or len(set(named)) != len(named):
            raise Invalid(
                "agreement_parties",
                "协议签订方有误",
                f"{KIND_NAMES[self.kind]}的协议须由 {needed} 个不同的签订方签订（实际 {len(set(named))} 个）",
                errors=[{"field": "parties", "message": f"需要 {needed} 方"}],
            )
        required_copies = AGREEMENT_COPIES[self.kind]
        if copies is not None and required_copies is not None and copies < required_copies:
            raise Invalid(
                "agreement_copies",
                "协议份数不足",
                f"{KIND_NAMES[self.kind]}的服务协议须 {required_copies} 份（实际 {copies} 份）",
            )
        return Agreement(
            number=number, valid_from=valid_from, valid_to=valid_to, parties=named, copies=copies
        )

    def _require_agreement_valid(self, on: date, what: str) -> None:
        assert self.agreement is not None  # designated/suspended are reached only through sign_agreement
        if on > self.agreement.valid_to:
            raise Conflict(
                "agreement_expired",
                "协议已到期",
                f"协议已于 {self.agreement.valid_to} 到期，不能{what}，须重新申请",
            )


def new_application(
    *,
    applicant_id: str,
    name: str,
    district_code: str,
    office_code: str,
    facts: ApplicantFacts,
    materials: Sequence[str],
    received_on: date,
    by: str,
    at: datetime,
    application_id: uuid.UUID | None = None,
) -> Application:
    """Materials received (day 0 of the reply clock); kind and institution type come from the facts."""
    _require_aware(at)
    if received_on > _business_date(at):
        raise Invalid("invalid_date", "接收日期有误", f"接收日期 {received_on} 晚于登记时间")
    applicant_id = _require_text(applicant_id, "applicant_id", "须填写申请账号")
    name = _require_text(name, "name", "须填写机构名称")
    district_code = _require_text(district_code, "district_code", "须填写所属区")
    office_code = _require_text(office_code, "office_code", "须填写受理分中心")
    brought = tuple(dict.fromkeys(item.strip() for item in materials if item and item.strip()))
    receipt = Step(
        at=at,
        by=_require_text(by, "by", "须记录操作人"),
        action="receive",
        from_status=None,
        to_status=Status.received,
        reason=None,
        data={"materials": list(brought), "received_on": received_on.isoformat()},
    )
    return Application(
        # uuid4 is randomness, not I/O; the service may pass its own id (e.g. for idempotent retries).
        id=application_id or uuid.uuid4(),
        applicant_id=applicant_id,
        kind=facts.kind,
        institution_type=facts.institution_type,
        name=name,
        district_code=district_code,
        office_code=office_code,
        facts=facts,
        materials=brought,
        status=Status.received,
        version=1,
        received_on=received_on,
        steps=(receipt,),
    )


# --------------------------------------------------------------------------- helpers


def _invalid_transition(detail: str | None, status: Status, action: str) -> Conflict:
    return Conflict(
        "invalid_transition",
        "当前状态不允许此操作",
        detail or f"申请状态为“{STATUS_NAMES[status]}”，不能执行 {action}",
        status_now=status.value,
        action=action,
    )


def _require_text(value: str | None, field_name: str, title: str) -> str:
    if value is None or not str(value).strip():
        raise Invalid(f"{field_name}_required", title, errors=[{"field": field_name}])
    return str(value).strip()


def _clean_list(values: Sequence[str], field_name: str, title: str) -> tuple[str, ...]:
    # A bare string is a sequence of characters: take it as one item, not as one item per character.
    if isinstance(values, str):
        values = [values]
    cleaned = tuple(dict.fromkeys(value.strip() for value in values if value and value.strip()))
    if not cleaned:
        raise Invalid(f"{field_name}_required", title, errors=[{"field": field_name}])
    return cleaned


def _require_aware(at: datetime) -> None:
    # A naive time could be UTC or Shanghai; guessing would shift the business date of pauses.
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("steps need a timezone-aware datetime")


def _business_date(at: datetime) -> date:
    _require_aware(at)
    return business_date_of(at)
