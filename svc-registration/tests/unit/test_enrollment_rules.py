"""The enrollment state machine, no duplicate enrollment, the continuity rules, and units."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from shared.errors import DomainError
from svc_registration.domain.benefit_period import Period, employee_period
from svc_registration.domain.enrollment import (
    ALLOWED,
    Category,
    Enrollment,
    ResidentTier,
    Status,
    TerminationReason,
    conflicting_enrollment,
    covered_in_year,
    employee_coverage_ended,
    new_employee_enrollment,
    new_flexible_enrollment,
    new_resident_enrollment,
)
from svc_registration.domain.unit import ChangeKind, UnitChange, UnitStatus, register_unit

AT = datetime(2027, 3, 1, tzinfo=UTC)
PERSON = uuid.uuid4()
UNIT = "91120101MA05K8Q4X9"


def resident(year: int = 2027, status: Status = Status.approved, person: uuid.UUID = PERSON) -> Enrollment:
    period = Period(date(year, 1, 1), date(year, 12, 31), "regular", "")
    e = new_resident_enrollment(
        person, "120101", ResidentTier.adult_middle, year, period, date(year - 1, 10, 1), (), "clerk", AT
    )
    return replace(e, status=status)


def employee(start: date = date(2027, 3, 1)) -> Enrollment:
    return new_employee_enrollment(PERSON, UNIT, "120101", start, Category.in_service, "unit", AT)


def test_only_the_allowed_transitions_exist() -> None:
    # Every status a transition leads to is itself a status; terminal statuses lead nowhere.
    for targets in ALLOWED.values():
        assert all(isinstance(t, Status) for t in targets)
    for terminal in (
        Status.rejected,
        Status.resumed,
        Status.transferred_out,
        Status.terminated,
        Status.refunded,
    ):
        assert ALLOWED[terminal] == frozenset()
    with pytest.raises(DomainError) as refused:
        resident(status=Status.rejected).approve("clerk", AT, 1)
    assert refused.value.code == "invalid_transition"


def test_a_stale_version_is_a_conflict() -> None:
    with pytest.raises(DomainError) as refused:
        resident(status=Status.submitted).approve("clerk", AT, 7)
    assert refused.value.status == 409 and refused.value.code == "version_conflict"


def test_an_employee_added_by_the_unit_is_covered_at_once_and_open_ended() -> None:
    e = employee()
    assert e.status is Status.approved and e.benefit_end is None and e.covers(date(2040, 1, 1))
    assert not e.covers(date(2027, 2, 28))


def test_interrupt_then_resume_makes_a_new_coverage_after_the_gap() -> None:
    interrupted = employee().interrupt("unit", AT, 1, "停缴", date(2027, 6, 30))
    assert interrupted.status is Status.interrupted and interrupted.benefit_end == date(2027, 6, 30)
    assert not interrupted.covers(date(2027, 5, 1))  # interrupted coverage grants nothing any more
    with pytest.raises(DomainError) as overlapping:
        interrupted.resume("unit", AT, 2, date(2027, 6, 30))
    assert overlapping.value.code == "resume_overlaps"
    closed, continued = interrupted.resume("unit", AT, 2, date(2027, 9, 1))
    assert closed.status is Status.resumed
    assert continued.previous_id == closed.id and continued.status is Status.approved
    assert (continued.benefit_start, continued.benefit_end) == (date(2027, 9, 1), None)


def test_residents_cannot_be_interrupted() -> None:
    with pytest.raises(DomainError):
        resident().interrupt("clerk", AT, 1, "停缴", date(2027, 6, 30))


def test_termination_ends_the_period_on_the_last_day_never_later() -> None:
    dead = resident().terminate("clerk", AT, 1, TerminationReason.death, date(2027, 5, 3))
    assert dead.status is Status.terminated and dead.benefit_end == date(2027, 5, 3)
    assert dead.decisions[-1].reason == "死亡"
    late = resident().terminate("clerk", AT, 1, TerminationReason.emigration, date(2028, 2, 1))
    assert late.benefit_end == date(2027, 12, 31)
    with pytest.raises(DomainError) as before_start:
        resident().terminate("clerk", AT, 1, TerminationReason.death, date(2026, 12, 30))
    assert before_start.value.code == "end_before_start"


def test_refund_only_before_the_benefit_period_starts() -> None:
    refunded = resident(2027).refund("clerk", AT, 1, date(2026, 12, 31), "参加职工医保")
    assert refunded.status is Status.refunded and refunded.benefit_end == date(2026, 12, 31)
    with pytest.raises(DomainError) as refused:
        resident(2027).refund("clerk", AT, 1, date(2027, 1, 1), "参加职工医保")
    assert refused.value.code == "refund_after_start"


def test_retirement_keeps_the_coverage_under_retiree_rules() -> None:
    retired = employee().retire("unit", AT, 1)
    assert retired.status is Status.approved and retired.category is Category.retired and retired.version == 2
    with pytest.raises(DomainError) as twice:
        retired.retire("unit", AT, 2)
    assert twice.value.code == "transition_already_applied"
    with pytest.raises(DomainError):
        resident().retire("clerk", AT, 1)


def test_no_duplicate_enrollment_on_overlapping_periods() -> None:
    held = resident(2027)
    assert conflicting_enrollment([held], resident(2027, Status.submitted)) == held
    assert conflicting_enrollment([held], resident(2028, Status.submitted)) is None  # next year: a renewal
    assert conflicting_enrollment([resident(2027, Status.rejected)], resident(2027, Status.submitted)) is None
    flexible = new_flexible_enrollment(PERSON, "120101", date(2027, 5, 1), "p", AT)
    assert conflicting_enrollment([held], flexible) == held
    # Resident → employee is the continuity rule, not a duplicate; the other way round is one.
    assert conflicting_enrollment([held], employee()) is None
    assert conflicting_enrollment([employee()], resident(2028, Status.submitted)) is not None
    assert conflicting_enrollment([employee()], employee(date(2030, 1, 1))) is not None


def test_previous_year_coverage_and_ended_employee_coverage() -> None:
    assert covered_in_year([resident(2026)], 2026)
    assert not covered_in_year([resident(2026, Status.rejected)], 2026)
    assert covered_in_year(
        [resident(2026).terminate("c", AT, 1, TerminationReason.other, date(2026, 3, 1))], 2026
    )
    interrupted = employee().interrupt("unit", AT, 1, "离职", date(2027, 6, 30))
    assert employee_coverage_ended([interrupted])
    assert not employee_coverage_ended([employee()])
    assert not employee_coverage_ended([interrupted, employee(date(2027, 9, 1))])
    assert not employee_coverage_ended([resident()])


def test_units_need_a_valid_credit_code_and_documents_for_their_changes() -> None:
    with pytest.raises(DomainError) as bad:
        register_unit("91120101MA05K8Q4X8", "示例", "王某", "120101", "clerk", AT)
    assert bad.value.code == "invalid_credit_code"
    unit = register_unit(UNIT, "天津示例科技有限公司", "王某", "120101", "clerk", AT)
    with pytest.raises(DomainError) as undocumented:
        unit.apply(UnitChange(ChangeKind.name, "clerk", AT, after="新名称"), 1)
    assert undocumented.value.code == "documents_missing"
    renamed = unit.apply(
        UnitChange(ChangeKind.name, "clerk", AT, documents=("营业执照变更 2027-01",), after="新名称"), 1
    )
    assert renamed.name == "新名称" and renamed.version == 2
    suspended = renamed.apply(UnitChange(ChangeKind.suspend, "clerk", AT), 2)
    assert suspended.status is UnitStatus.suspended
    with pytest.raises(DomainError) as twice:
        suspended.apply(UnitChange(ChangeKind.suspend, "clerk", AT), 3)
    assert twice.value.code == "invalid_transition"
    assert suspended.apply(UnitChange(ChangeKind.resume, "clerk", AT), 3).status is UnitStatus.active
    with pytest.raises(DomainError) as bad_code:
        unit.apply(UnitChange(ChangeKind.credit_code, "clerk", AT, documents=("x",), after="123"), 1)
    assert bad_code.value.code == "invalid_credit_code"


def test_employee_period_starts_on_the_enrollment_day() -> None:
    assert employee_period(date(2027, 3, 1)).start == date(2027, 3, 1)


def test_resident_contributions_of_2021_and_government_paid_special_groups() -> None:
    from decimal import Decimal

    from svc_registration.domain.contribution import resident_contribution
    from svc_registration.domain.enrollment import SpecialGroup

    assert resident_contribution(2021, ResidentTier.adult_high, ()).personal == Decimal("910.00")
    assert resident_contribution(2021, ResidentTier.adult_middle, ()).personal == Decimal("560.00")
    assert resident_contribution(2021, ResidentTier.adult_low, ()).personal == Decimal("280.00")
    assert resident_contribution(2021, ResidentTier.student_child, ()).personal == Decimal("260.00")
    subsidised = resident_contribution(2021, ResidentTier.adult_low, (SpecialGroup.subsistence,))
    assert (subsidised.personal, subsidised.government) == (Decimal("0.00"), Decimal("280.00"))
    assert resident_contribution(2027, ResidentTier.adult_low, ()) is None  # not in the documents


@pytest.mark.parametrize(
    "apply",
    [
        lambda e: e.approve("clerk", AT, e.version),
        lambda e: e.reject("clerk", AT, e.version, "材料不符"),
    ],
    ids=["approve", "reject"],
)
def test_a_decision_on_a_filed_enrollment_applies_once(apply) -> None:  # type: ignore[no-untyped-def]
    decided = apply(resident(status=Status.submitted))
    with pytest.raises(DomainError) as again:
        apply(decided)  # with the current version: not a stale request, a repeated one
    assert again.value.status == 409 and again.value.code == "transition_already_applied"
    assert again.value.extra["current_status"] == decided.status.value


@pytest.mark.parametrize(
    "apply",
    [
        lambda e: e.stop("clerk", AT, e.version, "单位停保", date(2027, 6, 30)),
        lambda e: e.interrupt("unit", AT, e.version, "停缴", date(2027, 6, 30)),
        lambda e: e.terminate("unit", AT, e.version, TerminationReason.death, date(2027, 6, 30)),
    ],
    ids=["stop", "interrupt", "terminate"],
)
def test_ending_a_coverage_applies_once(apply) -> None:  # type: ignore[no-untyped-def]
    ended = apply(employee())
    with pytest.raises(DomainError) as again:
        apply(ended)
    assert again.value.code == "transition_already_applied"


def test_a_refund_applies_once() -> None:
    refunded = resident(2027).refund("clerk", AT, 1, date(2026, 12, 1), "参加职工医保")
    with pytest.raises(DomainError) as again:
        refunded.refund("clerk", AT, refunded.version, date(2026, 12, 1), "参加职工医保")
    assert again.value.code == "transition_already_applied"
