"""Manual reimbursement's pure rules: materials told at once, receipts that add up, the review
arithmetic, the state machine and the 30-working-day limit on the official calendar."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import default_calendar
from shared.errors import Problem
from svc_claims.domain.reimbursement import (
    CareType,
    Channel,
    Receipt,
    Reimbursement,
    ReviewLine,
    ReviewOutcome,
    Status,
    check_receipts,
    check_review,
    missing_materials,
)

AT = datetime(2026, 9, 28, 2, tzinfo=UTC)
D = Decimal
RECEIPTS = (Receipt("R1", date(2021, 5, 10), D("1000.00"), D("800.00"), D("200.00")),
            Receipt("R2", date(2021, 5, 12), D("500.00"), D("500.00"), D("0.00")))  # fmt: skip


def claim(status: Status = Status.filed, **kw) -> Reimbursement:  # type: ignore[no-untyped-def]
    values = dict(
        id=uuid.uuid4(), person_id=uuid.uuid4(), office_code="120101", unit_code=None, channel=Channel.person,
        care_type=CareType.inpatient, facility_code="H12010100001", facility_level=2, service_from=date(2021, 5, 10),
        service_to=date(2021, 5, 20), receipts=RECEIPTS, materials=frozenset({"receipts", "itemised_bill", "diagnosis", "discharge_summary"}),
        accident=False, bank_account="6222000000001234", status=status, version=1, steps=(),
    )  # fmt: skip
    return Reimbursement(**{**values, **kw})


def test_all_missing_materials_are_named_at_once_by_care_type() -> None:
    assert missing_materials(CareType.inpatient, False, frozenset({"receipts"})) == ("itemised_bill", "diagnosis", "discharge_summary")
    assert missing_materials(CareType.outpatient_large, False, frozenset()) == ("receipts", "itemised_bill", "diagnosis", "prescriptions")
    assert missing_materials(CareType.inpatient, True, claim().materials) == ("accident_papers",)


def test_supplements_complete_a_claim_then_it_can_be_accepted() -> None:
    waiting = claim(Status.awaiting_materials, materials=frozenset({"receipts"}))
    partly = waiting.supplement(frozenset({"diagnosis"}), 1, "p", AT)
    assert partly.status is Status.awaiting_materials and partly.missing == ("itemised_bill", "discharge_summary")
    complete = partly.supplement(frozenset({"itemised_bill", "discharge_summary"}), 2, "p", AT)
    assert complete.status is Status.filed and complete.version == 3
    with pytest.raises(Problem):
        complete.supplement(frozenset({"diagnosis"}), 3, "p", AT)


def test_receipts_must_add_up_and_lie_in_the_service_dates() -> None:
    check_receipts(RECEIPTS, date(2021, 5, 10), date(2021, 5, 20))
    bad = (Receipt("R1", date(2021, 5, 9), D("100.00"), D("60.00"), D("30.00")),
           Receipt("R1", date(2021, 5, 10), D("-1.00"), D("0"), D("0")),
           Receipt("R3", date(2021, 5, 10), D("10000000.01"), D("10000000.01"), D("0")))  # fmt: skip
    with pytest.raises(Problem) as refused:
        check_receipts(bad, date(2021, 5, 10), date(2021, 5, 20))
    assert {e["field"] for e in refused.value.errors} == {"receipts", "receipts[0].in_scope", "receipts[0].issued_on",
                                                          "receipts[1].amount", "receipts[2].amount"}  # fmt: skip


def test_the_review_keeps_reduces_or_refuses_each_receipt_with_a_reason() -> None:
    lines = [ReviewLine("R1", ReviewOutcome.reduced, D("600.00"), "out_of_catalogue"), ReviewLine("R2", ReviewOutcome.accepted, D("500.00"), "ok")]
    check_review(RECEIPTS, lines)
    reviewed = claim(Status.accepted).reviewed(lines, 1, "clerk", AT)
    assert reviewed.accepted_in_scope() == D("1100.00")
    with pytest.raises(Problem) as bad:
        check_review(RECEIPTS, [ReviewLine("R1", ReviewOutcome.reduced, D("900.00"), "ok"), ReviewLine("R2", ReviewOutcome.refused, D("1.00"), "third_party")])
    assert {e["field"] for e in bad.value.errors} == {"lines[0].accepted_in_scope", "lines[0].reason", "lines[1].accepted_in_scope"}
    with pytest.raises(Problem) as partial:
        check_review(RECEIPTS, [lines[0]])
    assert partial.value.errors[0]["field"] == "lines"


def test_the_30th_working_day_from_acceptance_on_the_official_calendar() -> None:
    # Accepted Mon 2026-09-28 (day 0). National Day week 1–7 Oct is off; Sat 10 Oct is a working day.
    # Sep 29, 30 (2); Oct 8, 9, 10 (5); Oct 12–16 (10); 19–23 (15); 26–30 (20); Nov 2–6 (25); Nov 9–13 (30).
    accepted = claim().accept(1, "clerk", AT, date(2026, 9, 28), default_calendar())
    assert (accepted.status, accepted.accepted_on, accepted.due_on) == (Status.accepted, date(2026, 9, 28), date(2026, 11, 13))


def test_only_the_allowed_transitions_and_versions() -> None:
    with pytest.raises(Problem) as skipped:
        claim(Status.filed).reviewed([], 1, "clerk", AT)
    assert skipped.value.code == "invalid_transition"
    with pytest.raises(Problem) as stale:
        claim(Status.filed).accept(7, "clerk", AT, date(2026, 9, 28), default_calendar())
    assert stale.value.code == "version_conflict"
    rejected = claim(Status.accepted).rejected("third_party", "交通事故，由肇事方负担", 1, "clerk", AT)
    assert rejected.status is Status.rejected and rejected.steps[-1].note == "应由第三方负担：交通事故，由肇事方负担"
    with pytest.raises(Problem):
        rejected.accept(2, "clerk", AT, date(2026, 9, 28), default_calendar())


@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=50_000, places=2), st.sampled_from(list(ReviewOutcome)), st.floats(0, 0.99)),
                min_size=1, max_size=8))  # fmt: skip
def test_accepted_never_exceeds_what_was_claimed(items: list[tuple[Decimal, ReviewOutcome, float]]) -> None:
    receipts = tuple(Receipt(f"R{i}", date(2021, 5, 10), amount, amount, D("0.00")) for i, (amount, _, _) in enumerate(items))
    lines = []
    for i, (amount, outcome, share) in enumerate(items):
        if outcome is ReviewOutcome.reduced and amount == 0:
            outcome = ReviewOutcome.refused
        kept = {ReviewOutcome.accepted: amount, ReviewOutcome.refused: D("0.00"),
                ReviewOutcome.reduced: (amount * D(str(share))).quantize(D("0.01"))}[outcome]  # fmt: skip
        kept = min(kept, amount - D("0.01")) if outcome is ReviewOutcome.reduced else kept
        lines.append(ReviewLine(f"R{i}", outcome, kept, "ok" if outcome is ReviewOutcome.accepted else "over_limit"))
    reviewed = claim(Status.accepted, receipts=receipts).reviewed(lines, 1, "clerk", AT)
    assert D("0.00") <= reviewed.accepted_in_scope() <= reviewed.claimed
