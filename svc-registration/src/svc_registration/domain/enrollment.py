"""Enrollment (参保登记): one state machine per enrollment, allowed transitions only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from shared.errors import Problem


class Scheme(StrEnum):
    employee = "employee"  # 职工医保, enrolled by the unit
    flexible = "flexible"  # 灵活就业, enrolled by the person
    resident = "resident"  # 城乡居民医保


class ResidentTier(StrEnum):
    adult_high = "adult_high"
    adult_middle = "adult_middle"
    adult_low = "adult_low"
    student_child = "student_child"


class Status(StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    stopped = "stopped"  # 中止参保: the unit stopped contributions (the person may leave the region)
    transferred_out = "transferred_out"  # 转出: the coverage moved to another region


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.submitted: frozenset({Status.approved, Status.rejected}),
    Status.approved: frozenset({Status.stopped}),
    Status.rejected: frozenset(),
    Status.stopped: frozenset({Status.transferred_out}),
    Status.transferred_out: frozenset(),
}

# Statuses that hold the person's one basic-insurance enrollment (不允许重复参保).
HOLDS_COVERAGE = frozenset({Status.submitted, Status.approved})


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
    decisions: tuple[Decision, ...] = field(default_factory=tuple)

    @property
    def benefit_start(self) -> date:
        return date(self.coverage_year, 1, 1)

    @property
    def benefit_end(self) -> date:
        return date(self.coverage_year, 12, 31)

    def _move(self, to: Status, expected_version: int, decision: Decision) -> Enrollment:
        if expected_version != self.version:
            raise Problem(
                409, "version_conflict", "记录已被他人修改", f"当前版本为 {self.version}，请刷新后重试", current_version=self.version
            )
        if to not in ALLOWED[self.status]:
            raise Problem(
                409, "invalid_transition", "当前状态不允许此操作", f"参保登记状态为 {self.status.value}，不能变为 {to.value}"
            )
        return replace(self, status=to, version=self.version + 1, decisions=(*self.decisions, decision))

    def approve(self, by: str, at: datetime, expected_version: int) -> Enrollment:
        return self._move(Status.approved, expected_version, Decision(by, at, Status.approved))

    def reject(self, by: str, at: datetime, expected_version: int, reason: str) -> Enrollment:
        return self._move(Status.rejected, expected_version, Decision(by, at, Status.rejected, reason))


    def stop(self, by: str, at: datetime, expected_version: int, reason: str) -> Enrollment:
        return self._move(Status.stopped, expected_version, Decision(by, at, Status.stopped, reason))

    def transfer_out(self, by: str, at: datetime, to_office: str) -> Enrollment:
        """Recorded from the transfer service's event, whatever the version a clerk last saw."""
        return self._move(Status.transferred_out, self.version, Decision(by, at, Status.transferred_out, f"转往 {to_office}"))


def new_resident_enrollment(
    person_id: uuid.UUID, office_code: str, tier: ResidentTier, coverage_year: int, by: str, at: datetime
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
    )
