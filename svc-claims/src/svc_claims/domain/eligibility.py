"""Eligibility: a person is eligible on a date when a coverage of theirs includes that date."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Coverage:
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: str
    tier: str | None
    benefit_start: date
    benefit_end: date | None  # None: open-ended (employee coverage until interrupted)
    unit_code: str | None = None  # employees: the unit that may read their eligibility
    category: str | None = None  # employees: in_service | retired
    special_groups: tuple[str, ...] = ()
    ended_reason: str | None = (
        None  # death, emigration, transfer_out … (registration.terminated, transfer.transferred_out)
    )
    sex: str | None = None  # male | female as the person's record has it; None: not recorded
    # Each special group with its evidence and validity ({"group", "valid_from", "valid_to", …}, ISO dates).
    special_group_records: tuple[dict[str, Any], ...] = ()

    def covers(self, day: date) -> bool:
        return self.benefit_start <= day and (self.benefit_end is None or day <= self.benefit_end)

    def special_groups_on(self, day: date) -> frozenset[str]:
        """The groups whose certification is valid on the day; without records (older events) the listed groups."""
        if not self.special_group_records:
            return frozenset(self.special_groups)
        return frozenset(
            r["group"]
            for r in self.special_group_records
            if _within(day, r.get("valid_from"), r.get("valid_to"))
        )


def _within(day: date, start: str | None, end: str | None) -> bool:
    return (start is None or date.fromisoformat(start) <= day) and (
        end is None or day <= date.fromisoformat(end)
    )


@dataclass(frozen=True)
class Entitlement:
    """A benefit registration (special disease, remote care and its class, maternity …) from registration."""

    registration_id: uuid.UUID
    person_id: uuid.UUID
    kind: str
    facility_codes: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    status: str  # active | replaced | expired
    details: dict[str, Any]

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Eligibility:
    person_id: uuid.UUID
    on: date
    eligible: bool
    reason: str
    coverage: Coverage | None
    entitlements: tuple[Entitlement, ...] = ()


def eligibility_on(
    person_id: uuid.UUID, day: date, coverages: Sequence[Coverage], entitlements: Sequence[Entitlement] = ()
) -> Eligibility:
    # While employee insurance is paid only employee benefits apply (seed 001 九.3): it comes first.
    for coverage in sorted(coverages, key=lambda c: (c.scheme != "employee", c.benefit_start)):
        if coverage.covers(day):
            applying = tuple(e for e in entitlements if e.applies_on(day))
            return Eligibility(person_id, day, True, "在待遇享受期内", coverage, applying)
    if coverages:
        return Eligibility(person_id, day, False, "该日期不在任何待遇享受期内", None)
    return Eligibility(person_id, day, False, "无有效参保记录", None)
