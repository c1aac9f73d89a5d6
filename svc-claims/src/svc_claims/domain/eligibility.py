"""Eligibility: a person is eligible on a date when a coverage of theirs includes that date."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Coverage:
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: str
    tier: str | None
    benefit_start: date
    benefit_end: date | None  # None: open-ended (employee coverage until interrupted)

    def covers(self, day: date) -> bool:
        return self.benefit_start <= day and (self.benefit_end is None or day <= self.benefit_end)


@dataclass(frozen=True)
class Eligibility:
    person_id: uuid.UUID
    on: date
    eligible: bool
    reason: str
    coverage: Coverage | None


def eligibility_on(person_id: uuid.UUID, day: date, coverages: Sequence[Coverage]) -> Eligibility:
    # While employee insurance is paid only employee benefits apply (seed 001 九.3): it comes first.
    for coverage in sorted(coverages, key=lambda c: (c.scheme != "employee", c.benefit_start)):
        if coverage.covers(day):
            return Eligibility(person_id, day, True, "在待遇享受期内", coverage)
    if coverages:
        return Eligibility(person_id, day, False, "该日期不在任何待遇享受期内", None)
    return Eligibility(person_id, day, False, "无有效参保记录", None)
