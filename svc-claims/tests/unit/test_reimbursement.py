"""Manual reimbursement's pure rules: materials told at once, receipts that add up, the review
arithmetic, the state machine, who files through which channel, resubmission, the payment order and the
30-working-day limit on the official calendar (provisional past the published years)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import NamedDay, WorkingCalendar, YearTable, default_calendar
from shared.errors import DomainError
from svc_claims.domain.benefits import QuoteContext, quote
from svc_claims.domain.reimbursement import (
    ENGINE_CARE_TYPE,
    AccountOwner,
    CareType,
    Channel,
    Receipt,
    Reimbursement,
    ReviewLine,
    ReviewOutcome,
    Status,
    check_account_owner,
    check_channel,
    check_receipts,
    check_review,
    missing_materials,
)
from svc_claims.repository.policies import load_policy

AT = datetime(2026, 9, 28, 2, tzinfo=UTC)
D = Decimal
RECEIPTS = (Receipt("R1", date(2021, 5, 10), D("1000.00"), D("800.00"), D("200.00")),
            Receipt("R2", date(2021, 5, 12), D("500.00"), D("500.00"), D("0.00")))  # fmt: skip


def claim(status: Status = Status.filed, **kw) -> Reimbursement:  # type: ignore[no-untyped-def]
    values = dict(
        id=uuid.uuid4(), person_id=uuid.uuid4(), office_code="120101", unit_code=None, channel=Channel.person,
        care_type=CareType.inpatient, facility_code="H12010100001", facility_level=2, service_from=date(2021, 5, 10),
        service_to=date(2021, 5, 20), receipts=RECEIPTS, materials=frozenset({"receipts", "itemised_bill", "discharge_summary"}),
        accident=False, bank_account="6222000000001234", status=status, version=1, steps=(),
    )  # fmt: skip
    return Reimbursement(**{**values, **kw})


def codes(
    care_type: CareType, given: set[str], accident: bool = False, remote_emergency: bool = False
) -> list[str]:
    return [r.code for r in missing_materials(care_type, accident, frozenset(given), remote_emergency)]


def test_all_missing_materials_are_named_at_once_by_care_type() -> None:
    # Seed 000 【办理材料】: inpatient — receipts, the itemised bill, the diagnosis or the case summary and discharge record.
    assert codes(CareType.inpatient, {"receipts"}) == ["itemised_bill", "diagnosis_or_discharge_summary"]
    assert codes(CareType.inpatient, {"receipts", "itemised_bill", "diagnosis"}) == []
    assert codes(CareType.inpatient, {"receipts", "itemised_bill", "discharge_summary"}) == []
    # Outpatient (门急诊大额, 门特): receipts, itemised bill, prescriptions; the diagnosis from remote emergencies only.
    assert codes(CareType.outpatient_large, set()) == ["receipts", "itemised_bill", "prescriptions"]
    assert codes(
        CareType.special_disease, {"receipts", "itemised_bill", "prescriptions"}, remote_emergency=True
    ) == ["diagnosis"]
    # Observation turned inpatient: prescriptions too, and the diagnosis or the observation records.
    assert codes(CareType.observation_inpatient, {"receipts", "observation_record"}) == [
        "itemised_bill",
        "prescriptions",
    ]
    assert codes(CareType.observation_inpatient, {"receipts", "itemised_bill", "prescriptions"}) == [
        "diagnosis_or_observation_record"
    ]
    # Accidents add the police or court papers, whatever the care.
    assert codes(CareType.inpatient, set(claim().materials), accident=True) == ["accident_papers"]
    assert codes(CareType.outpatient_large, set(), accident=True, remote_emergency=True) == [
        "receipts", "itemised_bill", "prescriptions", "diagnosis", "accident_papers"]  # fmt: skip
    named = missing_materials(CareType.inpatient, False, frozenset())[-1]
    assert named.name == "诊断证明原件，或住院病案首页和出院记录复印件（医院盖章）"


def test_supplements_complete_a_claim_then_it_can_be_accepted() -> None:
    waiting = claim(Status.awaiting_materials, materials=frozenset({"receipts"}), accident=True)
    partly = waiting.supplement(frozenset({"diagnosis"}), 1, "p", AT)
    assert partly.status is Status.awaiting_materials and [r.code for r in partly.missing] == [
        "itemised_bill",
        "accident_papers",
    ]
    assert partly.steps[-1].status is Status.awaiting_materials  # recorded: who brought what, when
    complete = partly.supplement(frozenset({"itemised_bill", "accident_papers"}), 2, "p", AT)
    assert complete.status is Status.filed and complete.version == 3
    with pytest.raises(DomainError):
        complete.supplement(frozenset({"diagnosis"}), 3, "p", AT)


def test_receipts_must_add_up_and_lie_in_the_service_dates() -> None:
    check_receipts(RECEIPTS, date(2021, 5, 10), date(2021, 5, 20), today=date(2026, 9, 28))
    with pytest.raises(DomainError) as future:
        check_receipts(RECEIPTS, date(2021, 5, 10), date(2021, 5, 20), today=date(2021, 5, 19))
    assert [e["field"] for e in future.value.errors] == ["service_to"]
    bad = (Receipt("R1", date(2021, 5, 9), D("100.00"), D("60.00"), D("30.00")),
           Receipt("R1", date(2021, 5, 10), D("-1.00"), D("0"), D("0")),
           Receipt("R3", date(2021, 5, 10), D("10000000.01"), D("10000000.01"), D("0")))  # fmt: skip
    with pytest.raises(DomainError) as refused:
        check_receipts(bad, date(2021, 5, 10), date(2021, 5, 20))
    assert {e["field"] for e in refused.value.errors} == {"receipts", "receipts[0].in_scope", "receipts[0].issued_on",
                                                          "receipts[1].amount", "receipts[2].amount"}  # fmt: skip


def test_the_review_keeps_reduces_or_refuses_each_receipt_with_a_reason() -> None:
    lines = [
        ReviewLine("R1", ReviewOutcome.reduced, D("600.00"), "out_of_catalogue"),
        ReviewLine("R2", ReviewOutcome.accepted, D("500.00"), "ok"),
    ]
    check_review(RECEIPTS, lines)
    reviewed = claim(Status.accepted).reviewed(lines, 1, "clerk", AT)
    assert reviewed.accepted_in_scope() == D("1100.00")
    with pytest.raises(DomainError) as bad:
        check_review(
            RECEIPTS,
            [
                ReviewLine("R1", ReviewOutcome.reduced, D("900.00"), "ok"),
                ReviewLine("R2", ReviewOutcome.refused, D("1.00"), "third_party"),
            ],
        )
    assert {e["field"] for e in bad.value.errors} == {
        "lines[0].accepted_in_scope",
        "lines[0].reason",
        "lines[1].accepted_in_scope",
    }
    with pytest.raises(DomainError) as partial:
        check_review(RECEIPTS, [lines[0]])
    assert partial.value.errors[0]["field"] == "lines"


def test_the_30th_working_day_from_acceptance_on_the_official_calendar() -> None:
    # Accepted Mon 2026-09-28 (day 0). National Day week 1–7 Oct is off; Sat 10 Oct is a working day.
    # Sep 29, 30 (2); Oct 8, 9, 10 (5); Oct 12–16 (10); 19–23 (15); 26–30 (20); Nov 2–6 (25); Nov 9–13 (30).
    accepted = claim().accept(1, "clerk", AT, date(2026, 9, 28), default_calendar())
    assert (accepted.status, accepted.accepted_on, accepted.due_on) == (
        Status.accepted,
        date(2026, 9, 28),
        date(2026, 11, 13),
    )


def test_a_due_date_past_the_published_years_is_provisional_and_computed_again() -> None:
    # Accepted Tue 2026-12-01: Dec 2–31 give 22 working days; 2027's notice is not published, so weekends
    # and the statutory holidays (Fri 1 Jan): 4–8 Jan (27), 11–13 Jan (30).
    bundled = WorkingCalendar()
    accepted = claim().accept(1, "clerk", AT, date(2026, 12, 1), bundled)
    assert (accepted.due_on, accepted.due_provisional) == (date(2027, 1, 13), True)
    assert accepted.with_due_recomputed(bundled) == accepted  # nothing new known: unchanged
    # An illustrative notice (not the State Council's) that adds a bridging day off on Mon 4 Jan: one day later, and final.
    published = WorkingCalendar(
        [
            YearTable(
                year=2027,
                holidays=[NamedDay(date=date(2027, 1, d), name="元旦") for d in (1, 4)],
                workdays=[],
                source="test",
            )
        ]
    )
    fresh = accepted.with_due_recomputed(published)
    assert (fresh.due_on, fresh.due_provisional, fresh.version) == (
        date(2027, 1, 14),
        False,
        accepted.version,
    )
    known = claim().accept(1, "clerk", AT, date(2026, 9, 28), default_calendar())
    assert known.due_provisional is False and known.with_due_recomputed(published) == known


def test_who_files_through_which_channel_and_to_whose_account() -> None:
    check_channel("insured", Channel.person)
    check_channel("unit", Channel.unit)
    for channel in (Channel.township, Channel.school, Channel.counter):
        check_channel("staff", channel)  # the clerk enters what the township centre or the school brought
    for role, channel in [
        ("insured", Channel.school),
        ("unit", Channel.person),
        ("staff", Channel.unit),
        ("facility", Channel.person),
    ]:
        with pytest.raises(DomainError) as refused:
            check_channel(role, channel)
        assert refused.value.status == 422 and refused.value.errors[0]["field"] == "channel"
    check_account_owner(AccountOwner.unit, "91120101MA05K8Q4X9")
    check_account_owner(AccountOwner.person, None)
    with pytest.raises(DomainError) as no_unit:
        check_account_owner(AccountOwner.unit, None)
    assert no_unit.value.errors[0]["field"] == "account_owner"


def test_a_rejected_claim_is_followed_by_one_corrected_claim_of_the_same_person() -> None:
    rejected = claim(Status.accepted).rejected("materials_doubtful", None, 1, "clerk", AT)
    corrected = uuid.uuid4()
    linked = rejected.resubmitted(rejected.person_id, corrected, "p", AT)
    assert (
        linked.resubmitted_as == corrected and linked.status is Status.rejected and linked.steps[-1].by == "p"
    )
    with pytest.raises(DomainError) as twice:
        linked.resubmitted(rejected.person_id, uuid.uuid4(), "p", AT)
    assert (twice.value.status, twice.value.code, twice.value.extra["existing_claim"]) == (
        409,
        "already_resubmitted",
        str(corrected),
    )
    with pytest.raises(DomainError) as other:
        rejected.resubmitted(uuid.uuid4(), corrected, "p", AT)
    assert other.value.status == 422
    with pytest.raises(DomainError) as open_claim:
        claim(Status.accepted).resubmitted(rejected.person_id, corrected, "p", AT)
    assert open_claim.value.code == "resubmission_invalid"


def test_the_payment_order_carries_what_the_bill_owes_the_person() -> None:
    bill = {
        "total": "30000.00",
        "fund": "18375.00",
        "major_illness": "0.00",
        "assistance": "125.00",
        "veterans": "0.00",
        "person": "11500.00",
    }
    approved = claim(Status.reviewed, due_on=date(2026, 11, 13)).approved(bill, uuid.uuid4(), 1, "city", AT)
    order = approved.payment_order()
    assert order is not None and (order.amount, order.pay_by, order.paid_on) == (
        D("18500.00"),
        date(2026, 11, 13),
        None,
    )
    paid = approved.paid(2, "clerk", AT, date(2026, 10, 9), "BANK-1").payment_order()
    assert paid is not None and (paid.paid_on, paid.reference) == (date(2026, 10, 9), "BANK-1")
    assert claim().payment_order() is None  # none before the city's approval


def test_only_the_allowed_transitions_and_versions() -> None:
    with pytest.raises(DomainError) as skipped:
        claim(Status.filed).reviewed([], 1, "clerk", AT)
    assert skipped.value.code == "invalid_transition"
    with pytest.raises(DomainError) as stale:
        claim(Status.filed).accept(7, "clerk", AT, date(2026, 9, 28), default_calendar())
    assert stale.value.code == "version_conflict"
    rejected = claim(Status.accepted).rejected("third_party", "交通事故，由肇事方负担", 1, "clerk", AT)
    assert (
        rejected.status is Status.rejected
        and rejected.steps[-1].note == "应由第三方负担：交通事故，由肇事方负担"
    )
    with pytest.raises(DomainError):
        rejected.accept(2, "clerk", AT, date(2026, 9, 28), default_calendar())


@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=50_000, places=2), st.sampled_from(list(ReviewOutcome)), st.floats(0, 0.99)),
                min_size=1, max_size=8))  # fmt: skip
def test_accepted_never_exceeds_what_was_claimed(items: list[tuple[Decimal, ReviewOutcome, float]]) -> None:
    receipts = tuple(
        Receipt(f"R{i}", date(2021, 5, 10), amount, amount, D("0.00"))
        for i, (amount, _, _) in enumerate(items)
    )
    lines = []
    for i, (amount, outcome, share) in enumerate(items):
        if outcome is ReviewOutcome.reduced and amount == 0:
            outcome = ReviewOutcome.refused
        kept = {ReviewOutcome.accepted: amount, ReviewOutcome.refused: D("0.00"),
                ReviewOutcome.reduced: (amount * D(str(share))).quantize(D("0.01"))}[outcome]  # fmt: skip
        kept = min(kept, amount - D("0.01")) if outcome is ReviewOutcome.reduced else kept
        lines.append(
            ReviewLine(f"R{i}", outcome, kept, "ok" if outcome is ReviewOutcome.accepted else "over_limit")
        )
    reviewed = claim(Status.accepted, receipts=receipts).reviewed(lines, 1, "clerk", AT)
    assert D("0.00") <= reviewed.accepted_in_scope() <= reviewed.claimed


POLICY = load_policy("120000", "resident", 2021)
AMOUNTS = st.decimals(min_value=0, max_value=400_000, places=2)


@given(st.lists(st.tuples(AMOUNTS, AMOUNTS, st.sampled_from(list(ReviewOutcome)), st.floats(0, 0.99)), min_size=1, max_size=5),
       st.sampled_from([CareType.inpatient, CareType.observation_inpatient, CareType.special_disease]),
       st.sampled_from([1, 2, 3]), st.sampled_from(["adult_middle", "student_child"]),
       st.sampled_from([frozenset(), frozenset({"subsistence"})]))  # fmt: skip
def test_the_reviewed_bill_adds_up_and_never_pays_more_than_was_claimed(
    items, care_type, level, tier, groups
) -> None:  # type: ignore[no-untyped-def]
    """What the review keeps feeds the engine exactly as approval does: fund + the later payers + the
    person's share = the receipts' total, to the fen; the payment order is that total less the person's share."""
    receipts, lines = [], []
    for i, (in_scope, out_of_scope, outcome, share) in enumerate(items):
        receipts.append(Receipt(f"R{i}", date(2021, 5, 10), in_scope + out_of_scope, in_scope, out_of_scope))
        if outcome is ReviewOutcome.reduced and in_scope == 0:
            outcome = ReviewOutcome.refused
        kept = {ReviewOutcome.accepted: in_scope, ReviewOutcome.refused: D("0.00"),
                ReviewOutcome.reduced: min((in_scope * D(str(share))).quantize(D("0.01")), in_scope - D("0.01"))}[outcome]  # fmt: skip
        lines.append(
            ReviewLine(
                f"R{i}", outcome, kept, "ok" if outcome is ReviewOutcome.accepted else "out_of_catalogue"
            )
        )
    reviewed = claim(Status.accepted, receipts=tuple(receipts), care_type=care_type).reviewed(
        lines, 1, "clerk", AT
    )
    in_scope = reviewed.accepted_in_scope()
    assert D("0.00") <= in_scope <= sum((r.in_scope for r in receipts), D("0.00"))
    context = QuoteContext(scheme="resident", tier=tier, facility_level=level, care_type=ENGINE_CARE_TYPE[care_type],  # type: ignore[arg-type]
                           in_scope=in_scope, out_of_scope=reviewed.claimed - in_scope, special_groups=groups,
                           service_date=date(2021, 5, 20),
                           admission_date=date(2021, 5, 10) if ENGINE_CARE_TYPE[care_type] == "inpatient" else None)  # fmt: skip
    bill = quote(context, POLICY)
    assert bill.total == reviewed.claimed
    assert bill.fund + bill.major_illness + bill.assistance + bill.veterans + bill.person == bill.total
    assert (
        D("0.00") <= bill.paid_by_others <= in_scope
    )  # the out-of-scope and refused parts stay with the person
    order = reviewed.approved({k: str(getattr(bill, k)) for k in ("total", "fund", "major_illness", "assistance", "veterans", "person")},
                              uuid.uuid4(), 2, "city", AT).payment_order()  # fmt: skip
    assert order is not None and order.amount == bill.total - bill.person
