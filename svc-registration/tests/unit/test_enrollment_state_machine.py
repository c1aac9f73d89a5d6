"""Random sequences of enrollment decisions, retried, repeated and stale: a transition applies once.

Every answer is either a new state (one more decision, one more version) or a 409/422 refusal that
changes nothing; no status is entered twice, so no event is raised twice (registration raises one
per entered status: approved, suspended, stopped, terminated)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shared.errors import DomainError
from svc_registration.domain.benefit_period import Period
from svc_registration.domain.enrollment import (
    Category,
    Enrollment,
    ResidentTier,
    Status,
    TerminationReason,
    new_employee_enrollment,
    new_resident_enrollment,
)

AT = datetime(2027, 3, 1, tzinfo=UTC)
TODAY = date(2026, 12, 1)  # before the resident year starts, so a refund is possible

ACTIONS = {
    "approve": lambda e, v: e.approve("clerk", AT, v),
    "reject": lambda e, v: e.reject("clerk", AT, v, "材料不符"),
    "stop": lambda e, v: e.stop("clerk", AT, v, "单位停保", date(2027, 6, 30)),
    "interrupt": lambda e, v: e.interrupt("unit", AT, v, "停缴", date(2027, 6, 30)),
    "terminate": lambda e, v: e.terminate("unit", AT, v, TerminationReason.death, date(2027, 6, 30)),
    "refund": lambda e, v: e.refund("clerk", AT, v, TODAY, "参加职工医保"),
    "retire": lambda e, v: e.retire("unit", AT, v),
    "resume": lambda e, v: e.resume("unit", AT, v, date(2027, 9, 1))[0],
}


class Decisions(RuleBasedStateMachine):
    enrollment: Enrollment
    initial_decisions: int

    @initialize(kind=st.sampled_from(["employee", "resident"]))
    def filed(self, kind: str) -> None:
        if kind == "employee":
            self.enrollment = new_employee_enrollment(
                uuid.uuid4(),
                "91120101MA05K8Q4X9",
                "120101",
                date(2027, 3, 1),
                Category.in_service,
                "unit",
                AT,
            )
        else:
            period = Period(date(2027, 1, 1), date(2027, 12, 31), "regular", "")
            self.enrollment = new_resident_enrollment(
                uuid.uuid4(),
                "120101",
                ResidentTier.adult_low,
                2027,
                period,
                date(2026, 10, 1),
                (),
                "clerk",
                AT,
            )
        self.initial_decisions = len(self.enrollment.decisions)

    @rule(action=st.sampled_from(sorted(ACTIONS)), stale=st.booleans())
    def decide(self, action: str, stale: bool) -> None:
        before = self.enrollment
        version = (
            before.version - 1 if stale else before.version
        )  # a retry of an earlier request, or a fresh one
        try:
            after = ACTIONS[action](before, version)
        except DomainError as refusal:
            assert refusal.status in (409, 422), refusal
            return
        assert not stale, "a stale version never changes the enrollment"
        assert after.version == before.version + 1 and len(after.decisions) == len(before.decisions) + 1
        assert after.status is not before.status or (
            action == "retire" and after.category is Category.retired
        )
        self.enrollment = after

    @invariant()
    def each_status_entered_once(self) -> None:
        if not hasattr(self, "enrollment"):
            return
        entered = Counter(
            (d.outcome, d.reason if d.outcome is Status.approved else None) for d in self.enrollment.decisions
        )
        assert all(n == 1 for n in entered.values()), entered
        assert self.enrollment.version == len(self.enrollment.decisions) - self.initial_decisions + 1


TestDecisions = Decisions.TestCase
TestDecisions.settings = settings(max_examples=150, stateful_step_count=12, deadline=None)
