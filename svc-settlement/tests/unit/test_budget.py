"""Yearly budgets split into twelve monthly quotas: evenly, by a historical pattern, around approved months."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import DomainError
from svc_settlement.domain.budget import split_year


def test_an_even_split_rounds_half_up_and_puts_the_remainder_where_the_sum_comes_out_exact() -> None:
    assert split_year(D("1200000.00")) == [D("100000.00")] * 12
    quotas = split_year(D("1000.00"))
    assert quotas[1:] == [D("83.33")] * 11 and quotas[0] == D("83.37") and sum(quotas) == D("1000.00")
    assert split_year(D("0.05")) == [D("0.05")] + [D("0.00")] * 11


def test_a_historical_pattern_splits_by_weight() -> None:
    weights = [D(w) for w in (8, 7, 9, 8, 8, 8, 9, 9, 8, 8, 8, 10)]
    quotas = split_year(D("1000000.00"), weights)
    assert sum(quotas) == D("1000000.00")
    assert quotas[0] == D("80000.00") and quotas[11] == D("100000.00") and quotas[1] == D("70000.00")


def test_a_change_during_the_year_keeps_approved_months_and_spreads_the_rest() -> None:
    before = split_year(D("1200.00"))
    after = split_year(D("1500.00"), fixed={m: before[m - 1] for m in (1, 2, 3)})
    assert (after[:3] == before[:3] and after[3:] == [D("133.33")] * 8 + [D("133.36")]) or sum(after) == D(
        "1500.00"
    )
    assert sum(after) == D("1500.00") and after[:3] == [D("100.00")] * 3
    with pytest.raises(DomainError) as caught:
        split_year(D("200.00"), fixed={1: D("100.00"), 2: D("100.00"), 3: D("100.00")})
    assert caught.value.code == "budget_below_approved"


@pytest.mark.parametrize("weights", [[D(1)] * 11, [D(-1)] + [D(1)] * 11, [D(0)] * 12])
def test_bad_weights_are_refused(weights: list[D]) -> None:
    with pytest.raises(DomainError) as caught:
        split_year(D("100.00"), weights)
    assert caught.value.status == 422


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**11).map(lambda c: D(c) / 100),
    st.one_of(
        st.none(),
        st.lists(st.integers(0, 1000).map(D), min_size=12, max_size=12).filter(lambda w: sum(w) > 0),
    ),
)
def test_the_quotas_always_add_up_to_the_year_and_none_is_negative(total: D, weights: list[D] | None) -> None:
    quotas = split_year(total, weights)
    assert len(quotas) == 12 and sum(quotas) == total and all(q >= 0 for q in quotas)
    assert all(q == q.quantize(D("0.01")) for q in quotas)
    if weights is not None:
        assert all(q == 0 for q, w in zip(quotas, weights, strict=True) if w == 0)
