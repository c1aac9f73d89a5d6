"""Enrollment (参保登记): one state machine per enrollment, allowed transitions only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.errors import Conflict, Invalid
from svc_registration.domain.benefit_period import Period, employee_period, flexible_period
from svc_registration.domain.special_groups import SpecialGroup, SpecialGroupRecord


class Scheme(StrEnum):
    employee = "employee"  # 职工医保, enrolled by the unit
    flexible = "flexible"  # 灵活就业, enrolled by the person
    resident = "resident"  # 城乡居民医保


class ResidentTier(StrEnum):
    adult_high = "adult_high"
    adult_middle = "adult_middle"
    adult_low = "adult_low"
    student_child = "student_child"


class Category(StrEnum):
    in_service = "in_service"  # 在职
    retired = "retired"  # 退休


class Status(StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    interrupted = "interrupted"  # 中断: the unit stopped paying (the person may go to resident insurance)
    resumed = "resumed"  # 恢复: a new enrollment continues this one (previous_id)
    stopped = "stopped"  # 中止参保: the unit stopped contributions (the person may leave the region)
    transferred_out = "transferred_out"  # 转出: the coverage moved to another region
    terminated = "terminated"  # 终止: death, emigration, job ended …
    refunded = "refunded"  # 退费: only before the benefit period starts


class TerminationReason(StrEnum):
    death = "death"
    emigration = "emigration"
    job_ended = "job_ended"
    transfer_out = "transfer_out"
    other = "other"


TERMINATION_REASONS = {"death": "死亡", "emigration": "出国（境）定居", "job_ended": "解除劳动关系",
                       "transfer_out": "转出统筹区", "other": "其他"}  # fmt: skip

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.submitted: frozenset({Status.approved, Status.rejected}),
    Status.approved: frozenset({Status.stopped, Status.interrupted, Status.terminated, Status.refunded}),
    Status.rejected: frozenset(),
    Status.interrupted: frozenset({Status.resumed, Status.terminated}),
    Status.resumed: frozenset(),
    Status.stopped: frozenset({Status.transferred_out, Status.terminated}),
    Status.transferred_out: frozenset(),
    Status.terminated: frozenset(),
    Status.refunded: frozenset(),
}

# Statuses that hold the person's one basic-insurance enrollment (不允许重复参保).
HOLDS_COVERAGE = frozenset({Status.submitted, Status.approved})
# Statuses that still grant benefits.
GRANTS_BENEFITS = frozenset({Status.approved})
# Employee coverage that has ended: a resident enrollment then starts the day after payment.
EMPLOYEE_COVERAGE_ENDED = frozenset({Status.interrupted, Status.stopped, Status.terminated})


class FilerKind(StrEnum):
    """Who files residents collectively (集体参保): seeds 001/003/004."""

    school = "school"  # 学校 (students and children; new pupils in the autumn)
    village = "village"  # 村（居）委会
    welfare_institution = "welfare_institution"  # 福利机构
    township = "township"  # 乡镇（街道）服务中心, families
    detention_facility = "detention_facility"  # 公安监管场所 (seed 001 三(二)4)


@dataclass(frozen=True)
class Filer:
    kind: FilerKind
    name: str
    code: str | None = None


@dataclass(frozen=True)
class Decision:
    by: str
    at: datetime
    outcome: Status
    reason: str | None = None


@dataclass(frozen=True)
class Enrollment:
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    tier: ResidentTier | None
    coverage_year: int
    status: Status
    version: int
    submitted_by: str
    submitted_at: datetime
    period: Period
    decisions: tuple[Decision, ...] = field(default_factory=tuple)
    unit_code: str | None = None
    category: Category | None = None
    special_groups: tuple[SpecialGroupRecord, ...] = ()  # each with its evidence and validity
    paid_on: date | None = None
    previous_id: uuid.UUID | None = None
    filer: Filer | None = None
    handling: dict[str, Any] | None = None  # domain.materials.Handling.as_dict(): channel, papers, proxy
    late_record: dict[str, Any] | None = (
        None  # domain.backdating.LateRecord.as_dict(): why it starts before the current month
    )

    @property
    def group_codes(self) -> tuple[SpecialGroup, ...]:
        return tuple(r.group for r in self.special_groups)

    @property
    def benefit_start(self) -> date:
        return self.period.start

    @property
    def benefit_end(self) -> date | None:
        return self.period.end

    def covers(self, day: date) -> bool:
        return (
            self.status in GRANTS_BENEFITS
            and self.period.start <= day
            and (self.period.end is None or day <= self.period.end)
        )

    def _move(
        self,
        to: Status,
        expected_version: int,
        decision: Decision,
        *,
        same_status: bool = False,
        **changes: Any,
    ) -> Enrollment:
        """One transition, once. A request on an old version is a conflict (a retry carries the version it
        was made on); asking again, on the current version, for the status the enrollment already has is
        `transition_already_applied`. Only a change within a status (在职转退休) keeps it (`same_status`)."""
        if expected_version != self.version:
            raise Conflict(
                "version_conflict",
                "记录已被他人修改",
                f"当前版本为 {self.version}，请刷新后重试",
                current_version=self.version,
            )
        if to is self.status and not same_status:
            raise Conflict("transition_already_applied", "该操作已办理，不能重复办理", f"参保登记已是 {self.status.value} 状态",
                current_status=self.status.value, current_version=self.version,
            )  # fmt: skip
        if to is not self.status and to not in ALLOWED[self.status]:
            raise Conflict(
                "invalid_transition",
                "当前状态不允许此操作",
                f"参保登记状态为 {self.status.value}，不能变为 {to.value}",
            )
        return replace(
            self, status=to, version=self.version + 1, decisions=(*self.decisions, decision), **changes
        )

    def _ended_on(self, last_day: date) -> Period:
        """The period cut at `last_day` (never later than it already ended)."""
        if last_day < self.period.start - timedelta(days=1):
            raise Invalid("end_before_start", "终止日期早于待遇开始日期", f"待遇自 {self.period.start} 开始",
                          errors=[{"field": "last_day", "message": f"不得早于 {self.period.start - timedelta(days=1)}"}])  # fmt: skip
        end = last_day if self.period.end is None else min(self.period.end, last_day)
        return replace(self.period, end=end)

    def approve(self, by: str, at: datetime, expected_version: int) -> Enrollment:
        return self._move(Status.approved, expected_version, Decision(by, at, Status.approved))

    def reject(self, by: str, at: datetime, expected_version: int, reason: str) -> Enrollment:
        return self._move(Status.rejected, expected_version, Decision(by, at, Status.rejected, reason))

    def stop(self, by: str, at: datetime, expected_version: int, reason: str, last_day: date) -> Enrollment:
        return self._move(
            Status.stopped,
            expected_version,
            Decision(by, at, Status.stopped, reason),
            period=self._ended_on(last_day),
        )

    def interrupt(
        self, by: str, at: datetime, expected_version: int, reason: str, last_day: date
    ) -> Enrollment:
        """中断: the unit stops paying for an employee (flexible: the person stops paying)."""
        self._require_working_scheme("中断")
        return self._move(
            Status.interrupted,
            expected_version,
            Decision(by, at, Status.interrupted, reason),
            period=self._ended_on(last_day),
        )

    def terminate(
        self,
        by: str,
        at: datetime,
        expected_version: int,
        reason: TerminationReason,
        last_day: date,
        note: str | None = None,
    ) -> Enrollment:
        words = TERMINATION_REASONS[reason.value] + (f"：{note}" if note else "")
        return self._move(
            Status.terminated,
            expected_version,
            Decision(by, at, Status.terminated, words),
            period=self._ended_on(last_day),
        )

    def refund(self, by: str, at: datetime, expected_version: int, today: date, reason: str) -> Enrollment:
        """退费: only before the benefit period starts; afterwards the year's contribution stays."""
        if today >= self.period.start:
            raise Conflict(
                "refund_after_start",
                "待遇享受期已开始，不予退费",
                f"待遇自 {self.period.start} 开始，退费须在此之前申请",
            )
        return self._move(
            Status.refunded,
            expected_version,
            Decision(by, at, Status.refunded, reason),
            period=self._ended_on(self.period.start - timedelta(days=1)),
        )

    def resume(
        self, by: str, at: datetime, expected_version: int, start: date
    ) -> tuple[Enrollment, Enrollment]:
        """恢复: the interrupted enrollment is closed as resumed and a new one continues it from `start`."""
        self._require_working_scheme("恢复")
        if self.period.end is not None and start <= self.period.end:
            raise Invalid("resume_overlaps", "恢复日期须晚于中断日期", f"中断前待遇至 {self.period.end}",
                          errors=[{"field": "start", "message": f"须晚于 {self.period.end}"}])  # fmt: skip
        closed = self._move(
            Status.resumed, expected_version, Decision(by, at, Status.resumed, f"自 {start} 恢复参保")
        )
        period = Period(start, None, "resumed", "恢复参保：自恢复之日起享受待遇，至中断或终止")
        continued = replace(
            self, id=uuid.uuid4(), status=Status.approved, version=1, submitted_by=by, submitted_at=at, period=period,
            coverage_year=start.year, decisions=(Decision(by, at, Status.approved, "恢复参保"),), previous_id=self.id, late_record=None,
        )  # fmt: skip
        return closed, continued

    def retire(self, by: str, at: datetime, expected_version: int) -> Enrollment:
        """在职转退休: the same coverage continues under retiree rules."""
        if self.scheme is Scheme.employee and self.category is Category.retired:
            raise Conflict("transition_already_applied", "该操作已办理，不能重复办理", "该职工已办理在职转退休",
                          current_status=self.status.value, current_version=self.version)  # fmt: skip
        if self.scheme is not Scheme.employee or self.category is not Category.in_service:
            raise Conflict("invalid_transition", "只有在职职工可以办理在职转退休")
        return self._move(Status.approved, expected_version, Decision(by, at, Status.approved, "在职转退休"), same_status=True,
                          category=Category.retired)  # fmt: skip

    def transfer_out(self, by: str, at: datetime, to_office: str) -> Enrollment:
        """Recorded from the transfer service's event, whatever the version a clerk last saw."""
        return self._move(
            Status.transferred_out,
            self.version,
            Decision(by, at, Status.transferred_out, f"转往 {to_office}"),
        )

    def _require_working_scheme(self, what: str) -> None:
        if self.scheme is Scheme.resident:
            raise Conflict(
                "invalid_transition", f"城乡居民医保不能办理{what}", "中断、恢复适用于职工医保和灵活就业人员"
            )


def new_resident_enrollment(
    person_id: uuid.UUID,
    office_code: str,
    tier: ResidentTier,
    coverage_year: int,
    period: Period,
    paid_on: date,
    special_groups: tuple[SpecialGroupRecord, ...],
    by: str,
    at: datetime,
    filer: Filer | None = None,
    handling: dict[str, Any] | None = None,
) -> Enrollment:
    return Enrollment(
        id=uuid.uuid4(),
        person_id=person_id,
        office_code=office_code,
        scheme=Scheme.resident,
        tier=tier,
        coverage_year=coverage_year,
        status=Status.submitted,
        version=1,
        submitted_by=by,
        submitted_at=at,
        period=period,
        special_groups=special_groups,
        paid_on=paid_on,
        filer=filer,
        handling=handling,
    )


def new_employee_enrollment(
    person_id: uuid.UUID,
    unit_code: str,
    office_code: str,
    start: date,
    category: Category,
    by: str,
    at: datetime,
    handling: dict[str, Any] | None = None,
) -> Enrollment:
    """增加: enrolled by the unit, immediate (即时办结): approved in the same request."""
    return Enrollment(
        id=uuid.uuid4(), person_id=person_id, office_code=office_code, scheme=Scheme.employee, tier=None,
        coverage_year=start.year, status=Status.approved, version=1, submitted_by=by, submitted_at=at,
        period=employee_period(start), decisions=(Decision(by, at, Status.approved, "单位增员"),),
        unit_code=unit_code, category=category, handling=handling,
    )  # fmt: skip


def new_flexible_enrollment(
    person_id: uuid.UUID,
    office_code: str,
    paid_on: date,
    by: str,
    at: datetime,
    handling: dict[str, Any] | None = None,
) -> Enrollment:
    return Enrollment(
        id=uuid.uuid4(), person_id=person_id, office_code=office_code, scheme=Scheme.flexible, tier=None,
        coverage_year=paid_on.year, status=Status.submitted, version=1, submitted_by=by, submitted_at=at,
        period=flexible_period(paid_on), paid_on=paid_on, handling=handling,
    )  # fmt: skip


# Statuses of an enrollment whose period did grant benefits (whatever happened to it since).
WAS_COVERED = frozenset(
    {
        Status.approved,
        Status.interrupted,
        Status.resumed,
        Status.stopped,
        Status.transferred_out,
        Status.terminated,
    }
)


def conflicting_enrollment(history: list[Enrollment], candidate: Enrollment) -> Enrollment | None:
    """不允许重复参保: an enrollment of the person that holds an overlapping period, if any.

    The one exception is the continuity rule of seed 001 (九.3): a person who takes a job is
    enrolled by the unit although a resident year is already paid; while the employee insurance is
    paid only employee benefits apply (claims takes the employee coverage first).
    """
    for existing in history:
        if existing.id == candidate.id or existing.status not in HOLDS_COVERAGE:
            continue
        if candidate.scheme is Scheme.employee and existing.scheme is Scheme.resident:
            continue
        if existing.period.overlaps(candidate.period):
            return existing
    return None


def covered_in_year(history: list[Enrollment], year: int) -> bool:
    """Whether the person had coverage on some day of `year` (上年度参保, for late payment)."""
    whole_year = Period(date(year, 1, 1), date(year, 12, 31), "", "")
    return any(e.status in WAS_COVERED and e.period.overlaps(whole_year) for e in history)


def employee_coverage_ended(history: list[Enrollment]) -> bool:
    """The person's last employee or flexible coverage has ended (中断/中止/终止) and none is active."""
    working = [e for e in history if e.scheme is not Scheme.resident]
    return any(e.status in EMPLOYEE_COVERAGE_ENDED for e in working) and not any(
        e.status in HOLDS_COVERAGE for e in working
    )
