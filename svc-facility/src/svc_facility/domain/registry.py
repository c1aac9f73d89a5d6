"""A designated institution as the registry holds it, and the events that carry it to other services."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from pydantic import BaseModel

from shared.errors import Problem
from shared.events.catalog import FacilityDesignatedV1, FacilitySuspendedV1, FacilityTerminatedV1, FacilityUpdatedV1


@dataclass(frozen=True)
class RegistryRecord:
    code: str
    name: str
    kind: str
    institution_type: str | None
    level: int | None
    district_code: str
    office_code: str
    programmes: tuple[str, ...]
    physical_hospital_code: str | None
    agreement_number: str | None
    agreement_valid_from: date | None
    agreement_valid_to: date | None
    status: str
    version: int

    def suspended(self, reason: str) -> tuple["RegistryRecord", BaseModel]:
        if self.status != "designated":
            raise Problem(409, "invalid_transition", "当前状态不允许暂停", f"机构状态为 {self.status}")
        record = replace(self, status="suspended", version=self.version + 1)
        return record, FacilitySuspendedV1(**record.snapshot(), reason=reason)

    def terminated(self, reason: str) -> tuple["RegistryRecord", BaseModel]:
        if self.status == "terminated":
            raise Problem(409, "invalid_transition", "协议已解除")
        record = replace(self, status="terminated", version=self.version + 1)
        return record, FacilityTerminatedV1(**record.snapshot(), reason=reason)

    def snapshot(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "institution_type": self.institution_type,
            "level": self.level,
            "district_code": self.district_code,
            "office_code": self.office_code,
            "programmes": list(self.programmes),
            "physical_hospital_code": self.physical_hospital_code,
            "agreement_number": self.agreement_number,
            "agreement_valid_from": self.agreement_valid_from,
            "agreement_valid_to": self.agreement_valid_to,
            "status": self.status,
            "version": self.version,
        }


def announcement(record: RegistryRecord, first_time: bool) -> BaseModel:
    """The event that tells other services about this record as it now stands."""
    if record.status == "suspended":
        return FacilitySuspendedV1(**record.snapshot(), reason="")
    if record.status == "terminated":
        return FacilityTerminatedV1(**record.snapshot(), reason="")
    return (FacilityDesignatedV1 if first_time else FacilityUpdatedV1)(**record.snapshot())
