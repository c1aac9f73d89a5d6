"""The rules added to the engine: catastrophic and illness-impoverished assistance, veterans as their own
payer, dates (stays across two benefit periods, family doctor from the month after signing), remote
classes, the employee SAMPLE policy, and the roll-over from one year to the next. Every expected amount
is computed by hand in the comment above it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc_claims.domain.benefits import Accumulators, Bill, QuoteContext, QuoteError, next_year, quote
from svc_claims.repository.policies import POLICY_DIR, load_policy, parse_policy

POLICY = load_policy("120000", "resident", 2021)
EMPLOYEE = load_policy("120000", "employee", 2021)


def ctx(
    care: str = "inpatient", amount: str = "10500.00", level: int = 1, tier: str = "adult_high", **kw
) -> QuoteContext:  # type: ignore[no-untyped-def]
    return QuoteContext("resident", tier, level, care, D(amount), **kw)  # type: ignore[arg-type]


def codes(bill: Bill) -> dict[str, D]:
    return {line.code: line.amount for line in bill.lines}


def balanced(bill: Bill) -> bool:
    return bill.fund + bill.major_illness + bill.assistance + bill.veterans + bill.person == bill.total


# --------------------------------------------------------------------------- policy files and sample labels


def _values(node: object, path: str = ""):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        if "source" in node:
            yield path, node
        for k, v in node.items():
            yield from _values(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _values(v, f"{path}[{i}]")


def test_every_policy_file_cites_a_source_for_every_value() -> None:
    for path in POLICY_DIR.glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        found = list(_values(raw))
        assert len(found) > 20
        assert all(node["source"].strip() for _, node in found)


def test_the_employee_table_is_a_sample_through_and_through() -> None:
    raw = json.loads((POLICY_DIR / "tianjin-employee-2021-SAMPLE.json").read_text(encoding="utf-8"))
    assert raw["sample"] is True and "SAMPLE" in raw["title"]
    assert all(node.get("sample") is True and "SAMPLE" in node["source"] for _, node in _values(raw))
    # The resident table marks only what the documents do not give (the 2021 major-illness threshold).
    resident = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    assert [p for p, node in _values(resident) if node.get("sample")] == [".major_illness.threshold"]


def test_bills_say_when_they_used_sample_data() -> None:
    # Employee (sample table), level 1 in service: 10,800 → deductible 800, 10,000 × 90% = 9,000.
    bill = quote(QuoteContext("employee", "in_service", 1, "inpatient", D("10800.00")), EMPLOYEE)
    assert bill.fund == D("9000.00") and bill.sample and all(ln.sample for ln in bill.lines)
    # Resident, no major illness: only document values.
    assert not quote(ctx(), POLICY).sample
    # Resident with major illness: its lines use the sample threshold and say so.
    mi = quote(ctx(amount="500.00", ytd=Accumulators(major_illness_burden=D("30000.00"))), POLICY)
    assert mi.sample and [ln.sample for ln in mi.lines if ln.payer == "major_illness"] == [True]
    assert [ln.sample for ln in mi.lines if ln.payer != "major_illness"] == [False]


def test_the_employee_sample_has_no_second_stay_waiver() -> None:
    # Sample rule "second_stay_waives_deductible: false": a first stay of 300 used 300 of the 800 deductible,
    # so the second stay still pays the other 500. Retired, level 2: (5,800 − 500) × 90% = 4,770.
    ytd = Accumulators(stays=1, deductible_used=D("300.00"))
    bill = quote(QuoteContext("employee", "retired", 2, "inpatient", D("5800.00"), ytd=ytd), EMPLOYEE)
    assert codes(bill)["deductible"] == D("500.00") and bill.fund == D("4770.00")
    # A resident in the same position pays none (seed 001: 从第二次住院治疗起，不再设置起付线).
    assert "deductible" not in codes(quote(ctx(amount="5800.00", ytd=ytd), POLICY))


def test_a_tier_from_another_scheme_is_refused() -> None:
    with pytest.raises(QuoteError, match="档次"):
        quote(ctx(tier="in_service"), POLICY)
    with pytest.raises(QuoteError, match="档次"):
        quote(QuoteContext("employee", "adult_high", 1, "inpatient", D("100.00")), EMPLOYEE)


def test_an_assistance_row_whose_cap_is_not_base_times_share_is_refused() -> None:
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    raw["assistance"]["groups"][0]["outpatient_cap"] = "600.00"  # 1000 × 50% ≠ 600
    with pytest.raises(ValueError, match="门诊补助支付限额"):
        parse_policy(json.dumps(raw))
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    raw["tiers"] = raw["tiers"][:3]  # a tier the ratio tables still list
    with pytest.raises(ValueError, match="档次"):
        parse_policy(json.dumps(raw))


# --------------------------------------------------------------------------- dates


def test_a_stay_across_two_benefit_periods_known_from_its_dates() -> None:
    # Admitted 20 Dec 2021, discharged 10 Jan 2022. Part in 2021 (to 31 Dec), 10,500: deductible 500, 10,000 × 85%.
    first = quote(
        ctx(amount="10500.00", admission_date=date(2021, 12, 20), service_date=date(2021, 12, 31)), POLICY
    )
    assert codes(first)["deductible"] == D("500.00") and first.fund == D("8500.00")
    # Part in 2022, fresh year (own accumulators, own cap): no deductible, 4,000 × 85% = 3,400.
    second = quote(
        ctx(amount="4000.00", admission_date=date(2021, 12, 20), service_date=date(2022, 1, 10)), POLICY
    )
    assert "deductible" not in codes(second) and codes(second)["deductible_waived.cross_period"] == 0
    assert second.fund == D("3400.00") and second.accumulators.stays == 1
    # A late enrollee whose benefit period began 1 May: admitted 28 Apr → the later part pays no deductible again.
    late = quote(ctx(amount="4000.00", admission_date=date(2021, 4, 28), service_date=date(2021, 5, 3),
                     benefit_period_start=date(2021, 5, 1)), POLICY)  # fmt: skip
    assert late.fund == D("3400.00")
    # Admitted and discharged in the same period: the ordinary deductible.
    same = quote(
        ctx(amount="4000.00", admission_date=date(2022, 1, 2), service_date=date(2022, 1, 10)), POLICY
    )
    assert codes(same)["deductible"] == D("500.00") and same.fund == D("2975.00")  # 3,500 × 85%


def test_inconsistent_dates_are_refused() -> None:
    with pytest.raises(QuoteError, match="入院日期"):
        quote(ctx(admission_date=date(2021, 5, 2), service_date=date(2021, 5, 1)), POLICY)
    with pytest.raises(QuoteError, match="家庭医生"):
        quote(ctx("outpatient", family_doctor_signed_on=date(2021, 1, 1)), POLICY)


# --------------------------------------------------------------------------- remote classes


@pytest.mark.parametrize("remote", ["resident_remote", "temporary_emergency"])
def test_remote_residence_and_temporary_emergencies_are_paid_as_locally(remote: str) -> None:
    # Level 2 adult_middle: 10,000 × 75% = 7,500, as at home; the line says why.
    bill = quote(ctx(amount="10500.00", level=2, tier="adult_middle", remote=remote), POLICY)
    assert bill.fund == D("7500.00") and "按本市规定" in bill.lines[1].label


def test_an_unknown_remote_class_is_refused() -> None:
    with pytest.raises(QuoteError, match="异地"):
        quote(ctx(remote="moon"), POLICY)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- major illness at its thresholds


@pytest.mark.parametrize(
    "before,expected",
    [
        ("20702.00", "0.00"),  # 20,702 → 21,202: ends at the threshold, nothing above it
        ("20703.00", "0.60"),  # 20,703 → 21,203: 1 × 60%
        ("21202.00", "300.00"),  # 21,202 → 21,702: 500 × 60%
    ],
)
def test_major_illness_threshold_at_below_and_above(before: str, expected: str) -> None:
    # A 500 stay (all deductible) adds 500 to the year's in-scope burden.
    bill = quote(ctx(amount="500.00", ytd=Accumulators(major_illness_burden=D(before))), POLICY)
    assert bill.major_illness == D(expected)


@pytest.mark.parametrize(
    "before,expected", [("10101.00", "0.00"), ("10102.00", "0.65"), ("10601.00", "325.00")]
)
def test_favoured_threshold_is_halved_at_below_and_above(before: str, expected: str) -> None:
    # 21,202 × 50% = 10,601; rate 60% + 5 = 65%. A 500 stay: 10,101 → 10,601 ends at the threshold: 0;
    # 10,102 → 10,602: 1 × 65% = 0.65; 10,601 → 11,101: 500 × 65% = 325.
    bill = quote(
        ctx(
            amount="500.00",
            special_groups=frozenset({"subsistence"}),
            ytd=Accumulators(major_illness_burden=D(before)),
        ),
        POLICY,
    )
    assert bill.major_illness == D(expected)


# --------------------------------------------------------------------------- catastrophic assistance


def test_catastrophic_assistance_after_basic_major_illness_and_assistance() -> None:
    # Subsistence, adult_low, level 3, 800,000 in scope, first claim of the year.
    # Basic: deductible 500; 799,500 × 65% = 519,675 → cap 180,000 (339,675 over); coinsurance 279,825.
    #   burden 500 + 279,825 + 339,675 = 620,000.
    # Major illness (favoured): 89,399 × 65% = 58,109.35; 100,000 × 70% = 70,000; 420,000 × 75% = 315,000
    #   (no ceiling) → 443,109.35; left 176,890.65.
    # Assistance: 20,000 × 60% = 12,000; 156,890.65 × 80% = 125,512.52 → 137,512.52; left 39,378.13.
    # Catastrophic: (39,378.13 − 20,000) × 50% = 9,689.065 → 9,689.07 (HALF_UP); person 29,689.06.
    bill = quote(
        ctx(amount="800000.00", level=3, tier="adult_low", special_groups=frozenset({"subsistence"})), POLICY
    )
    assert (bill.fund, bill.major_illness, bill.assistance, bill.veterans, bill.person) == (
        D("180000.00"), D("443109.35"), D("147201.59"), D("0.00"), D("29689.06"))  # fmt: skip
    assert codes(bill)["major_illness.band3"] == D("315000.00")
    assert codes(bill)["assistance.catastrophic"] == D("9689.07")
    assert bill.accumulators.catastrophic_burden == D(
        "39378.13"
    ) and bill.accumulators.catastrophic_paid == D("9689.07")
    assert bill.lines[-1].code == "assistance.catastrophic" and balanced(bill)


def test_catastrophic_assistance_for_veterans_comes_after_their_share() -> None:
    # Old soldier, same bill: basic and major illness as above (left 176,890.65);
    # veterans 80% = 141,512.52; left 35,378.13; catastrophic (35,378.13 − 20,000) × 50% = 7,689.065 → 7,689.07.
    bill = quote(
        ctx(amount="800000.00", level=3, tier="adult_low", special_groups=frozenset({"old_soldier"})), POLICY
    )
    assert (bill.veterans, bill.assistance, bill.person) == (D("141512.52"), D("7689.07"), D("27689.06"))
    assert [ln.code for ln in bill.lines][-2:] == ["veterans.old_soldier", "assistance.catastrophic"]


@pytest.mark.parametrize(
    "before,burden_in,expected",
    [
        # Stays of 500 (all deductible) for an extreme-poverty person below the halved MI threshold:
        # burden 500 → assistance 60% = 300 (their inpatient band starts at 0) → 200 left for catastrophic.
        ("19700.00", "500.00", "0.00"),  # 19,700 → 19,900: below 20,000
        ("19900.00", "500.00", "50.00"),  # 19,900 → 20,100: 100 × 50%
        ("25000.00", "500.00", "100.00"),  # all 200 above: 200 × 50%
    ],
)
def test_catastrophic_threshold_at_below_and_above(before: str, burden_in: str, expected: str) -> None:
    ytd = Accumulators(catastrophic_burden=D(before))
    bill = quote(ctx(amount=burden_in, special_groups=frozenset({"extreme_poverty"}), ytd=ytd), POLICY)
    assert bill.assistance - codes(bill)["assistance.inpatient_low"] == D(expected)


def test_catastrophic_assistance_stops_at_100000_a_year() -> None:
    # Already 99,900 paid; this claim would give 100 → only 100 left … then a second one gets nothing.
    ytd = Accumulators(catastrophic_burden=D("300000.00"), catastrophic_paid=D("99900.00"))
    bill = quote(
        ctx(
            amount="800000.00", level=3, tier="adult_low", special_groups=frozenset({"subsistence"}), ytd=ytd
        ),
        POLICY,
    )
    assert codes(bill)["assistance.catastrophic"] == D("100.00") and bill.accumulators.catastrophic_paid == D(
        "100000.00"
    )
    again = quote(ctx(amount="800000.00", level=3, tier="adult_low", special_groups=frozenset({"subsistence"}),
                      ytd=bill.accumulators), POLICY)  # fmt: skip
    assert codes(again)["assistance.catastrophic"] == 0


def test_no_catastrophic_assistance_for_outpatient_care_or_without_a_group() -> None:
    assert "assistance.catastrophic" not in codes(quote(ctx(amount="800000.00"), POLICY))
    op = quote(ctx("outpatient", "30000.00", special_groups=frozenset({"subsistence"}),
                   ytd=Accumulators(catastrophic_burden=D("50000.00"))), POLICY)  # fmt: skip
    assert "assistance.catastrophic" not in codes(op)


# --------------------------------------------------------------------------- illness-impoverished families


def test_illness_impoverished_families_get_half_of_the_remaining_burden() -> None:
    # Adult middle, level 2, 40,500: deductible 500, 40,000 × 75% = 30,000; burden 10,500 (below the MI threshold;
    # not an assistance recipient, so no halved threshold). Family assistance 50% = 5,250; person 5,250.
    bill = quote(
        ctx(
            amount="40500.00",
            level=2,
            tier="adult_middle",
            special_groups=frozenset({"illness_impoverished"}),
        ),
        POLICY,
    )
    assert (bill.fund, bill.major_illness, bill.assistance, bill.person) == (
        D("30000.00"),
        0,
        D("5250.00"),
        D("5250.00"),
    )
    # The family already received 48,000 this year: only 2,000 left of 50,000; person 8,500.
    capped = quote(ctx(amount="40500.00", level=2, tier="adult_middle", special_groups=frozenset({"illness_impoverished"}),
                       family_illness_paid=D("48000.00")), POLICY)  # fmt: skip
    assert capped.assistance == D("2000.00") and capped.person == D("8500.00")
    assert capped.accumulators.illness_paid == D("2000.00")


# --------------------------------------------------------------------------- a year, as in the journey


def test_two_stays_then_a_large_one_hits_the_cap_and_the_major_illness_bands() -> None:
    # Adult middle. Stay 1, level 2, 10,500: deductible 500, 10,000 × 75% = 7,500; burden 3,000.
    s1 = quote(ctx(amount="10500.00", level=2, tier="adult_middle"), POLICY)
    # Stay 2, level 3, 20,000: no deductible, 20,000 × 70% = 14,000; burden 6,000 (year: 9,000).
    s2 = quote(ctx(amount="20000.00", level=3, tier="adult_middle", ytd=s1.accumulators), POLICY)
    assert s2.fund == D("14000.00") and "deductible" not in codes(s2)
    # Stay 3, level 3, 300,000: 210,000 due but 158,500 left of 180,000 → 51,500 over; coinsurance 90,000;
    # burden 141,500 (year 9,000 → 150,500). MI: (100,000 − 21,202) × 60% = 47,278.80; 50,500 × 65% = 32,825.
    s3 = quote(ctx(amount="300000.00", level=3, tier="adult_middle", ytd=s2.accumulators), POLICY)
    assert (s3.fund, s3.major_illness, s3.person) == (D("158500.00"), D("80103.80"), D("61396.20"))
    assert codes(s3)["over_cap"] == D("51500.00") and s3.accumulators.fund_paid == D("180000.00")
    assert s3.accumulators.stays == 3 and s3.accumulators.major_illness_burden == D("150500.00")


# --------------------------------------------------------------------------- the roll-over to the next year


@pytest.mark.parametrize(
    "year,claim_free,carried",
    [
        # No outpatient at all: one claim-free year; the whole 4,000 carried.
        (Accumulators(), 1, "4000.00"),
        # 300 in scope, all deductible (not above 500): claim-free; 4,000 − 300 = 3,700 carried.
        (Accumulators(outpatient_in_scope=D("300.00"), outpatient_deductible_used=D("300.00")), 1, "3700.00"),
        # Exactly the deductible: still "not above" it.
        (Accumulators(outpatient_in_scope=D("500.00"), outpatient_deductible_used=D("500.00")), 1, "3500.00"),
        # 1,500 with a 400 (relieved) deductible: a claim → relief restored (0); 2,500 carried on top of 3,700.
        (
            Accumulators(
                claim_free_years=1,
                carried_over_cap=D("3700.00"),
                outpatient_in_scope=D("1500.00"),
                outpatient_deductible_used=D("400.00"),
            ),
            0,
            "6200.00",
        ),
        # Three claim-free years stay at three (relief at most 300).
        (Accumulators(claim_free_years=3), 3, "4000.00"),
        # Family doctor: the year's cap was 4,200: 4,200 − 1,000 = 3,200 … and 1,000 > 500 was a claim.
        (
            Accumulators(
                family_doctor=True, outpatient_in_scope=D("1000.00"), outpatient_deductible_used=D("500.00")
            ),
            0,
            "3200.00",
        ),
        # Cost at or above the cap carries nothing.
        (Accumulators(outpatient_in_scope=D("5000.00"), outpatient_deductible_used=D("500.00")), 0, "0.00"),
        # Village-clinic fees count as outpatient cost (4,000 − 100) but are not a claim above the deductible.
        (Accumulators(village_fee_in_scope=D("100.00")), 1, "3900.00"),
        # Carried 10,000 of which 4,000 used above the 180,000 cap: 6,000 left + 4,000 new.
        (Accumulators(carried_over_cap=D("10000.00"), fund_paid=D("184000.00")), 1, "10000.00"),
    ],
)
def test_next_year_relief_and_carry_over(year: Accumulators, claim_free: int, carried: str) -> None:
    start = next_year(year, POLICY)
    assert (start.claim_free_years, start.carried_over_cap) == (claim_free, D(carried))
    assert start.stays == 0 and start.fund_paid == 0  # everything else starts afresh


def test_three_quiet_years_then_the_relief_applies_and_a_claim_restores_it() -> None:
    year = Accumulators()
    for _ in range(3):
        year = next_year(year, POLICY)
    # Year 4: deductible 500 − 300 = 200; 1,200 → 1,000 × 50% = 500.
    bill = quote(ctx("outpatient", "1200.00", ytd=year), POLICY)
    assert codes(bill)["outpatient_deductible"] == D("200.00") and bill.fund == D("500.00")
    # It was a claim: year 5 is back to 500. Carried: 4,000 × 3 + (4,000 − 1,200) = 14,800.
    year5 = next_year(bill.accumulators, POLICY)
    assert year5.claim_free_years == 0 and year5.carried_over_cap == D("14800.00")
    assert codes(quote(ctx("outpatient", "1200.00", ytd=year5), POLICY))["outpatient_deductible"] == D(
        "500.00"
    )


def test_the_employee_sample_carries_nothing_over() -> None:
    assert next_year(Accumulators(), EMPLOYEE) == Accumulators()


# --------------------------------------------------------------------------- more properties

groups = st.sets(st.sampled_from(["subsistence", "extreme_poverty", "severe_disability", "children_in_difficulty",
                                  "old_soldier", "martyrs_family", "illness_impoverished"]), max_size=2).map(frozenset)  # fmt: skip
amounts = st.decimals(min_value=0, max_value=2_000_000, places=2)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["inpatient", "special_disease", "outpatient", "village_fee"]),
                          st.sampled_from([1, 2, 3]), amounts), min_size=1, max_size=6), groups)  # fmt: skip
def test_assistance_caps_hold_across_any_sequence(claims: list, special: frozenset) -> None:
    ytd = Accumulators()
    for care, level, amount in claims:
        bill = quote(
            QuoteContext("resident", "adult_low", level, care, amount, special_groups=special, ytd=ytd),
            POLICY,
        )
        assert balanced(bill)
        ytd = bill.accumulators
        assert ytd.catastrophic_paid <= D("100000.00")
        assert ytd.illness_paid <= D("50000.00")
        assert ytd.assistance_outpatient_paid <= D("500.00")
        assert ytd.fund_paid <= D("180000.00") and ytd.deductible_used <= D("500.00")


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["inpatient", "special_disease", "family_sickbed"]),
    st.sampled_from([1, 2, 3]),
    amounts,
    amounts,
    groups,
)
def test_one_claim_or_two_halves_give_the_same_year_for_the_basic_fund(
    care: str, level: int, a: D, b: D, special: frozenset
) -> None:
    # Splitting a year's costs across claims never lets the fund pay more than the cap or take two deductibles.
    first = quote(
        QuoteContext("resident", "adult_high", level, care, a, special_groups=special, sickbed_days=10),
        POLICY,
    )
    second = quote(QuoteContext("resident", "adult_high", level, care, b, special_groups=special, sickbed_days=10,
                                ytd=first.accumulators), POLICY)  # fmt: skip
    assert second.accumulators.deductible_used <= D("500.00")
    assert first.fund + second.fund <= D("180000.00")
    assert second.accumulators.fund_paid == first.fund + second.fund


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["inpatient", "special_disease", "outpatient"]), st.sampled_from([1, 2, 3]), amounts,
       st.decimals(min_value=0, max_value=100_000, places=2), groups)  # fmt: skip
def test_monotonic_with_assistance_groups(
    care: str, level: int, amount: D, more: D, special: frozenset
) -> None:
    small = quote(
        QuoteContext("resident", "adult_middle", level, care, amount, special_groups=special), POLICY
    )
    large = quote(
        QuoteContext("resident", "adult_middle", level, care, amount + more, special_groups=special), POLICY
    )
    assert large.person >= small.person and large.fund >= small.fund
    assert large.paid_by_others >= small.paid_by_others


# --------------------------------------------------------------------------- the engine's boundaries


def test_the_callers_year_is_left_as_it_was() -> None:
    # The engine updates its own copy of the year in place; the context's accumulators must not move.
    year = Accumulators(stays=1, deductible_used=D("500.00"), fund_paid=D("1000.00"))
    first = quote(ctx(amount="20000.00", ytd=year), POLICY)
    assert year == Accumulators(stays=1, deductible_used=D("500.00"), fund_paid=D("1000.00"))
    assert first.accumulators.stays == 2 and first.accumulators is not year
    # the same context quoted again gives the same bill
    assert quote(ctx(amount="20000.00", ytd=year), POLICY) == first


@pytest.mark.parametrize("amount", ["1000000000000.00", "99999999999999999999.00"])
def test_absurd_amounts_are_refused(amount: str) -> None:
    with pytest.raises(QuoteError, match="in_scope"):
        quote(ctx(amount=amount), POLICY)


def test_stored_accumulators_are_checked_where_they_are_read() -> None:
    from pydantic import ValidationError

    from svc_claims.repository.coverage import ACCUMULATORS

    assert ACCUMULATORS.validate_python({"stays": 2, "fund_paid": "150.50"}) == Accumulators(
        stays=2, fund_paid=D("150.50")
    )
    for bad in ({"fund_paid": "-1.00"}, {"stays": -1}, {"deductible_used": "0.001"}):
        with pytest.raises(ValidationError):
            ACCUMULATORS.validate_python(bad)


def test_the_bill_does_not_depend_on_the_callers_decimal_context() -> None:
    # The engine runs in money's context; a caller's coarse context (3 digits, rounding down) must not
    # change one fen of the bill, and is the caller's again afterwards, also when the quote is refused.
    from decimal import ROUND_DOWN, getcontext, localcontext

    rich = ctx(
        amount="560000.00",
        level=3,
        tier="adult_low",
        special_groups=frozenset({"subsistence"}),
        out_of_scope=D("12000.00"),
    )
    expected = quote(rich, POLICY)
    with localcontext(prec=3, rounding=ROUND_DOWN) as coarse:
        assert quote(rich, POLICY) == expected
        assert getcontext() is coarse
        with pytest.raises(QuoteError):
            quote(ctx(amount="-1.00"), POLICY)
        assert getcontext() is coarse and getcontext().prec == 3


def test_a_stored_bill_keeps_its_lines_flat() -> None:
    # Settlements and approved reimbursements store the bill as JSON; each line as code … sample, the rule inlined.
    from svc_claims.usecases.eligibility import BILL

    stored = BILL.dump_python(quote(ctx(amount="10500.00", out_of_scope=D("100.00")), POLICY), mode="json")
    assert stored["lines"][0] == {"code": "out_of_scope", "label": "政策范围外费用（三目外），个人负担", "payer": "person", "base": "100.00",
                                  "rate": None, "amount": "100.00", "sample": False}  # fmt: skip
    assert (
        stored["lines"][2]["code"] == "basic_fund" and stored["lines"][2]["rate"] == "0.85"
    )  # level 1, adult high


def test_a_refused_kind_of_claim_is_not_remembered() -> None:
    # What a policy decides is kept per kind of claim; a context the policy does not know is refused, not kept.
    policy = parse_policy((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    quote(ctx(), policy)
    kept = len(policy.derived)
    for bad in (
        {"tier": "no_such_tier"},
        {"level": 4},
        {"care": "dental"},
        {"remote": "moon"},
        {"not_payable": "bogus"},
    ):
        with pytest.raises(QuoteError):
            quote(ctx(**bad), policy)  # type: ignore[arg-type]
    assert len(policy.derived) == kept
    quote(ctx(level=2), policy)
    assert len(policy.derived) == kept + 1  # a new kind: level 2
