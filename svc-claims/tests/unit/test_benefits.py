"""The benefit engine against hand-computed bills (arithmetic in the comments) and its properties."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc_claims.domain.benefits import Accumulators, Bill, QuoteContext, QuoteError, quote
from svc_claims.repository.policies import POLICY_DIR, TIERS, load_policy, parse_policy

POLICY = load_policy("120000", "resident", 2021)


def ctx(
    care: str = "inpatient", amount: str = "10500.00", level: int = 1, tier: str = "adult_high", **kw
) -> QuoteContext:  # type: ignore[no-untyped-def]
    return QuoteContext("resident", tier, level, care, D(amount), **kw)  # type: ignore[arg-type]


def codes(bill: Bill) -> dict[str, D]:
    return {line.code: line.amount for line in bill.lines}


def balanced(bill: Bill) -> bool:
    return bill.fund + bill.major_illness + bill.assistance + bill.veterans + bill.person == bill.total


# Family doctor signed 15 Jan 2021: effective from 1 Feb 2021 (签约次月起).
DOC = {"family_doctor_signed_on": date(2021, 1, 15), "service_date": date(2021, 3, 1)}


# --------------------------------------------------------------------------- the policy file


def test_policy_file_loads_and_every_value_has_a_source() -> None:
    assert POLICY.key == ("120000", "resident", 2021, "v1")
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "value" in node:
                assert node.get("source"), node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(raw)
    assert (
        POLICY.major_illness is not None and POLICY.major_illness.threshold.sample
    )  # 2021 figure not in the documents


def test_a_broken_policy_file_is_refused() -> None:
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    del raw["basic"]["inpatient_ratios"]["by_level"]["3"]
    with pytest.raises(ValueError):
        parse_policy(json.dumps(raw))
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    raw["basic"]["inpatient_ratios"]["by_level"]["1"]["adult_high"] = "1.5"
    with pytest.raises(ValueError):
        parse_policy(json.dumps(raw))
    # Two assistance groups under one code: the engine keys what it derives from a group by its code.
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    raw["assistance"]["groups"][1]["code"] = raw["assistance"]["groups"][0]["code"]
    with pytest.raises(ValueError, match="代码重复"):
        parse_policy(json.dumps(raw))
    # A rate of more than 6 decimals: the engine's products would no longer be exact.
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    raw["basic"]["inpatient_ratios"]["by_level"]["1"]["adult_high"] = "0.8500001"
    with pytest.raises(ValueError, match="6位小数"):
        parse_policy(json.dumps(raw))


# --------------------------------------------------------------------------- the ratio tables, cell by cell

INPATIENT = {
    1: ("0.85", "0.85", "0.80", "0.75"),
    2: ("0.80", "0.80", "0.75", "0.70"),
    3: ("0.75", "0.75", "0.70", "0.65"),
}
SPECIAL = {
    1: ("0.65", "0.65", "0.60", "0.55"),
    2: ("0.60", "0.60", "0.55", "0.50"),
    3: ("0.55", "0.55", "0.50", "0.45"),
}


@pytest.mark.parametrize("care,table", [("inpatient", INPATIENT), ("special_disease", SPECIAL)])
@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("tier_index", range(4))
def test_every_cell_of_the_ratio_table(care: str, table: dict, level: int, tier_index: int) -> None:
    # 10,500 in scope: 500 deductible, 10,000 × ratio from the fund, the rest the person's.
    ratio = D(table[level][tier_index])
    bill = quote(ctx(care, "10500.00", level, TIERS[tier_index]), POLICY)
    assert bill.fund == 10000 * ratio
    assert bill.person == D("10500.00") - 10000 * ratio
    assert balanced(bill)


# --------------------------------------------------------------------------- deductible


@pytest.mark.parametrize(
    "amount,deductible,fund",
    [
        ("499.99", "499.99", "0.00"),  # below the deductible: all the person's
        ("500.00", "500.00", "0.00"),  # at it
        ("500.01", "500.00", "0.01"),  # 0.01 × 0.85 = 0.0085 → 0.01 (HALF_UP)
        ("0.00", "0.00", "0.00"),
    ],
)
def test_inpatient_deductible_at_below_and_above(amount: str, deductible: str, fund: str) -> None:
    bill = quote(ctx(amount=amount), POLICY)
    assert codes(bill).get("deductible", D("0.00")) == D(deductible)
    assert bill.fund == D(fund) and balanced(bill)


def test_second_stay_pays_no_deductible_even_when_the_first_was_small() -> None:
    # 1st stay 300 (all deductible); 2nd stay 1,000 at level 2 adult_middle: no deductible, 1,000 × 75% = 750.
    first = quote(ctx(amount="300.00"), POLICY)
    assert (
        first.fund == 0
        and first.accumulators.stays == 1
        and first.accumulators.deductible_used == D("300.00")
    )
    second = quote(ctx(amount="1000.00", level=2, tier="adult_middle", ytd=first.accumulators), POLICY)
    assert "deductible" not in codes(second) and codes(second)["deductible_waived.second_stay"] == 0
    assert second.fund == D("750.00") and second.person == D("250.00")
    assert second.accumulators.stays == 2


def test_special_disease_shares_the_deductible_with_inpatient() -> None:
    # Special disease first pays 300 of the deductible; the 1st stay pays only the remaining 200:
    # stay 10,200 at level 1 adult_high: (10,200 − 200) × 85% = 8,500.
    sd = quote(ctx("special_disease", "300.00"), POLICY)
    stay = quote(ctx(amount="10200.00", ytd=sd.accumulators), POLICY)
    assert codes(stay)["deductible"] == D("200.00") and stay.fund == D("8500.00")
    # Two special diseases: one deductible — a second special disease after 500 was used pays none.
    sd2 = quote(ctx("special_disease", "1000.00", ytd=Accumulators(deductible_used=D("500.00"))), POLICY)
    assert "deductible" not in codes(sd2) and sd2.fund == D("650.00")  # 1,000 × 65%


def test_a_stay_across_two_benefit_periods_pays_one_deductible_and_each_period_its_cap() -> None:
    # Part in period 1: 180,500 at level 1 adult_high → deductible 500, 180,000 × 85% = 153,000.
    # Part in period 2 (fresh year, own cap): 10,000 → no deductible, 10,000 × 85% = 8,500.
    first = quote(ctx(amount="180500.00"), POLICY)
    second = quote(ctx(amount="10000.00", continues_stay=True), POLICY)
    assert first.fund == D("153000.00") and second.fund == D("8500.00")
    assert "deductible" not in codes(second)


# --------------------------------------------------------------------------- the annual cap


def test_annual_cap_of_180000_below_at_and_above() -> None:
    ytd = Accumulators(stays=1, deductible_used=D("500.00"), fund_paid=D("179000.00"))
    # 1,000 left: 1,176.47 × 85% = 999.9995 → 1,000.00 exactly at the cap.
    at = quote(ctx(amount="1176.47", ytd=ytd), POLICY)
    assert at.fund == D("1000.00") and "over_cap" not in codes(at)
    # 2,000 × 85% = 1,700; only 1,000 left → 700 over the cap, the person's.
    above = quote(ctx(amount="2000.00", ytd=ytd), POLICY)
    assert above.fund == D("1000.00") and codes(above)["over_cap"] == D("700.00")
    assert above.person == D("1000.00") and above.accumulators.fund_paid == D("180000.00")
    # Below: 1,000 × 85% = 850 fits.
    below = quote(ctx(amount="1000.00", ytd=ytd), POLICY)
    assert below.fund == D("850.00")


def test_special_disease_counts_against_the_same_cap_and_carried_over_cap_raises_it() -> None:
    full = Accumulators(stays=1, deductible_used=D("500.00"), fund_paid=D("180000.00"))
    assert quote(ctx("special_disease", "1000.00", ytd=full), POLICY).fund == 0
    # 3 years of unused outpatient cap carried over (say 4,000 + 3,500 + 4,000 = 11,500): 1,000 × 85% = 850 paid.
    assert quote(ctx(amount="1000.00", ytd=replace(full, carried_over_cap=D("11500.00"))), POLICY).fund == D(
        "850.00"
    )


# --------------------------------------------------------------------------- ordinary outpatient


def test_ordinary_outpatient_50_percent_above_500() -> None:
    # 1,500 at level 1: 500 deductible, 1,000 × 50% = 500.
    bill = quote(ctx("outpatient", "1500.00"), POLICY)
    assert (
        codes(bill)["outpatient_deductible"] == D("500.00")
        and bill.fund == D("500.00")
        and bill.person == D("1000.00")
    )
    # Outpatient deductible is separate from the inpatient one.
    assert bill.accumulators.deductible_used == 0 and bill.accumulators.outpatient_deductible_used == D(
        "500.00"
    )


def test_outpatient_cap_4000_and_family_doctor_bonus() -> None:
    # 9,000: (9,000 − 500) × 50% = 4,250 → 4,000 cap, 250 over.
    bill = quote(ctx("outpatient", "9000.00"), POLICY)
    assert bill.fund == D("4000.00") and codes(bill)["outpatient_over_cap"] == D("250.00")
    # Family doctor: (9,000 − 500) × 55% = 4,675 → cap 4,200, 475 over.
    doc = quote(ctx("outpatient", "9000.00", **DOC), POLICY)
    assert doc.fund == D("4200.00") and codes(doc)["outpatient_over_cap"] == D("475.00")
    # Below the family-doctor cap: 1,500 → 1,000 × 55% = 550.
    assert quote(ctx("outpatient", "1500.00", **DOC), POLICY).fund == D("550.00")
    # Signed in the month of the visit: not yet (from the next month) → 50%, cap 4,000.
    same_month = quote(
        ctx(
            "outpatient", "9000.00", family_doctor_signed_on=date(2021, 3, 1), service_date=date(2021, 3, 31)
        ),
        POLICY,
    )
    assert same_month.fund == D("4000.00")
    # Signed 10 Dec 2020: effective 1 Jan 2021.
    assert quote(
        ctx(
            "outpatient", "1500.00", family_doctor_signed_on=date(2020, 12, 10), service_date=date(2021, 1, 1)
        ),
        POLICY,
    ).fund == D("550.00")


def test_outpatient_only_at_level_1_or_reformed_level_2() -> None:
    refused = quote(ctx("outpatient", "1500.00", level=3), POLICY)
    assert (
        refused.fund == 0
        and refused.person == D("1500.00")
        and "not_payable.outpatient_level" in codes(refused)
    )
    assert quote(ctx("outpatient", "1500.00", level=2), POLICY).fund == 0
    assert quote(ctx("outpatient", "1500.00", level=2, reformed_level2=True), POLICY).fund == D("500.00")


@pytest.mark.parametrize(
    "years,deductible", [(0, "500.00"), (1, "400.00"), (2, "300.00"), (3, "200.00"), (5, "200.00")]
)
def test_outpatient_deductible_relief_after_claim_free_years(years: int, deductible: str) -> None:
    bill = quote(ctx("outpatient", "1500.00", ytd=Accumulators(claim_free_years=years)), POLICY)
    assert codes(bill)["outpatient_deductible"] == D(deductible)
    assert bill.fund == (D("1500.00") - D(deductible)) * D("0.5")


def test_village_clinic_fee_80_percent_within_the_outpatient_cap() -> None:
    # 10.00 general treatment fee: 8.00 from the fund, no deductible.
    bill = quote(ctx("village_fee", "10.00"), POLICY)
    assert bill.fund == D("8.00") and bill.person == D("2.00")
    used = quote(ctx("village_fee", "10.00", ytd=Accumulators(outpatient_fund_paid=D("3995.00"))), POLICY)
    assert used.fund == D("5.00")  # only 5 left under 4,000


# --------------------------------------------------------------------------- out-of-scope, not payable, remote


def test_out_of_scope_is_the_persons() -> None:
    # 10,500 in scope + 2,345.67 outside: fund 8,500; person 500 + 1,500 + 2,345.67 = 4,345.67.
    bill = quote(ctx(amount="10500.00", out_of_scope=D("2345.67")), POLICY)
    assert bill.total == D("12845.67") and bill.fund == D("8500.00") and bill.person == D("4345.67")
    assert codes(bill)["out_of_scope"] == D("2345.67")


@pytest.mark.parametrize("code", ["non_designated", "third_party", "public_health", "abroad"])
def test_not_payable_cases(code: str) -> None:
    bill = quote(ctx(amount="10500.00", not_payable=code), POLICY)
    assert bill.fund == 0 and bill.person == D("10500.00") and bill.accumulators.stays == 0


def test_remote_care_points() -> None:
    # Referred, level 3 adult_high: 75% − 5 = 70%: 10,000 × 70% = 7,000.
    assert quote(ctx(amount="10500.00", level=3, remote="referred"), POLICY).fund == D("7000.00")
    # Referred to level 1 too: 85% − 5 = 80%.
    assert quote(ctx(amount="10500.00", level=1, remote="referred"), POLICY).fund == D("8000.00")
    # Self-referred to level 2: 80% − 10 = 70%; level 3: 65%.
    assert quote(ctx(amount="10500.00", level=2, remote="self_referred"), POLICY).fund == D("7000.00")
    assert quote(ctx(amount="10500.00", level=3, remote="self_referred"), POLICY).fund == D("6500.00")
    # Self-referred elsewhere (level 1): the fund pays nothing.
    elsewhere = quote(ctx(amount="10500.00", level=1, remote="self_referred"), POLICY)
    assert elsewhere.fund == 0 and "not_payable.remote_self_referred" in codes(elsewhere)


def test_family_sickbed_inpatient_rules_and_90_days() -> None:
    # 30 days, 3,500: inpatient rules at level 1: 500 deductible, 3,000 × 85% = 2,550.
    bill = quote(ctx("family_sickbed", "3500.00", sickbed_days=30), POLICY)
    assert bill.fund == D("2550.00") and bill.accumulators.sickbed_days == 30
    # 80 days used; 20 more at 2,000 (second stay, no deductible): 10 payable days → 1,000 × 85% = 850; 1,000 the person's.
    late = quote(
        ctx("family_sickbed", "2000.00", sickbed_days=20, ytd=Accumulators(stays=1, sickbed_days=80)), POLICY
    )
    assert codes(late)["sickbed_over_days"] == D("1000.00") and late.fund == D("850.00")
    assert late.accumulators.sickbed_days == 90


# --------------------------------------------------------------------------- major illness


def test_major_illness_bands_for_an_ordinary_resident() -> None:
    # Personal in-scope burden this year already 21,202 (at the threshold). This stay adds
    # 500 + coinsurance: 3rd level adult_low, 100,500 in scope → 500 + 100,000 × 35% = 35,500 → burden 35,500.
    # MI: 21,202 → 56,702 all in band 1: 35,500 × 60% = 21,300.
    ytd = Accumulators(major_illness_burden=D("21202.00"))
    bill = quote(ctx(amount="100500.00", level=3, tier="adult_low", ytd=ytd), POLICY)
    assert bill.fund == D("65000.00") and bill.major_illness == D("21300.00") and balanced(bill)
    assert bill.accumulators.major_illness_burden == D("56702.00")


def test_major_illness_below_at_and_across_bands() -> None:
    mi = POLICY.major_illness
    assert mi is not None
    # Below the threshold: nothing.
    assert (
        quote(
            ctx(amount="1000.00", ytd=Accumulators(major_illness_burden=D("20000.00"))), POLICY
        ).major_illness
        == 0
    )
    # Burden 500 (deductible only, stay 500) from 99,800 → 100,300: 200 × 60% + 300 × 65% = 120 + 195 = 315.
    bill = quote(ctx(amount="500.00", ytd=Accumulators(major_illness_burden=D("99800.00"))), POLICY)
    assert codes(bill)["major_illness.band1"] == D("120.00") and codes(bill)["major_illness.band2"] == D(
        "195.00"
    )
    # 199,900 → 200,400: 100 × 65% + 400 × 70% = 65 + 280 = 345.
    assert quote(
        ctx(amount="500.00", ytd=Accumulators(major_illness_burden=D("199900.00"))), POLICY
    ).major_illness == D("345.00")
    # Ceiling: 299,800 → 300,300: only 200 × 70% = 140.
    assert quote(
        ctx(amount="500.00", ytd=Accumulators(major_illness_burden=D("299800.00"))), POLICY
    ).major_illness == D("140.00")


def test_major_illness_for_assistance_recipients_halved_threshold_plus_5_no_ceiling() -> None:
    # Threshold 21,202 / 2 = 10,601. Burden 10,000 → 10,500 from a 500 stay: below the halved threshold: 0.
    groups = frozenset({"old_soldier"})
    assert (
        quote(
            ctx(amount="500.00", special_groups=groups, ytd=Accumulators(major_illness_burden=D("10000.00"))),
            POLICY,
        ).major_illness
        == 0
    )
    # 10,500 → 11,000: 399 × 65% = 259.35 (then the veteran's 80% of the rest, see below).
    bill = quote(
        ctx(amount="500.00", special_groups=groups, ytd=Accumulators(major_illness_burden=D("10500.00"))),
        POLICY,
    )
    assert bill.major_illness == D("259.35")
    # Veteran old soldier: 80% of (500 − 259.35 = 240.65) = 192.52; person 48.13.
    assert (
        bill.veterans == D("192.52") and bill.assistance == 0 and bill.person == D("48.13") and balanced(bill)
    )
    # Above 300,000: 75%, no ceiling. 300,000 → 300,500: 500 × 75% = 375.
    far = quote(
        ctx(amount="500.00", special_groups=groups, ytd=Accumulators(major_illness_burden=D("300000.00"))),
        POLICY,
    )
    assert far.major_illness == D("375.00")


# --------------------------------------------------------------------------- medical assistance


@pytest.mark.parametrize(
    "groups,low,high",
    [
        ({"extreme_poverty"}, "0.60", "0.80"),
        ({"extreme_poverty", "severe_disability"}, "0.65", "0.85"),
        ({"subsistence", "severe_disability"}, "0.65", "0.85"),
        ({"low_income", "severe_disability"}, "0.65", "0.85"),
        ({"subsistence"}, "0.60", "0.80"),
        ({"severe_disability"}, "0.60", "0.80"),
        ({"children_in_difficulty"}, "0.60", "0.85"),
    ],
)
def test_inpatient_assistance_bands_by_group(groups: set[str], low: str, high: str) -> None:
    # Stay 3,000 at level 1 adult_high, nothing before: burden 500 + 2,500 × 15% = 875 (below the halved MI threshold).
    # Assistance from 19,500 → 20,375 already counted: 500 × low + 375 × high.
    ytd = Accumulators(assistance_inpatient_burden=D("19500.00"))
    bill = quote(ctx(amount="3000.00", special_groups=frozenset(groups), ytd=ytd), POLICY)
    assert bill.fund == D("2125.00") and bill.major_illness == 0
    assert codes(bill)["assistance.inpatient_low"] == D("500.00") * D(low)
    assert codes(bill)["assistance.inpatient_high"] == D("375.00") * D(high)
    assert balanced(bill)


@pytest.mark.parametrize("groups,cap", [({"extreme_poverty"}, "500.00"), ({"subsistence"}, "200.00")])
def test_outpatient_assistance_share_and_yearly_cap(groups: set[str], cap: str) -> None:
    # Outpatient 1,500 at level 1: fund 500, person 1,000 → assistance 50% = 500, capped per group.
    bill = quote(ctx("outpatient", "1500.00", special_groups=frozenset(groups)), POLICY)
    assert bill.assistance == min(D("500.00"), D(cap))
    # Already used 150 of the cap: (subsistence) 50 left; (extreme poverty) 350 left.
    used = quote(
        ctx(
            "outpatient",
            "1500.00",
            special_groups=frozenset(groups),
            ytd=Accumulators(assistance_outpatient_paid=D("150.00")),
        ),
        POLICY,
    )
    assert used.assistance == D(cap) - D("150.00")


@pytest.mark.parametrize("group,out_share,in_share", [("martyrs_family", "0.70", "0.90"), ("old_soldier", "0.50", "0.80"),
                                                      ("veteran_sent_home", "0.25", "0.70")])  # fmt: skip
def test_veterans_shares(group: str, out_share: str, in_share: str) -> None:
    # Inpatient 1,500 level 1: burden 500 + 1,000 × 15% = 650 → × in_share.
    inpatient = quote(ctx(amount="1500.00", special_groups=frozenset({group})), POLICY)
    assert inpatient.veterans == (D("650.00") * D(in_share)).quantize(D("0.01")) and inpatient.assistance == 0
    # Outpatient 1,500: burden 1,000 → × out_share.
    outpatient = quote(ctx("outpatient", "1500.00", special_groups=frozenset({group})), POLICY)
    assert outpatient.veterans == D("1000.00") * D(out_share)


def test_no_assistance_without_a_group() -> None:
    assert quote(ctx(amount="300000.00"), POLICY).assistance == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "bad",
    [
        {"facility_level": 4},
        {"in_scope": D("-1.00")},
        {"out_of_scope": D("0.001")},
        {"scheme": "employee"},
        {"not_payable": "nonsense"},
        {"care_type": "family_sickbed", "sickbed_days": 0},
    ],
)
def test_bad_contexts_are_refused(bad: dict) -> None:
    with pytest.raises(QuoteError):
        quote(replace(ctx(), **bad), POLICY)


# --------------------------------------------------------------------------- properties

money = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
group_sets = st.sets(st.sampled_from(["subsistence", "extreme_poverty", "severe_disability", "low_income",
                                      "children_in_difficulty", "martyrs_family", "old_soldier", "veteran_sent_home"]),
                     max_size=3).map(frozenset)  # fmt: skip
contexts = st.builds(
    QuoteContext,
    scheme=st.just("resident"),
    tier=st.sampled_from(TIERS),
    facility_level=st.sampled_from([1, 2, 3]),
    care_type=st.sampled_from(
        ["inpatient", "special_disease", "family_sickbed", "outpatient", "village_fee"]
    ),
    in_scope=money,
    out_of_scope=money,
    special_groups=group_sets,
    remote=st.sampled_from([None, "referred", "self_referred", "resident_remote", "temporary_emergency"]),
    reformed_level2=st.booleans(),
    ytd=st.builds(
        Accumulators,
        claim_free_years=st.integers(0, 4),
        carried_over_cap=st.decimals(min_value=0, max_value=20_000, places=2),
    ),
    sickbed_days=st.integers(1, 120),
    continues_stay=st.booleans(),
    service_date=st.just(date(2021, 6, 1)),
    family_doctor_signed_on=st.sampled_from([None, date(2021, 1, 15), date(2021, 6, 1)]),
)


@settings(max_examples=300, deadline=None)
@given(contexts)
def test_shares_add_up_to_the_total_to_the_fen(c: QuoteContext) -> None:
    bill = quote(c, POLICY)
    assert balanced(bill)
    for share in (bill.fund, bill.major_illness, bill.assistance, bill.veterans, bill.person):
        assert share >= 0 and share == share.quantize(D("0.01"))
    assert bill.fund <= bill.in_scope
    assert bill.paid_by_others <= bill.in_scope
    for payer, total in (
        ("fund", bill.fund),
        ("major_illness", bill.major_illness),
        ("assistance", bill.assistance),
        ("veterans", bill.veterans),
    ):
        assert sum((ln.amount for ln in bill.lines if ln.payer == payer), D("0.00")) == total
    # The person's lines are the burden before the later payers: they explain the person's share exactly.
    persons = sum((ln.amount for ln in bill.lines if ln.payer == "person"), D("0.00"))
    assert persons - bill.major_illness - bill.assistance - bill.veterans == bill.person
    for ln in bill.lines:
        assert ln.amount == ln.amount.quantize(D("0.01")) and ln.amount >= 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["inpatient", "special_disease", "outpatient"]), st.sampled_from([1, 2, 3]), money),
                min_size=1, max_size=8),
       st.decimals(min_value=0, max_value=20_000, places=2))  # fmt: skip
def test_caps_hold_across_any_sequence_of_claims(claims: list, carried: D) -> None:
    ytd = Accumulators(carried_over_cap=carried)
    for care, level, amount in claims:
        bill = quote(QuoteContext("resident", "student_child", level, care, amount, ytd=ytd), POLICY)
        assert balanced(bill)
        ytd = bill.accumulators
        assert ytd.fund_paid <= D("180000.00") + carried
        assert ytd.outpatient_fund_paid <= D("4000.00")
        assert ytd.deductible_used <= D("500.00")


@settings(max_examples=200, deadline=None)
@given(contexts, st.decimals(min_value=0, max_value=100_000, places=2))
def test_person_share_never_falls_as_the_amount_grows(c: QuoteContext, more: D) -> None:
    small = quote(c, POLICY)
    large = quote(replace(c, in_scope=c.in_scope + more), POLICY)
    assert large.person >= small.person
    assert large.fund >= small.fund


def test_the_same_claims_in_one_year_give_the_same_totals_whatever_the_split_of_ytd() -> None:
    # Two stays in sequence: accumulators carry the deductible and the cap from the first to the second.
    a = quote(ctx(amount="100500.00"), POLICY)
    b = quote(ctx(amount="150000.00", ytd=a.accumulators), POLICY)
    # 1st: 100,000 × 85% = 85,000. 2nd: no deductible, 150,000 × 85% = 127,500 → only 95,000 left of 180,000.
    assert a.fund == D("85000.00") and b.fund == D("95000.00")
    assert codes(b)["over_cap"] == D("32500.00")


def test_one_bill_basic_then_major_illness_then_assistance() -> None:
    # Subsistence adult_low, level 3, 300,000 in scope, first claim of the year.
    # Basic: deductible 500; 299,500 × 65% = 194,675 → cap 180,000, 14,675 over; coinsurance 299,500 × 35% = 104,825.
    # Burden 500 + 104,825 + 14,675 = 120,000.
    # MI (favoured): threshold 21,202 / 2 = 10,601; 89,399 × 65% = 58,109.35; 20,000 × 70% = 14,000 → 72,109.35.
    # Left 47,890.65 → assistance 20,000 × 60% = 12,000 + 27,890.65 × 80% = 22,312.52 → 34,312.52.
    # Person 300,000 − 180,000 − 72,109.35 − 34,312.52 = 13,578.13.
    bill = quote(
        ctx(amount="300000.00", level=3, tier="adult_low", special_groups=frozenset({"subsistence"})), POLICY
    )
    assert (bill.fund, bill.major_illness, bill.assistance, bill.person) == (
        D("180000.00"), D("72109.35"), D("34312.52"), D("13578.13"))  # fmt: skip
    assert [ln.code for ln in bill.lines] == ["deductible", "basic_fund", "coinsurance", "over_cap", "major_illness.band1",
                                              "major_illness.band2", "assistance.inpatient_low", "assistance.inpatient_high"]  # fmt: skip
    assert bill.accumulators.assistance_inpatient_burden == D("47890.65")


def test_a_rate_above_one_in_the_policy_is_refused() -> None:
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    raw["basic"]["outpatient"]["ratio"]["value"] = "1.5"
    with pytest.raises(ValueError):
        parse_policy(json.dumps(raw))
    raw = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))
    del raw["basic"]["annual_cap"]["source"]
    with pytest.raises(ValueError):
        parse_policy(json.dumps(raw))
