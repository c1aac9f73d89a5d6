"""A transfer case (转移接续), as one office sees it: the incoming side or the outgoing side.

Incoming (转入地): submitted → accepted → letter_sent → awaiting_completion → completed, or refused
by this office, or rejected by the peer; letter_sent → funds_held when the fund notice does not
agree with the information table (staff check the bank statement: only the table's amount is ever
credited). Outgoing (转出地): letter_received → transferred_out, or
rejected (the letter is answered with a reason). Each timed step starts on the day of its triggering
act (day 0) and is due after the profile's working days; the calendar turns that into a date when
it is read, so a due date in a year without a holiday table is recomputed once the table arrives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from shared.calendar import WorkingCalendar, WorkingDate
from shared.errors import Conflict, Invalid
from svc_transfer.domain.profiles import ARMY_COMPLETE_DAYS, WHOLE_TRANSFER_DAYS, SlaProfile


class Side(StrEnum):
    incoming = "incoming"
    outgoing = "outgoing"


class Status(StrEnum):
    submitted = "submitted"
    refused = "refused"
    accepted = "accepted"
    letter_sent = "letter_sent"
    awaiting_completion = "awaiting_completion"
    funds_held = "funds_held"  # the fund notice differs from the table: held for staff, nothing credited
    completed = "completed"
    rejected_by_peer = "rejected_by_peer"
    letter_received = "letter_received"
    transferred_out = "transferred_out"
    rejected = "rejected"


CLOSED = frozenset(
    {Status.refused, Status.completed, Status.rejected_by_peer, Status.transferred_out, Status.rejected}
)


class StepName(StrEnum):
    send_letter = "send_letter"  # 生成并发出联系函
    send_table = "send_table"  # 生成并发出信息表、划转资金
    check_funds = "check_funds"  # 核对转移资金：资金划转通知与信息表不符
    resend = "resend"  # 对端拒收（或多次送达失败）的报文：核实后重新发送
    whole_transfer = "whole_transfer"  # 全程：受理至办结（服务事项目录 20 个工作日）
    complete = "complete"  # 办结：合并缴费年限、记入个人账户


STEP_TITLES = {
    StepName.send_letter: "生成并发出联系函",
    StepName.send_table: "生成并发出信息表、划转资金",
    StepName.check_funds: "核对转移资金（资金划转通知与信息表金额不符，待核实银行到账）",
    StepName.complete: "办结（合并缴费年限、记入个人账户）",
    StepName.resend: "对端拒收或无法送达的报文：核实对端地址与报文后重新发送",
    StepName.whole_transfer: f"全程办结时限（受理后{WHOLE_TRANSFER_DAYS}个工作日）",
}


@dataclass(frozen=True)
class Step:
    name: StepName
    started_on: date
    days: int
    done_on: date | None = None
    overdue_announced: bool = False

    def due(self, calendar: WorkingCalendar) -> WorkingDate:
        return calendar.add_working_days(self.started_on, self.days)

    def overdue(self, calendar: WorkingCalendar, today: date) -> bool:
        """Past due: not done by the end of the due date (on the due date itself the office is in time)."""
        return (self.done_on or today) > self.due(calendar).date


@dataclass(frozen=True)
class Period:
    """A stretch of contributions in the outgoing region (months inclusive, 'YYYY-MM')."""

    start: str
    end: str
    months: int
    unit_name: str | None = None


@dataclass(frozen=True)
class Certificate:
    """What the person brings: the 参保凭证 of the outgoing office, or the army's transfer certificate."""

    number: str
    issuing_office: str
    coverage_ended_on: date
    contribution_months: int
    account_balance: Decimal
    arrears: Decimal = Decimal("0.00")
    army_kind: str | None = None  # 军人退役医疗保险个人账户转移凭证 / 义务兵退役医疗保险金转移凭证

    @property
    def from_army(self) -> bool:
        return self.army_kind is not None


@dataclass(frozen=True)
class InformationTable:
    """The 信息表: what the outgoing office attests (it wins over the paper certificate)."""

    contribution_months: int
    history: tuple[Period, ...]
    account_balance: Decimal
    coverage_ended_on: date
    received_on: date | None = None


@dataclass(frozen=True)
class Funds:
    amount: Decimal
    reference: str
    transferred_on: date
    received_on: date | None = None


@dataclass(frozen=True)
class Entry:
    """One line of the case's history: who did what, when, and why."""

    at: datetime
    by: str
    action: str
    note: str | None = None


RESEND_DAYS = 1  # a refused message is looked at by the next working day


@dataclass(frozen=True)
class DeliveryFailure:
    """A message of this case the peer refused for good (4xx) or that could not be delivered within
    the retry limit: the case stays on the worklist until staff re-send it."""

    message_id: uuid.UUID
    type: str
    error: str
    failed_on: date
    overdue_announced: bool = False


@dataclass(frozen=True)
class Person:
    id_type: str
    id_number: str
    name: str


@dataclass(frozen=True)
class Transfer:
    id: uuid.UUID
    side: Side
    status: Status
    version: int
    profile: str
    office_code: str  # the office of this deployment that handles the case
    peer_office: str | None  # the other region's office (None for the army)
    transfer_ref: uuid.UUID  # the incoming case's id: both offices name the case by it
    person_id: uuid.UUID
    person: Person
    certificate: Certificate
    unit_id: str | None = None
    proxy_name: str | None = None
    warnings: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    table: InformationTable | None = None
    funds: Funds | None = None
    reason_code: str | None = None
    reason: str | None = None
    history: tuple[Entry, ...] = field(default_factory=tuple)
    delivery_failure: DeliveryFailure | None = None
    accepted_on: date | None = None  # day 0 of the whole transfer's limit (incoming side)

    # ------------------------------------------------------------------ reading

    def step(self, name: StepName) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def open_step(self) -> Step | None:
        failure = self.delivery_failure
        if failure is not None:  # whatever the status: nothing moves until the message gets through
            return Step(
                StepName.resend, failure.failed_on, RESEND_DAYS, overdue_announced=failure.overdue_announced
            )
        return next((s for s in self.steps if s.done_on is None), None) if self.status not in CLOSED else None

    def whole_limit(self) -> Step | None:
        """The whole item's limit beside the steps' own: from acceptance here to completion."""
        if self.side is not Side.incoming or self.accepted_on is None:
            return None
        if self.status in CLOSED and self.status is not Status.completed:
            return None  # refused or rejected: no completion is owed
        completed = self.step(StepName.complete)
        return Step(
            StepName.whole_transfer,
            self.accepted_on,
            WHOLE_TRANSFER_DAYS,
            completed.done_on if completed else None,
        )

    @property
    def closed(self) -> bool:
        return self.status in CLOSED and self.delivery_failure is None

    # ------------------------------------------------------------------ delivery to the peer

    def delivery_refused(
        self, message_id: uuid.UUID, type_: str, error: str, today: date, at: datetime
    ) -> Transfer:
        failure = DeliveryFailure(message_id, type_, error[:500], today)
        entry = Entry(at, self.peer_office or "peer", "delivery_refused", f"{type_}：{error[:200]}")
        return replace(
            self, delivery_failure=failure, version=self.version + 1, history=(*self.history, entry)
        )

    def resend(self, by: str, at: datetime, version: int, note: str) -> Transfer:
        self._expect(version, *Status)
        if self.delivery_failure is None:
            raise Conflict("nothing_to_resend", "没有需要重新发送的报文", "本业务的报文均已送达或正在发送")
        entry = Entry(at, by, "resend", f"{self.delivery_failure.type}：{note}")
        return replace(self, delivery_failure=None, version=self.version + 1, history=(*self.history, entry))

    # ------------------------------------------------------------------ incoming side

    def accept(
        self, profile: SlaProfile | None, today: date, by: str, at: datetime, version: int
    ) -> Transfer:
        self._expect(version, Status.submitted)
        case = replace(self, accepted_on=today)  # day 0 of the whole transfer's limit
        if self.certificate.from_army:
            step = Step(StepName.complete, today, ARMY_COMPLETE_DAYS)
            moved = case._move(
                Status.awaiting_completion, by, at, "accept", "退役军人医疗保险转移凭证：受理后直接办结"
            )
            return replace(moved, steps=(step,))
        assert profile is not None and profile.exchanges_messages
        if profile.letter_days is not None:
            return replace(
                case._move(Status.accepted, by, at, "accept"),
                steps=(Step(StepName.send_letter, today, profile.letter_days),),
            )
        # No letter (national online procedure): the request leaves with the acceptance.
        return case._move(Status.letter_sent, by, at, "accept", "线上办理：受理即向转出地发送转移申请")

    def refuse(self, reason_code: str, reason: str, by: str, at: datetime, version: int) -> Transfer:
        self._expect(version, Status.submitted)
        return replace(
            self._move(Status.refused, by, at, "refuse", reason), reason_code=reason_code, reason=reason
        )

    def send_letter(self, today: date, by: str, at: datetime, version: int) -> Transfer:
        self._expect(version, Status.accepted)
        return self._finish_step(StepName.send_letter, today)._move(Status.letter_sent, by, at, "send_letter")

    def receive_table(
        self, table: InformationTable, profile: SlaProfile, today: date, at: datetime
    ) -> Transfer:
        """The table attests what is credited; a second one never replaces the first."""
        if self.table is not None:
            raise Invalid(
                "table_already_received",
                "信息表已接收",
                "本业务已收到信息表，不予替换；如有更正请联系本机构",
            )
        self._require(Status.letter_sent)
        received = replace(
            self, table=replace(table, received_on=today), warnings=(*self.warnings, *self._differs(table))
        )
        return received._await_completion_if_complete(profile, at, "receive_table")

    def _differs(self, table: InformationTable) -> tuple[str, ...]:
        """What the outgoing office attests wins, but staff see where it departs from the paper the person brought."""
        paper = self.certificate
        if (table.contribution_months, table.account_balance) == (
            paper.contribution_months,
            paper.account_balance,
        ):
            return ()
        return (
            f"信息表（缴费 {table.contribution_months} 个月、个人账户 {table.account_balance:.2f} 元）与参保凭证"
            f"（{paper.contribution_months} 个月、{paper.account_balance:.2f} 元）不一致：以信息表为准，请核对",
        )

    def receive_funds(self, funds: Funds, profile: SlaProfile, today: date, at: datetime) -> Transfer:
        """The fund notice is checked against the table; a second one never replaces the first."""
        if self.funds is not None:
            raise Invalid(
                "funds_already_received",
                "资金划转通知已接收",
                "本业务已收到资金划转通知，不予替换；如有更正请联系本机构",
            )
        self._require(Status.letter_sent)
        received = replace(self, funds=replace(funds, received_on=today))
        return received._await_completion_if_complete(profile, at, "receive_funds")

    def confirm_funds(
        self, amount_received: Decimal, note: str, today: date, by: str, at: datetime, version: int
    ) -> Transfer:
        """Staff checked the bank statement: completion goes on only when what arrived is what the table attests."""
        self._expect(version, Status.funds_held)
        assert self.table is not None
        if amount_received != self.table.account_balance:
            raise Invalid(
                "funds_still_differ",
                "到账金额与信息表不符",
                f"信息表载明 {self.table.account_balance:.2f} 元，到账 {amount_received:.2f} 元：请与转出地核实，仍暂缓办结",
            )
        checked = self._finish_step(StepName.check_funds, today)
        step = Step(StepName.complete, today, self.steps[-1].days)
        moved = checked._move(
            Status.awaiting_completion, by, at, "confirm_funds", f"到账 {amount_received:.2f} 元；{note}"
        )
        return replace(moved, steps=(*checked.steps, step))

    def complete(self, today: date, by: str, at: datetime, version: int) -> Transfer:
        self._expect(version, Status.awaiting_completion)
        return self._finish_step(StepName.complete, today)._move(Status.completed, by, at, "complete")

    @property
    def credited_balance(self) -> Decimal:
        """What completion credits: the outgoing office's table (the army's certificate has no table)."""
        return self.table.account_balance if self.table else self.certificate.account_balance

    def rejected_by(self, reason_code: str, reason: str, at: datetime) -> Transfer:
        self._require(Status.letter_sent, Status.accepted)
        moved = self._move(Status.rejected_by_peer, self.peer_office or "peer", at, "peer_rejected", reason)
        return replace(moved, reason_code=reason_code, reason=reason)

    def _await_completion_if_complete(self, profile: SlaProfile, at: datetime, action: str) -> Transfer:
        logged = replace(self, history=(*self.history, Entry(at, self.peer_office or "peer", action)))
        if logged.table is None or logged.funds is None:
            return replace(logged, version=self.version + 1)
        # Day 0 of completion is the day the later of the two arrived.
        table_on, funds_on = logged.table.received_on, logged.funds.received_on
        assert table_on is not None and funds_on is not None  # each was stamped as it arrived
        started = max(table_on, funds_on)
        assert profile.complete_days is not None
        if logged.funds.amount != logged.table.account_balance:
            # Never credit a figure the table does not attest, never credit silently: staff check it.
            warning = (
                f"资金划转通知金额 {logged.funds.amount:.2f} 元与信息表个人账户余额 "
                f"{logged.table.account_balance:.2f} 元不符：暂缓办结，请核实银行到账"
            )
            step = Step(StepName.check_funds, started, profile.complete_days)
            return replace(
                logged, status=Status.funds_held, version=self.version + 1, steps=(*self.steps, step),
                warnings=(*self.warnings, warning),
            )  # fmt: skip
        step = Step(StepName.complete, started, profile.complete_days)
        return replace(
            logged, status=Status.awaiting_completion, version=self.version + 1, steps=(*self.steps, step)
        )

    # ------------------------------------------------------------------ outgoing side

    def send_table(self, today: date, by: str, at: datetime, version: int) -> Transfer:
        self._expect(version, Status.letter_received)
        return self._finish_step(StepName.send_table, today)._move(
            Status.transferred_out, by, at, "send_table"
        )

    # ------------------------------------------------------------------ shared

    def announce_overdue(self, name: StepName) -> Transfer:
        if name is StepName.resend and self.delivery_failure is not None:
            return replace(self, delivery_failure=replace(self.delivery_failure, overdue_announced=True))
        steps = tuple(replace(s, overdue_announced=True) if s.name == name else s for s in self.steps)
        return replace(self, steps=steps)

    def _finish_step(self, name: StepName, today: date) -> Transfer:
        steps = tuple(
            replace(s, done_on=today) if s.name == name and s.done_on is None else s for s in self.steps
        )
        return replace(self, steps=steps)

    def _move(self, to: Status, by: str, at: datetime, action: str, note: str | None = None) -> Transfer:
        return replace(
            self, status=to, version=self.version + 1, history=(*self.history, Entry(at, by, action, note))
        )

    def _expect(self, version: int, *statuses: Status) -> None:
        if version != self.version:
            raise Conflict(
                "version_conflict",
                "记录已被他人修改",
                f"当前版本为 {self.version}，请刷新后重试",
                current_version=self.version,
            )
        self._require(*statuses)

    def _require(self, *statuses: Status) -> None:
        if self.status not in statuses:
            raise Conflict(
                "invalid_transition",
                "当前状态不允许此操作",
                f"转移接续业务当前状态为 {self.status.value}",
            )


def arrears_warning(certificate: Certificate) -> tuple[str, ...]:
    """Arrears are told, not blocking (file 000: 对有欠费的参保人员，告知欠费情况并提醒其及时补缴)."""
    if certificate.arrears > 0:
        return (f"参保凭证显示欠费 {certificate.arrears:.2f} 元，请及时向转出地补缴；不影响本次转移受理",)
    return ()


def new_incoming(
    *,
    person_id: uuid.UUID,
    person: Person,
    certificate: Certificate,
    office_code: str,
    profile: str,
    by: str,
    at: datetime,
    unit_id: str | None = None,
    proxy_name: str | None = None,
) -> Transfer:
    case_id = uuid.uuid4()
    return Transfer(
        id=case_id,
        side=Side.incoming,
        status=Status.submitted,
        version=1,
        profile=profile,
        office_code=office_code,
        peer_office=None if certificate.from_army else certificate.issuing_office,
        transfer_ref=case_id,
        person_id=person_id,
        person=person,
        certificate=certificate,
        unit_id=unit_id,
        proxy_name=proxy_name,
        warnings=arrears_warning(certificate),
        history=(Entry(at, by, "apply", f"代办人：{proxy_name}" if proxy_name else None),),
    )


def new_outgoing(
    *,
    transfer_ref: uuid.UUID,
    person_id: uuid.UUID,
    person: Person,
    certificate: Certificate,
    peer_office: str,
    profile: SlaProfile,
    today: date,
    at: datetime,
    applied_by: str | None = None,
    office_code: str | None = None,
) -> Transfer:
    """From the incoming office's letter, or (online procedure) from the person applying here.
    `office_code`: the office holding the certificate (default: the issuing office named on it)."""
    assert profile.table_days is not None
    opened = (
        Entry(at, applied_by, "apply_here", "线上办理：在转出地申请")
        if applied_by
        else Entry(at, peer_office, "receive_letter")
    )
    return Transfer(
        id=uuid.uuid4(),
        side=Side.outgoing,
        status=Status.letter_received,
        version=1,
        profile=profile.code,
        office_code=office_code or certificate.issuing_office,
        peer_office=peer_office,
        transfer_ref=transfer_ref,
        person_id=person_id,
        person=person,
        certificate=certificate,
        steps=(Step(StepName.send_table, today, profile.table_days),),
        history=(opened,),
    )


def opened_by_table(case: Transfer, transfer_ref: uuid.UUID, at: datetime) -> Transfer:
    """Online procedure, applied at the outgoing end: the information table opens the case here."""
    return replace(
        case,
        transfer_ref=transfer_ref,
        status=Status.letter_sent,
        history=(
            Entry(
                at, case.peer_office or "peer", "applied_at_outgoing_office", "线上办理：参保人在转出地申请"
            ),
        ),
    )


def rejected_letter(outgoing: Transfer, reason_code: str, reason: str) -> Transfer:
    return replace(outgoing, status=Status.rejected, steps=(), reason_code=reason_code, reason=reason)
