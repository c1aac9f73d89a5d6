"""Declarations: only ended months, one line per care type and origin, totals equal to the bills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from shared.calendar import default_calendar
from shared.errors import DomainError
from svc_settlement.domain.approval import next_status, payment_deadline
from svc_settlement.domain.declaration import (
    Bill,
    DeclaredLine,
    Period,
    check_bills_match,
    check_lines,
    check_period_ended,
    totals_by_care_type,
)


def line(care: str, origin: str, pooled: str, **other: str) -> DeclaredLine:
    return DeclaredLine(care, origin, {"pooled_fund": D(pooled), **{k: D(v) for k, v in other.items()}})


def test_periods_parse_and_step_across_the_year() -> None:
    assert (
        str(Period.parse("2026-12").next()) == "2027-01"
        and str(Period.parse("2026-01").previous()) == "2025-12"
    )
    assert Period.parse("2026-02").last_day == date(2026, 2, 28)
    for bad in ("2026-13", "2026-1", "26-01", "x"):
        with pytest.raises(DomainError):
            Period.parse(bad)


def test_only_an_ended_month_may_be_declared() -> None:
    check_period_ended(Period(2026, 3), date(2026, 4, 1))
    with pytest.raises(DomainError) as caught:
        check_period_ended(Period(2026, 3), date(2026, 3, 31))
    assert caught.value.code == "period_not_ended"


def test_the_bills_must_add_up_to_every_line() -> None:
    lines = [
        line("inpatient", "local", "100.00", personal_account="5.00"),
        line("outpatient", "local", "10.00"),
    ]
    bills = [Bill("B1", "inpatient", "local", {"pooled_fund": D("60"), "personal_account": D("5")}),
             Bill("B2", "inpatient", "local", {"pooled_fund": D("40")}), Bill("B3", "outpatient", "local", {"pooled_fund": D("10")})]  # fmt: skip
    assert check_bills_match(lines, bills) == 3
    assert check_bills_match(lines, []) == 0
    with pytest.raises(DomainError) as caught:
        check_bills_match(lines, bills[:2])
    assert caught.value.code == "totals_mismatch" and "门诊" in caught.value.detail
    with pytest.raises(DomainError) as caught:
        check_bills_match(lines, [*bills, Bill("B1", "outpatient", "local", {})])
    assert caught.value.code == "duplicate_bill"
    with pytest.raises(DomainError):
        check_lines([lines[0], lines[0]])


def test_origins_add_up_per_care_type() -> None:
    totals = totals_by_care_type(
        [
            line("inpatient", "local", "1.10"),
            line("inpatient", "cross_province", "2.20", large_amount_relief="3"),
        ]
    )
    assert totals == {"inpatient": {"pooled_claims": D("3.30"), "relief_claims": D("3.00")}}


def test_the_approval_steps_go_in_order_and_the_payment_is_due_in_30_working_days() -> None:
    assert (
        next_status("computed", "review") == "reviewed" and next_status("reviewed", "approve") == "approved"
    )
    with pytest.raises(DomainError) as caught:
        next_status("computed", "approve")
    assert caught.value.code == "invalid_transition"
    # 2026-09-28 + 30 working days: National Day week off, Sat 2026-10-10 worked.
    deadline = payment_deadline(default_calendar(), date(2026, 9, 28), date(2026, 9, 28))
    assert deadline.due_on == date(2026, 11, 13) and not deadline.overdue and deadline.working_days_left == 30
    assert payment_deadline(default_calendar(), date(2026, 9, 28), date(2026, 11, 16)).overdue
