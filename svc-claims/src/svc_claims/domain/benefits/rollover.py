"""From one benefit year to the next: the entitlements the documents carry across years.

- 门诊起付线降低: a year whose in-scope ordinary outpatient cost did not exceed that year's outpatient
  deductible lowers next year's by 100 (two years in a row 200, three 300); a year with such a claim
  restores the full deductible from the next year.
- 门诊额度结转: when a year's in-scope outpatient cost stays below the outpatient cap, the difference
  (the whole cap if there was none) is added to the person's inpatient cap in later years,
  cumulatively. The carried amount is a balance: fund payments above the base annual cap use it up.
"""

from __future__ import annotations

from svc_claims.domain.benefits.model import ZERO, Accumulators
from svc_claims.domain.benefits.policy import Policy


def claimed_outpatient(year: Accumulators) -> bool:
    """Did the year's in-scope ordinary outpatient cost go above the deductible that applied that year?"""
    return year.outpatient_in_scope > year.outpatient_deductible_used


def next_year(year: Accumulators, policy: Policy) -> Accumulators:
    """The accumulators a new benefit year starts with, after ``year`` ran under ``policy``."""
    op = policy.basic.outpatient
    claim_free = (
        0
        if claimed_outpatient(year)
        else min(year.claim_free_years + 1, op.deductible_relief_max_years.value)
    )
    used = min(year.carried_over_cap, max(ZERO, year.fund_paid - policy.basic.annual_cap.value))
    carried = year.carried_over_cap - used
    if op.cap_carry_over.value:
        cap = op.cap.value + (op.family_doctor_cap_bonus.value if year.family_doctor else ZERO)
        cost = year.outpatient_in_scope + year.village_fee_in_scope
        carried += max(ZERO, cap - cost)
    return Accumulators(claim_free_years=claim_free, carried_over_cap=carried)
