"""The clearing table's arithmetic: a 12-month sequence checked by hand, each rule on its own, and
properties (money conserved, no forbidden negative line) over random sequences."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import DomainError
from svc_settlement.domain.clearing import (
    BY_NUMBER,
    INPUTS,
    LINES,
    PREVIOUS,
    Carried,
    Clearing,
    compute,
    markdown_table,
)

RATE = D("0.05")


def run(months: list[dict], rate: D = RATE, first_month: int = 1) -> list[Clearing]:
    """Clear consecutive months, each carrying into the next."""
    out, carried = [], Carried()
    for offset, inputs in enumerate(months):
        month = (first_month - 1 + offset) % 12 + 1
        clearing = compute({k: D(str(v)) for k, v in inputs.items()}, carried, rate, month)
        out.append(clearing)
        carried = Carried.of(clearing)
    return out


def lines(c: Clearing, *numbers: int) -> tuple[D, ...]:
    return tuple(c.lines[n] for n in numbers)


def test_the_table_has_41_numbered_lines_each_with_a_formula_over_known_names() -> None:
    assert [line.number for line in LINES] == list(range(1, 42))
    for line in LINES:
        for name in line.sources:
            assert (
                (name.startswith("L") and int(name[1:]) in BY_NUMBER) or name in INPUTS or name in PREVIOUS
            ), (line, name)


def test_the_readme_lists_the_same_formulas_as_the_code() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, (
        "README's table is stale: regenerate with python -m svc_settlement.domain.clearing"
    )


def test_within_quota_everything_is_paid_less_the_reserve_and_the_rest_of_the_quota_rolls_over() -> None:
    [c] = run([{"quota": 100, "pooled_claims": 80}], first_month=3)
    assert lines(c, 8, 14, 15, 16, 17, 18, 19) == (
        D("100.00"),
        D("80.00"),
        D("80.00"),
        D("4.00"),
        D("76.00"),
        D("20.00"),
        D("0.00"),
    )
    assert c.lines[33] == c.lines[41] == D("76.00")


def test_over_quota_the_excess_is_deferred_and_enters_next_months_claims() -> None:
    first, second = run(
        [{"quota": 100, "pooled_claims": 130}, {"quota": 100, "pooled_claims": 50}], first_month=3
    )
    assert lines(first, 15, 18, 19) == (D("100.00"), D("0.00"), D("30.00"))
    assert lines(second, 4, 13, 14, 15, 18, 19) == (
        D("30.00"),
        D("30.00"),
        D("80.00"),
        D("80.00"),
        D("20.00"),
        D("0.00"),
    )


def test_unused_quota_rolls_over_for_several_months_but_not_across_the_year_end() -> None:
    months = [{"quota": 100, "pooled_claims": 40}] * 3 + [{"quota": 100, "pooled_claims": 350}]
    *_, fourth = run(months, first_month=9)  # September … December
    assert lines(fourth, 2, 8, 15, 19) == (D("180.00"), D("280.00"), D("280.00"), D("70.00"))
    january = run([{"quota": 100, "pooled_claims": 10}, {"quota": 100, "pooled_claims": 0}], first_month=12)[
        1
    ]
    assert january.lines[2] == D("0.00"), "December's surplus does not cross the year end"


def test_a_year_of_surplus_deferral_rejections_adjustments_and_a_year_end_release_checked_by_hand() -> None:
    months = [
        {"quota": 100, "pooled_claims": 80},                                   # 1 within quota
        {"quota": 100, "pooled_claims": 130},                                  # 2 over quota (surplus 20 used)
        {"quota": 100, "pooled_claims": 90, "smart_rejections": 5},            # 3 deferred 10 paid, smart audit
        {"quota": 100, "pooled_claims": 100, "screening_rejections": 30},      # 4 screening shrinks the quota
        {"quota": 100, "pooled_claims": 50, "smart_rejection_adjustments": 5, "screening_adjustments": 10},
        {"quota": 100, "pooled_claims": 140, "pooled_adjustments": 3},         # 6
        {"quota": 100, "pooled_claims": 60, "screening_rejections": 250},      # 7 quota exhausted, 150 remains
        {"quota": 100, "pooled_claims": 70},                                   # 8 remaining screening 150 → 50
        {"quota": 100, "pooled_claims": 40},                                   # 9
        {"quota": 100, "pooled_claims": 0},                                    # 10
        {"quota": 100, "pooled_claims": 20},                                   # 11
        {"quota": 100, "pooled_claims": 100, "relief_claims": 20, "relief_rejections": 2},  # 12
        # January of the next year: the assessment releases 90% of the year's reserve, recovers 60.
        {"quota": 100, "pooled_claims": 30, "reserve_release": "39.74", "recovery_due": 60},
    ]  # fmt: skip
    c = run(months)
    # line:                 2       3      4       8       14      15      16      17       18      19
    expected = [
        ("0", "80", "0", "100", "80", "80", "4.00", "76.00", "20", "0"),
        ("20", "130", "0", "120", "130", "120", "6.00", "114.00", "0", "10"),
        ("0", "85", "10", "100", "95", "95", "4.75", "90.25", "5", "0"),
        ("5", "100", "0", "75", "100", "75", "3.75", "71.25", "0", "25"),
        ("0", "55", "25", "110", "80", "80", "4.00", "76.00", "30", "0"),
        ("30", "143", "0", "130", "143", "130", "6.50", "123.50", "0", "13"),
        ("0", "60", "13", "0", "73", "0", "0.00", "0.00", "0", "73"),
        ("0", "70", "73", "0", "143", "0", "0.00", "0.00", "0", "143"),
        ("0", "40", "143", "50", "183", "50", "2.50", "47.50", "0", "133"),
        ("0", "0", "133", "100", "133", "100", "5.00", "95.00", "0", "33"),
        ("0", "20", "33", "100", "53", "53", "2.65", "50.35", "47", "0"),
        ("47", "100", "0", "147", "100", "100", "5.00", "95.00", "47", "0"),
        ("0", "30", "0", "100", "30", "30", "1.50", "28.50", "70", "0"),
    ]
    for month, (clearing, want) in enumerate(zip(c, expected, strict=True), start=1):
        got = lines(clearing, 2, 3, 4, 8, 14, 15, 16, 17, 18, 19)
        assert got == tuple(D(v).quantize(D("0.01")) for v in want), f"month {month}: {got}"
    # Screening rejections the quota could not absorb carry into line 6 of the next months.
    assert [x.lines[6] for x in c[6:9]] == [D("0.00"), D("150.00"), D("50.00")]
    # December's relief: 5% of 18 withheld.
    assert lines(c[11], 28, 34, 41) == (D("0.90"), D("17.10"), D("112.10"))
    # The year's reserve is 44.15; 90% released (39.735 → 39.74) in January with 60 recovered.
    assert sum(x.lines[16] for x in c[:12]) == D("44.15")
    assert lines(c[12], 20, 21, 22, 23, 33, 41) == (
        D("39.74"),
        D("60.00"),
        D("60.00"),
        D("0.00"),
        D("8.24"),
        D("8.24"),
    )
    # The year's money: 880 claimed + 3 adjusted + 5 reinstated − 5 rejected = paid + withheld.
    claimed = sum(x.lines[9] + x.lines[10] + x.lines[12] - x.lines[11] for x in c[:12])
    assert claimed == D("883.00") == sum(x.lines[16] + x.lines[17] for x in c[:12]) + c[11].lines[19]


def test_a_recovery_larger_than_the_months_payment_leaves_a_remainder_for_next_month() -> None:
    first, second = run(
        [{"quota": 100, "pooled_claims": 50, "recovery_due": 100}, {"quota": 100, "pooled_claims": 80}],
        first_month=2,
    )
    assert lines(first, 17, 21, 22, 23, 33) == (D("47.50"), D("100.00"), D("47.50"), D("52.50"), D("0.00"))
    assert lines(second, 17, 21, 22, 23, 33) == (D("76.00"), D("52.50"), D("52.50"), D("0.00"), D("23.50"))


def test_the_other_funds_are_paid_as_declared_and_added_to_the_total() -> None:
    [c] = run([{
        "quota": 10, "pooled_claims": 10, "subsidy_claims": 8, "subsidy_rejections": 1, "subsidy_rejection_adjustments": "0.5",
        "civil_servant_subsidy": 1, "disabled_soldier_subsidy": 2, "medical_assistance": 3, "civil_affairs_relief": 4,
        "personal_account": 5, "relief_claims": 100, "relief_adjustments": 10, "relief_rejection_adjustments": 0,
    }], rate=D("0.10"), first_month=5)  # fmt: skip
    assert lines(c, 28, 34, 35) == (D("11.00"), D("99.00"), D("7.50"))
    assert c.lines[41] == c.lines[33] + D("99.00") + D("7.50") + D("15.00") == D("130.50")


def test_rejections_larger_than_the_claims_refuse_the_clearing() -> None:
    with pytest.raises(DomainError) as caught:
        run([{"quota": 100, "pooled_claims": 10, "smart_rejections": 20}])
    assert caught.value.code == "clearing_negative_line" and caught.value.extra["line"] == 3
    with pytest.raises(DomainError) as caught:
        run([{"quota": 100, "relief_claims": 10, "relief_rejections": 20}])
    assert caught.value.extra["line"] == 28 or caught.value.extra["line"] == 34
    with pytest.raises(ValueError):
        run([{"quota": -1}])


def test_every_line_traces_to_its_sources_with_their_values() -> None:
    _, second = run(
        [{"quota": 100, "pooled_claims": 130}, {"quota": 100, "pooled_claims": 10}], first_month=4
    )
    assert second.trace(13) == {"number": 13, "name": "上月统筹申请超标", "section": "本月完成情况", "formula": "prev_L19",
                                "value": D("30.00"), "sources": {"prev_L19": D("30.00")}}  # fmt: skip
    assert second.trace(15)["sources"] == {"L14": D("40.00"), "L8": D("100.00")}


def test_the_same_inputs_give_the_same_table() -> None:
    months = [
        {"quota": 100, "pooled_claims": 130, "screening_rejections": 7},
        {"quota": 90, "pooled_claims": 10},
    ]
    assert [c.lines for c in run(months)] == [c.lines for c in run(months)]


# ---------------------------------------------------------------------------------------- properties

cents = st.integers(min_value=0, max_value=5_000_000).map(lambda c: D(c) / 100)


@st.composite
def month_inputs(draw) -> dict:  # type: ignore[no-untyped-def]
    claims = draw(cents)
    relief, subsidy = draw(cents), draw(cents)
    return {
        "quota": draw(cents), "pooled_claims": claims,
        "pooled_adjustments": draw(st.sampled_from([D(0), draw(cents)])),
        "smart_rejections": draw(st.integers(0, int(claims * 100)).map(lambda c: D(c) / 100)),
        "smart_rejection_adjustments": draw(st.sampled_from([D(0), draw(cents)])),
        "screening_rejections": draw(st.sampled_from([D(0), draw(cents)])),
        "screening_adjustments": draw(st.sampled_from([D(0), draw(cents)])),
        "recovery_due": draw(st.sampled_from([D(0), draw(cents)])),
        "reserve_release": draw(st.sampled_from([D(0), draw(cents)])),
        "relief_claims": relief, "relief_rejections": draw(st.integers(0, int(relief * 100)).map(lambda c: D(c) / 100)),
        "subsidy_claims": subsidy, "subsidy_rejections": draw(st.integers(0, int(subsidy * 100)).map(lambda c: D(c) / 100)),
        "personal_account": draw(cents),
    }  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(month_inputs(), min_size=1, max_size=14),
    st.integers(0, 20).map(lambda p: D(p) / 100),
    st.integers(1, 12),
)
def test_money_is_conserved_and_no_forbidden_line_is_negative(
    months: list[dict], rate: D, first: int
) -> None:
    cleared = run(months, rate, first)
    for c in cleared:
        L = c.lines
        assert all(L[line.number] >= 0 for line in LINES if line.non_negative)
        # What is claimed (with last month's deferred excess) is rejected, paid, withheld or deferred.
        assert L[9] + L[10] + L[12] + L[13] == L[11] + L[17] + L[16] + L[19]
        assert L[15] <= L[8] and L[18] + L[15] == L[8], "nothing is paid beyond the effective quota"
        assert abs(L[16] - L[15] * rate) <= D("0.005")
        assert L[22] + L[23] == L[21] and L[33] == L[17] + L[20] - L[22]
        assert L[41] == sum(L[n] for n in range(33, 41))
        assert L[34] + L[28] + L[26] == L[24] + L[25] + L[27]
    # Over the whole sequence: claims net of rejections = paid + withheld + still deferred.
    net = sum(c.lines[9] + c.lines[10] + c.lines[12] - c.lines[11] for c in cleared)
    assert net == sum(c.lines[17] + c.lines[16] for c in cleared) + cleared[-1].lines[19]
    # Recoveries: what was due is recovered or still remaining.
    assert (
        sum(c.inputs["recovery_due"] for c in cleared)
        == sum(c.lines[22] for c in cleared) + cleared[-1].lines[23]
    )
