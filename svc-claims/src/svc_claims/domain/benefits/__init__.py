"""The benefit engine (issue 5, item 2): policy as data, a pure computation, an explained bill.

- ``policy``: the shape of a policy file (region, scheme, year), validated on load;
- ``model``: the claim's context, the year's accumulators, the bill and its lines;
- ``engine.quote``: basic insurance → major illness → medical assistance / veterans, in one bill;
- ``rollover.next_year``: deductible relief and the carried-over outpatient cap from one year to the next.
"""

from svc_claims.domain.benefits.engine import continues_stay, family_doctor_effective, quote
from svc_claims.domain.benefits.model import (
    INPATIENT_LIKE,
    OUTPATIENT_LIKE,
    PAYERS,
    STAYS,
    ZERO,
    Accumulators,
    Bill,
    CareType,
    Line,
    Payer,
    QuoteContext,
    QuoteError,
    RemoteClass,
    Rule,
)  # fmt: skip
from svc_claims.domain.benefits.rollover import claimed_outpatient, next_year

__all__ = [
    "INPATIENT_LIKE",
    "OUTPATIENT_LIKE",
    "PAYERS",
    "STAYS",
    "ZERO",
    "Accumulators",
    "Bill",
    "CareType",
    "Line",
    "Payer",
    "QuoteContext",
    "QuoteError",
    "RemoteClass",
    "Rule",
    "claimed_outpatient",
    "continues_stay",
    "family_doctor_effective",
    "next_year",
    "quote",
]  # fmt: skip
