"""The designation application state machine: allowed steps only, each one recorded."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from shared.calendar import WorkingCalendar
from shared.clock import SHANGHAI
from shared.errors import DomainError
from svc_facility.domain.application import (
    ACTIONS,
    ALLOWED,
    Application,
    Status,
    new_application,
)
from svc_facility.domain.deadline import PauseKind
from svc_facility.domain.eligibility import ApplicantFacts, Staffer, required_materials
from svc_facility.domain.kinds import ApplicantKind

RECEIVED = date(2026, 9, 25)
OFFICER = "officer-hp-01"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def pharmacy_facts(**changes) -> ApplicantFacts:
    facts = ApplicantFacts(
        kind=ApplicantKind.retail_pharmacy,
        institution_type=None,
        opened_on=date(2025, 1, 10),
        pharmacists=(Staffer(registered_here=True, contract_months=24),),
        insurance_staff=(Staffer(False, 12), Staffer(False, 12)),
        systems=frozenset({"insurance_drugs", "finance", "insurance_personnel", "statistics", "settlement"}),
        information_system_connected=True,
        uses_national_codes=True,
        purchasing_platform=True,
        equipment=frozenset({"video", "biometric", "drug_tracing"}),
        drug_zoning_and_labels=True,
    )
    return replace(facts, **changes)


def nursing_facts(kind: ApplicantKind = ApplicantKind.ltc_nursing) -> ApplicantFacts:
    return ApplicantFacts(
        kind=kind,
        institution_type=None,
        opened_on=date(2025, 1, 10),
        medical_qualification_or_partner=True,
        professional_assessment_team=True,
        information_system_connected=True,
    )


def apply(facts: ApplicantFacts | None = None, materials: list[str] | None = None) -> Application:
    facts = facts or pharmacy_facts()
    return new_application(
        applicant_id="acct-7788",
        name="和平大药房",
        district_code="120101",
        office_code="HP",
        facts=facts,
        materials=required_materials(facts.kind) if materials is None else materials,
        received_on=RECEIVED,
        by="applicant:acct-7788",
        at=at(RECEIVED, 9),
    )


def through_review(application: Application) -> Application:
    application = application.accept(OFFICER, at(date(2026, 10, 12)), application.version)
    application = application.start_review(
        OFFICER, at(date(2026, 10, 13)), application.version, reviewers=["专家甲"]
    )
    return application.record_review(
        ["专家甲", "专家乙"],
        {"专家甲": 86, "专家乙": 90},
        "符合定点条件",
        True,
        OFFICER,
        at(date(2026, 10, 20)),
        application.version,
    )


def through_notice(application: Application) -> Application:
    application = through_review(application)
    application = application.open_public_notice(
        date(2026, 10, 22), date(2026, 10, 28), OFFICER, at(date(2026, 10, 22)), application.version
    )
    return application.close_public_notice([], False, OFFICER, at(date(2026, 10, 29)), application.version)


def sign(application: Application, parties: list[str], **kwargs) -> Application:
    return application.sign_agreement(
        "TJ-YB-2026-0001",
        date(2026, 11, 1),
        date(2028, 10, 31),
        parties,
        OFFICER,
        at(date(2026, 10, 30)),
        application.version,
        **kwargs,
    )


def designated() -> Application:
    return sign(through_notice(apply()), ["和平医保分中心", "和平大药房"])


# ----------------------------------------------------------------------- the happy path


def test_the_whole_happy_path_of_a_pharmacy():
    application = apply()
    assert (application.status, application.version) == (Status.received, 1)
    assert application.kind is ApplicantKind.retail_pharmacy and application.institution_type is None
    assert application.steps[0].action == "receive" and application.steps[0].from_status is None

    application = through_notice(application)
    assert application.status is Status.agreement_pending
    assert application.review.passed is True and application.review.scores == {"专家甲": 86, "专家乙": 90}
    assert application.notice.upheld is False and application.notice.ends_on == date(2026, 10, 28)

    application = sign(application, ["和平医保分中心", "和平大药房"])
    assert application.status is Status.designated
    assert application.agreement.number == "TJ-YB-2026-0001"
    assert application.agreement.parties == ("和平医保分中心", "和平大药房")

    assert [step.action for step in application.steps] == [
        "receive",
        "accept",
        "start_review",
        "record_review",
        "open_public_notice",
        "close_public_notice",
        "sign_agreement",
    ]
    assert application.version == len(application.steps) == 7
    assert [(s.from_status, s.to_status) for s in application.steps[1:]] == [
        (Status.received, Status.accepted),
        (Status.accepted, Status.expert_review),
        (Status.expert_review, Status.expert_review),
        (Status.expert_review, Status.public_notice),
        (Status.public_notice, Status.agreement_pending),
        (Status.agreement_pending, Status.designated),
    ]
    assert all(step.by and step.at.tzinfo is not None for step in application.steps)
    assert application.steps[1].reason == "申请材料齐全，符合申请条件"

    # Review and notice paused only the item clock; the reply came on day 7 (10-12).
    assert [(p.kind, p.started_on, p.ended_on) for p in application.pauses] == [
        (PauseKind.expert_review, date(2026, 10, 13), date(2026, 10, 20)),
        (PauseKind.public_notice, date(2026, 10, 22), date(2026, 10, 29)),
    ]
    clock = application.clock(date(2026, 11, 2), WorkingCalendar())
    assert application.reply_decided_on == date(2026, 10, 12)
    assert application.concluded_on == date(2026, 10, 30)
    assert clock.working_days_used == 7 and clock.overdue is False
    assert clock.item_paused_days == 14 and clock.item_overdue is False


def test_the_original_application_is_untouched():
    original = apply()
    accepted = original.accept(OFFICER, at(date(2026, 10, 12)), 1)
    assert original.status is Status.received and original.version == 1 and len(original.steps) == 1
    assert accepted.status is Status.accepted and accepted.version == 2


# ----------------------------------------------------------------------- supplements


def test_supplement_round_trip_pauses_the_clock():
    form, *rest = required_materials(ApplicantKind.retail_pharmacy)
    application = apply(materials=[form])
    calendar = WorkingCalendar()

    with pytest.raises(DomainError) as incomplete:
        application.accept(OFFICER, at(date(2026, 9, 29)), 1)
    assert incomplete.value.code == "materials_missing" and len(incomplete.value.errors) == len(rest)

    with pytest.raises(DomainError) as piecemeal:
        application.request_supplement(rest[:2], OFFICER, at(date(2026, 9, 29)), 1)
    assert piecemeal.value.code == "incomplete_supplement_notice"
    assert [e["message"] for e in piecemeal.value.errors] == rest[2:]

    asked = application.request_supplement([*rest, "店堂照片（原件模糊）"], OFFICER, at(date(2026, 9, 29)), 1)
    assert asked.status is Status.supplement_requested
    assert asked.steps[-1].data["missing"] == [*rest, "店堂照片（原件模糊）"]
    running = asked.clock(date(2026, 10, 12), calendar)
    assert running.paused is True and running.pause_kind is PauseKind.supplement
    assert running.working_days_used == 2  # 09-28 and 09-29, then paused

    back = asked.supplement(rest, "applicant:acct-7788", at(date(2026, 10, 13)), asked.version)
    assert back.status is Status.received and back.version == 3
    assert back.missing_materials() == []
    assert back.steps[-1].data["still_missing"] == ["店堂照片（原件模糊）"]
    assert back.pauses[-1].started_on == date(2026, 9, 29) and back.pauses[-1].ended_on == date(2026, 10, 13)

    clock = back.clock(date(2026, 10, 14), calendar)
    unpaused = apply().clock(date(2026, 10, 14), calendar)
    # (09-29, 10-13] holds 6 working days: 09-30, 10-08, 10-09, 10-10, 10-12, 10-13.
    assert clock.paused is False and clock.paused_working_days == 6
    assert unpaused.due_date == date(2026, 10, 29) and clock.due_date == date(2026, 11, 6)
    assert calendar.working_days_between(unpaused.due_date, clock.due_date).days == 6

    accepted = back.accept(OFFICER, at(date(2026, 10, 14)), back.version)
    assert accepted.status is Status.accepted


def test_pause_dates_are_shanghai_business_dates():
    application = apply(materials=["定点零售药店申请表"])
    late_evening_utc = datetime(2026, 9, 28, 17, 0, tzinfo=UTC)  # 01:00 on 09-29 in Shanghai
    asked = application.request_supplement(application.missing_materials(), OFFICER, late_evening_utc, 1)
    assert asked.pauses[-1].started_on == date(2026, 9, 29)
    with pytest.raises(ValueError):
        application.request_supplement(application.missing_materials(), OFFICER, datetime(2026, 9, 29, 10), 1)


# ----------------------------------------------------------------------- refusals


def test_refusal_lists_every_unmet_condition():
    facts = pharmacy_facts(
        opened_on=date(2026, 8, 1),
        insurance_staff=(Staffer(False, 12),),
        drug_zoning_and_labels=False,
    )
    application = apply(facts)
    with pytest.raises(DomainError) as unmet:
        application.accept(OFFICER, at(date(2026, 10, 12)), 1)
    problem = unmet.value
    assert (problem.status, problem.code) == (422, "conditions_unmet")
    assert [e["code"] for e in problem.errors] == ["operating_months", "insurance_staff", "drug_zoning"]
    assert "在注册地址正式经营不足3个月（实际 2 个月）" in problem.detail

    reasons = [e["message"] for e in problem.errors]
    refused = application.refuse(reasons, OFFICER, at(date(2026, 10, 12)), 1)
    assert refused.status is Status.refused
    assert refused.refusal_reasons == tuple(reasons)
    assert refused.steps[-1].data["reasons"] == reasons and refused.steps[-1].by == OFFICER
    assert refused.reply_decided_on == date(2026, 10, 12) == refused.concluded_on


def test_conditions_are_judged_on_the_day_given():
    application = apply(pharmacy_facts(opened_on=date(2026, 7, 12)))
    with pytest.raises(DomainError):
        application.accept(OFFICER, at(date(2026, 10, 9)), 1)  # 2 whole months
    assert (
        application.accept(OFFICER, at(date(2026, 10, 9)), 1, on=date(2026, 10, 12)).status is Status.accepted
    )


def test_a_refusal_needs_reasons_and_closes_a_running_supplement():
    application = apply(materials=["定点零售药店申请表"])
    with pytest.raises(DomainError) as no_reason:
        application.refuse([], OFFICER, at(date(2026, 10, 12)), 1)
    assert no_reason.value.status == 422
    asked = application.request_supplement(application.missing_materials(), OFFICER, at(date(2026, 9, 29)), 1)
    refused = asked.refuse(["逾期未补正材料"], OFFICER, at(date(2026, 11, 30)), 2)
    assert refused.pauses[-1].ended_on == date(2026, 11, 30)


def test_a_failed_review_refuses_with_its_conclusion():
    accepted = apply().accept(OFFICER, at(date(2026, 10, 12)), 1)
    reviewing = accepted.start_review(OFFICER, at(date(2026, 10, 13)), 2)
    assert reviewing.pauses[-1].kind is PauseKind.expert_review and reviewing.pauses[-1].running
    failed = reviewing.record_review(
        ["专家甲"], {"专家甲": 52}, "信息系统对接不达标", False, OFFICER, at(date(2026, 10, 20)), 3
    )
    assert failed.status is Status.refused
    assert failed.refusal_reasons == ("专家评审未通过：信息系统对接不达标",)
    assert failed.pauses[-1].ended_on == date(2026, 10, 20)


def test_upheld_objections_refuse_and_the_notice_must_run_its_course():
    reviewed = through_review(apply())
    noticed = reviewed.open_public_notice(
        date(2026, 10, 22), date(2026, 10, 28), OFFICER, at(date(2026, 10, 22)), reviewed.version
    )
    with pytest.raises(DomainError) as early:
        noticed.close_public_notice([], False, OFFICER, at(date(2026, 10, 28)), noticed.version)
    assert (early.value.status, early.value.code) == (409, "notice_not_ended")
    with pytest.raises(DomainError):
        noticed.close_public_notice([], True, OFFICER, at(date(2026, 10, 29)), noticed.version)
    refused = noticed.close_public_notice(
        ["执业药师实际不在岗"], True, OFFICER, at(date(2026, 10, 29)), noticed.version
    )
    assert refused.status is Status.refused
    assert refused.refusal_reasons == ("公示异议成立：执业药师实际不在岗",)
    assert refused.notice.objections == ("执业药师实际不在岗",) and refused.notice.upheld is True


# ----------------------------------------------------------------------- agreements


def test_a_long_term_care_nursing_institution_needs_three_parties():
    pending = through_notice(apply(nursing_facts()))
    with pytest.raises(DomainError) as two:
        sign(pending, ["和平医保分中心", "某护理院"])
    assert (two.value.status, two.value.code) == (422, "agreement_parties")
    done = sign(pending, ["和平医保分中心", "长护险经办机构", "某护理院"], copies=5)
    assert done.status is Status.designated and len(done.agreement.parties) == 3
    with pytest.raises(DomainError) as same_party_twice:
        sign(pending, ["和平医保分中心", "和平医保分中心", "某护理院"])
    assert same_party_twice.value.code == "agreement_parties"


def test_long_term_care_copies_and_the_assessment_agreement():
    nursing = through_notice(apply(nursing_facts()))
    with pytest.raises(DomainError) as copies:
        sign(nursing, ["分中心", "长护险经办机构", "某护理院"], copies=4)
    assert copies.value.code == "agreement_copies"
    assessment = through_notice(apply(nursing_facts(ApplicantKind.disability_assessment)))
    with pytest.raises(DomainError):
        sign(assessment, ["分中心", "某评定机构"])
    assert sign(assessment, ["分中心", "长护险经办机构", "某评定机构"], copies=10).status is Status.designated


def test_a_pharmacy_signs_with_two_parties_only():
    with pytest.raises(DomainError) as three:
        sign(through_notice(apply()), ["分中心", "长护险经办机构", "和平大药房"])
    assert three.value.code == "agreement_parties"


def test_an_agreement_must_end_after_it_starts():
    pending = through_notice(apply())
    with pytest.raises(DomainError) as backwards:
        pending.sign_agreement(
            "N1",
            date(2026, 11, 1),
            date(2026, 11, 1),
            ["a", "b"],
            OFFICER,
            at(date(2026, 10, 30)),
            pending.version,
        )
    assert backwards.value.code == "invalid_agreement"


def test_suspend_reinstate_renew_and_terminate():
    application = designated()
    suspended = application.suspend(
        "违规使用医保基金，暂停结算", OFFICER, at(date(2027, 3, 1)), application.version
    )
    assert suspended.status is Status.suspended and suspended.steps[-1].reason == "违规使用医保基金，暂停结算"
    with pytest.raises(DomainError):
        suspended.suspend("again", OFFICER, at(date(2027, 3, 2)), suspended.version)
    with pytest.raises(DomainError) as no_reason:
        application.suspend(" ", OFFICER, at(date(2027, 3, 1)), application.version)
    assert no_reason.value.status == 422

    reinstated = suspended.reinstate(OFFICER, at(date(2027, 4, 1)), suspended.version, reason="整改完成")
    assert reinstated.status is Status.designated

    renewed = reinstated.renew(date(2030, 10, 31), OFFICER, at(date(2028, 10, 31)), reinstated.version)
    assert renewed.agreement.valid_to == date(2030, 10, 31)
    assert renewed.steps[-1].data == {"previous_valid_to": "2028-10-31", "valid_to": "2030-10-31"}

    terminated = renewed.terminate("协议期内拒不整改", OFFICER, at(date(2029, 1, 5)), renewed.version)
    assert terminated.status is Status.terminated
    assert ALLOWED[Status.terminated] == frozenset()


def test_renewal_only_before_the_agreement_ends():
    application = designated()
    with pytest.raises(DomainError) as late:
        application.renew(date(2030, 10, 31), OFFICER, at(date(2028, 11, 1)), application.version)
    assert (late.value.status, late.value.code) == (409, "agreement_expired")
    with pytest.raises(DomainError) as shorter:
        application.renew(date(2028, 6, 30), OFFICER, at(date(2028, 1, 1)), application.version)
    assert shorter.value.code == "invalid_agreement"


def test_reinstating_an_expired_agreement_is_refused():
    application = designated()
    suspended = application.suspend("检查", OFFICER, at(date(2028, 1, 1)), application.version)
    with pytest.raises(DomainError) as expired:
        suspended.reinstate(OFFICER, at(date(2028, 11, 2)), suspended.version)
    assert expired.value.code == "agreement_expired"


# ----------------------------------------------------------------------- versions and transitions


def test_a_stale_version_is_a_conflict():
    application = apply()
    with pytest.raises(DomainError) as stale:
        application.accept(OFFICER, at(date(2026, 10, 12)), expected_version=0)
    assert (stale.value.status, stale.value.code) == (409, "version_conflict")
    assert stale.value.extra["current_version"] == 1
    accepted = application.accept(OFFICER, at(date(2026, 10, 12)), 1)
    with pytest.raises(DomainError) as again:
        accepted.start_review(OFFICER, at(date(2026, 10, 13)), expected_version=1)
    assert again.value.code == "version_conflict"


@pytest.mark.parametrize(
    "attempt",
    [
        lambda a: a.sign_agreement(
            "N", date(2026, 11, 1), date(2028, 10, 31), ["x", "y"], OFFICER, at(RECEIVED), 1
        ),
        lambda a: a.start_review(OFFICER, at(RECEIVED), 1),
        lambda a: a.reinstate(OFFICER, at(RECEIVED), 1),
        lambda a: a.supplement(["x"], OFFICER, at(RECEIVED), 1),
        lambda a: a.close_public_notice([], False, OFFICER, at(RECEIVED), 1),
        lambda a: a.suspend("x", OFFICER, at(RECEIVED), 1),
        lambda a: a.renew(date(2030, 1, 1), OFFICER, at(RECEIVED), 1),
    ],
)
def test_invalid_transitions_from_received(attempt):
    with pytest.raises(DomainError) as invalid:
        attempt(apply())
    assert (invalid.value.status, invalid.value.code) == (409, "invalid_transition")


def test_invalid_transitions_later_on():
    application = designated()
    for attempt in (
        lambda: application.accept(OFFICER, at(date(2027, 1, 4)), application.version),
        lambda: application.withdraw("applicant", at(date(2027, 1, 4)), application.version),
        lambda: application.refuse(["x"], OFFICER, at(date(2027, 1, 4)), application.version),
        lambda: application.reinstate(OFFICER, at(date(2027, 1, 4)), application.version),
    ):
        with pytest.raises(DomainError) as invalid:
            attempt()
        assert invalid.value.code == "invalid_transition"

    accepted = apply().accept(OFFICER, at(date(2026, 10, 12)), 1)
    with pytest.raises(DomainError) as refuse_after_accept:
        accepted.refuse(["x"], OFFICER, at(date(2026, 10, 13)), 2)
    assert refuse_after_accept.value.code == "invalid_transition"

    reviewing = accepted.start_review(OFFICER, at(date(2026, 10, 13)), 2)
    with pytest.raises(DomainError) as notice_before_result:
        reviewing.open_public_notice(
            date(2026, 10, 22), date(2026, 10, 28), OFFICER, at(date(2026, 10, 14)), 3
        )
    assert notice_before_result.value.code == "invalid_transition"

    reviewed = through_review(apply())
    with pytest.raises(DomainError) as twice:
        reviewed.record_review(["x"], {}, "again", True, OFFICER, at(date(2026, 10, 21)), reviewed.version)
    assert twice.value.code == "invalid_transition"


def test_withdrawal_before_designation_closes_the_running_pause():
    reviewing = (
        apply().accept(OFFICER, at(date(2026, 10, 12)), 1).start_review(OFFICER, at(date(2026, 10, 13)), 2)
    )
    withdrawn = reviewing.withdraw("applicant:acct-7788", at(date(2026, 10, 15)), 3, reason="不再申请")
    assert withdrawn.status is Status.withdrawn
    assert withdrawn.pauses[-1].ended_on == date(2026, 10, 15)
    assert withdrawn.steps[-1].reason == "不再申请"
    assert withdrawn.clock(date(2026, 12, 31), WorkingCalendar()).item_overdue is False


def test_the_table_is_complete_and_final_statuses_lead_nowhere():
    assert set(ALLOWED) == set(Status)
    for status in (Status.refused, Status.terminated, Status.withdrawn):
        assert ALLOWED[status] == frozenset()
        assert not any(status in starts for starts, _ in ACTIONS.values())
    assert ALLOWED[Status.received] == {
        Status.supplement_requested,
        Status.accepted,
        Status.refused,
        Status.withdrawn,
    }


def test_new_application_checks_its_data():
    with pytest.raises(DomainError):
        new_application(
            applicant_id="acct",
            name=" ",
            district_code="120101",
            office_code="HP",
            facts=pharmacy_facts(),
            materials=[],
            received_on=RECEIVED,
            by="x",
            at=at(RECEIVED),
        )
    with pytest.raises(DomainError) as future:
        new_application(
            applicant_id="acct",
            name="店",
            district_code="120101",
            office_code="HP",
            facts=pharmacy_facts(),
            materials=[],
            received_on=date(2026, 9, 26),
            by="x",
            at=at(RECEIVED),
        )
    assert future.value.code == "invalid_date"


def test_the_clock_of_a_decided_application_reads_after_the_business_date_went_back() -> None:
    # A demo or test deployment may move the business date back after a decision.
    accepted = apply().accept(OFFICER, at(date(2026, 10, 12)), 1)
    status = accepted.clock(date(2026, 10, 9), WorkingCalendar())
    assert status.working_days_used == accepted.clock(date(2026, 10, 12), WorkingCalendar()).working_days_used
    assert not status.overdue
