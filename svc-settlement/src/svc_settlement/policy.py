"""Policy data of the settlement (data/policy.json): values the documents do not give, clearly labelled SAMPLE."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _policy() -> dict:
    return json.loads(
        resources.files("svc_settlement.data").joinpath("policy.json").read_text(encoding="utf-8")
    )


def reserve_rate(year: int) -> Decimal:
    """The assessment reserve rate (考核预留比例) of an agreement year (SAMPLE: 5% unless the year is set)."""
    rate = _policy()["assessment_reserve_rate"]
    return Decimal(rate["by_year"].get(str(year), rate["default"]))


def reserve_rate_is_sample() -> bool:
    return bool(_policy()["assessment_reserve_rate"]["sample"])
