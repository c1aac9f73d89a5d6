"""Benefit registrations (待遇登记). So far: the resident outpatient hospital (城乡居民门(急)诊就医登记).

A resident chooses one reformed level-2 hospital; its outpatient bills are then reimbursed at
level-1 rates; the choice may be changed any number of times (seed 000): a new choice replaces the
active one from the day it is made.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from svc_registration.domain.facility import KnownFacility, require_designated

RESIDENT_OUTPATIENT = "resident_outpatient"


@dataclass(frozen=True)
class BenefitRegistration:
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    kind: str
    facility_codes: tuple[str, ...]
    status: str  # active | replaced
    valid_from: date
    valid_to: date | None
    registered_by: str
    registered_at: datetime
    replaced_by: uuid.UUID | None = None

    def replaced_with(self, successor: "BenefitRegistration") -> "BenefitRegistration":
        return replace(self, status="replaced", valid_to=successor.valid_from, replaced_by=successor.id)


def choose_resident_outpatient_hospital(
    person_id: uuid.UUID, office_code: str, hospital: KnownFacility | None, hospital_code: str, today: date, by: str, at: datetime
) -> BenefitRegistration:
    require_designated(hospital, hospital_code, "hospital_code", programme="reformed_level2_outpatient", level=2)
    return BenefitRegistration(
        id=uuid.uuid4(),
        person_id=person_id,
        office_code=office_code,
        kind=RESIDENT_OUTPATIENT,
        facility_codes=(hospital_code,),
        status="active",
        valid_from=today,
        valid_to=None,
        registered_by=by,
        registered_at=at,
    )
