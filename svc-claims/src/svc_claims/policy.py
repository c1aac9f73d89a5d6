"""Benefit policies on file: one JSON file per region, scheme and year in ``data/policies/``.

The schema is ``svc_claims.domain.benefits.policy`` (pure); this module reads the files (validated
on load: a broken or incomplete table is refused) and finds the one for a claim.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from svc_claims.domain.benefits.policy import LEVELS, TIERS, AssistanceGroup, Policy, VeteranGroup
from svc_claims.domain.maternity import AllowancePolicy, MaternityTable

POLICY_DIR = Path(__file__).parent / "data" / "policies"
Tier = str


class PolicyNotFound(LookupError):
    pass


def parse_policy(text: str) -> Policy:
    return Policy.model_validate_json(text)


@cache
def all_policies() -> dict[tuple[str, str, int], Policy]:
    found: dict[tuple[str, str, int], Policy] = {}
    for path in sorted(POLICY_DIR.glob("*.json")):
        policy = parse_policy(path.read_text(encoding="utf-8"))
        if policy.key in found:
            raise ValueError(f"重复的政策文件: {policy.key} ({path.name})")
        found[policy.key] = policy
    return found


def load_policy(region: str, scheme: str, year: int) -> Policy:
    """The policy for (region, scheme, year); PolicyNotFound when none is on file."""
    try:
        return all_policies()[(region, scheme, year)]
    except KeyError:
        raise PolicyNotFound(f"无 {region} {scheme} {year} 年度待遇政策") from None


MATERNITY_DIR = Path(__file__).parent / "data" / "maternity"


@cache
def maternity_tables() -> dict[tuple[str, str, int], MaternityTable]:
    found: dict[tuple[str, str, int], MaternityTable] = {}
    for path in sorted(MATERNITY_DIR.glob("*-maternity-*.json")):
        table = MaternityTable.model_validate_json(path.read_text(encoding="utf-8"))
        if (key := (table.region, table.scheme, table.year)) in found:
            raise ValueError(f"重复的生育保险政策文件: {key} ({path.name})")
        found[key] = table
    return found


def maternity_table(region: str, scheme: str, year: int) -> MaternityTable:
    """The maternity items of (region, scheme, year); PolicyNotFound when none is on file."""
    try:
        return maternity_tables()[(region, scheme, year)]
    except KeyError:
        raise PolicyNotFound(f"无 {region} {year} 年度{'居民' if scheme == 'resident' else '职工'}生育保险政策") from None


@cache
def allowance_policy(region: str) -> AllowancePolicy:
    policy = AllowancePolicy.model_validate_json((MATERNITY_DIR / "tianjin-employee-allowance-SAMPLE.json").read_text(encoding="utf-8"))
    if policy.region != region:
        raise PolicyNotFound(f"无 {region} 生育津贴政策")
    return policy


__all__ = ["Policy", "PolicyNotFound", "Tier", "TIERS", "LEVELS", "AssistanceGroup", "VeteranGroup", "POLICY_DIR",
           "load_policy", "parse_policy", "all_policies", "maternity_table", "allowance_policy"]  # fmt: skip
