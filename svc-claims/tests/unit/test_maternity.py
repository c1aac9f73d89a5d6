"""Maternity benefits with the numbers of seed 001 (residents) and the sample allowance table."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from svc_claims.domain.maternity import (
    MaternityError,
    allowance,
    filing_window,
    maternity_item,
    prenatal,
    require_in_filing_window,
)
from svc_claims.repository.policies import PolicyNotFound, allowance_policy, maternity_table

POLICY = maternity_table("120000", "resident", 2021)
D = Decimal


@pytest.mark.parametrize(
    ("weeks", "limit"),
    [
        (0, "160.00"),
        (11, "160.00"),
        (12, "280.00"),
        (15, "280.00"),
        (16, "540.00"),
        (27, "540.00"),
        (28, "660.00"),
        (40, "660.00"),
    ],
)
def test_prenatal_limits_by_weeks_at_the_end_of_pregnancy(weeks: int, limit: str) -> None:
    assert prenatal(POLICY, D("5000.00"), weeks, delivered=False).fund == D(limit)


def test_a_delivery_takes_the_highest_prenatal_limit_and_a_smaller_bill_is_paid_in_full() -> None:
    assert prenatal(POLICY, D("5000.00"), 20, delivered=True).fund == D("660.00")
    small = prenatal(POLICY, D("120.50"), 10, delivered=False)
    assert (small.fund, small.person) == (D("120.50"), D("0.00"))


@pytest.mark.parametrize(
    ("item", "level", "fund"),
    [
        ("natural_delivery", 2, "2280.00"),
        ("induced_labour", 1, "600.00"), ("induced_labour", 2, "780.00"), ("induced_labour", 3, "960.00"),
        ("abortion", 1, "180.00"), ("high_risk_abortion", 3, "360.00"), ("iud_insertion_or_removal", 1, "120.00"),
        ("iud_replacement", 1, "200.00"), ("female_sterilisation", 2, "600.00"), ("male_sterilisation", 2, "360.00"),
        ("spontaneous_or_drug_abortion", 1, "150.00"),
    ],
)  # fmt: skip
def test_fixed_amounts_and_limits(item: str, level: int, fund: str) -> None:
    benefit = maternity_item(POLICY, item, D("9000.00"), level)
    assert benefit.fund == D(fund) and benefit.fund + benefit.person == D("9000.00")


@pytest.mark.parametrize("item", ["delivery_complication", "referral_sending_hospital", "sterilisation_reversal",
                                  "complicated_iud_removal", "family_planning_complication"])  # fmt: skip
def test_items_paid_at_60_percent(item: str) -> None:
    assert maternity_item(POLICY, item, D("1234.57"), 2).fund == D(
        "740.74"
    )  # 1234.57 × 60% = 740.742 → 740.74


def test_a_severe_comorbidity_uses_the_resident_inpatient_ratio() -> None:
    assert maternity_item(
        POLICY, "severe_comorbidity", D("10000.00"), 3, inpatient_ratio=D("0.70")
    ).fund == D("7000.00")
    with pytest.raises(MaternityError):
        maternity_item(POLICY, "severe_comorbidity", D("10000.00"), 3)


@pytest.mark.parametrize("item", ["assisted_delivery", "caesarean", "caesarean_with_surgery"])
def test_amounts_lost_from_the_documents_are_refused_not_guessed(item: str) -> None:
    with pytest.raises(MaternityError, match="未载明"):
        maternity_item(POLICY, item, D("8000.00"), 2)


def test_the_allowance_is_wage_over_30_times_leave_days_from_the_sample_table() -> None:
    policy = allowance_policy("120000")
    assert policy.sample
    assert allowance(policy, D("9000.00"), "delivery") == (98, D("29400.00"))
    assert allowance(policy, D("9000.00"), "delivery", extra_babies=1, difficult=True) == (128, D("38400.00"))
    assert allowance(policy, D("6000.00"), "miscarriage_before_4_months") == (15, D("3000.00"))
    with pytest.raises(MaternityError):
        allowance(policy, D("0"), "delivery")


@pytest.mark.parametrize(
    ("event", "opens", "closes"),
    [
        ("2026-03-15", "2026-04-01", "2027-03-31"),
        ("2026-12-31", "2027-01-01", "2027-12-31"),
        ("2026-01-31", "2026-02-01", "2027-01-31"),
    ],
)
def test_the_filing_window_is_12_months_from_the_month_after(event: str, opens: str, closes: str) -> None:
    assert filing_window(date.fromisoformat(event)) == (date.fromisoformat(opens), date.fromisoformat(closes))
    require_in_filing_window(date.fromisoformat(event), date.fromisoformat(closes))
    with pytest.raises(MaternityError, match="超过申报期限"):
        require_in_filing_window(date.fromisoformat(event), date.fromisoformat(closes) + timedelta(days=1))


def test_no_policy_for_other_regions_or_years() -> None:
    with pytest.raises(PolicyNotFound):
        maternity_table("130200", "resident", 2021)
    with pytest.raises(PolicyNotFound):
        maternity_table("120000", "resident", 2030)


@given(
    st.decimals(min_value=0, max_value=100_000, places=2),
    st.sampled_from(sorted(POLICY.items)),
    st.integers(1, 3),
)
def test_fund_plus_person_is_the_cost_and_the_fund_never_exceeds_it(
    cost: Decimal, item: str, level: int
) -> None:
    try:
        benefit = maternity_item(POLICY, item, cost, level, inpatient_ratio=D("0.75"))
    except MaternityError:
        assert POLICY.items[item].amount is None and POLICY.items[item].payment == "fixed"
        return
    assert benefit.fund + benefit.person == benefit.cost and 0 <= benefit.fund <= benefit.cost


def test_the_employee_table_is_a_labelled_sample_of_the_same_shape() -> None:
    employee = maternity_table("120000", "employee", 2021)
    assert employee.sample and not POLICY.sample and employee.source.startswith("SAMPLE")
    delivery = maternity_item(employee, "natural_delivery", D("3000.00"), 2)
    assert (delivery.fund, delivery.person) == (D("2280.00"), D("720.00")) and delivery.rule.endswith(
        "（示例数据）"
    )
    assert "示例" not in maternity_item(POLICY, "natural_delivery", D("3000.00"), 2).rule
    with pytest.raises(MaternityError, match="未载明"):  # a row the documents lost is refused, not guessed
        maternity_item(employee, "caesarean", D("9000.00"), 3)
