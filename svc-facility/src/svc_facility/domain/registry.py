"""A designated institution as the registry holds it, and the events that carry it to other services."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pydantic import BaseModel

from shared.errors import Conflict, Invalid
from shared.events.catalog import (
    FacilityDesignatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
    FacilityUpdatedV1,
)


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

    def suspended(self, reason: str | None) -> tuple[RegistryRecord, BaseModel]:
        if self.status != "designated":
            raise Conflict("invalid_transition", "当前状态不允许暂停", f"机构状态为 {self.status}")
        record = replace(self, status="suspended", version=self.version + 1)
        return record, FacilitySuspendedV1(**record.snapshot(), reason=reason or "")

    def terminated(self, reason: str | None) -> tuple[RegistryRecord, BaseModel]:
        if self.status == "terminated":
            raise Conflict("invalid_transition", "协议已解除")
        record = replace(self, status="terminated", version=self.version + 1)
        return record, FacilityTerminatedV1(**record.snapshot(), reason=reason or "")

    def reinstated(self, reason: str | None = None) -> tuple[RegistryRecord, BaseModel]:
        if self.status != "suspended":
            raise Conflict("invalid_transition", "只有暂停中的机构可以恢复", f"机构状态为 {self.status}")
        return self._updated(status="designated")

    def renewed(
        self, valid_to: date, on: date, reason: str | None = None
    ) -> tuple[RegistryRecord, BaseModel]:
        """Renewal before the agreement ends (续签): the agreement runs on to `valid_to`."""
        if self.status != "designated":
            raise Conflict("invalid_transition", "只有定点状态的机构可以续签", f"机构状态为 {self.status}")
        if self.agreement_valid_to is not None and on > self.agreement_valid_to:
            raise Conflict(
                "agreement_expired",
                "协议已到期，不能续签",
                f"协议于 {self.agreement_valid_to} 到期，须重新申请定点",
            )
        if self.agreement_valid_to is not None and valid_to <= self.agreement_valid_to:
            raise Invalid("invalid_agreement", "续签期限有误", f"新的到期日须晚于 {self.agreement_valid_to}",
                          errors=[{"field": "body.valid_to", "message": "须晚于现协议到期日"}])  # fmt: skip
        return self._updated(agreement_valid_to=valid_to)

    def changed(
        self,
        name: str | None,
        level: int | None,
        programmes: tuple[str, ...] | None,
        reason: str | None = None,
    ) -> tuple[RegistryRecord, BaseModel]:
        """A change of details (信息变更); a terminated agreement is closed to changes."""
        if self.status == "terminated":
            raise Conflict("invalid_transition", "协议已解除，不能变更")
        changes = {
            k: v for k, v in {"name": name, "level": level, "programmes": programmes}.items() if v is not None
        }
        if not changes:
            raise Invalid("nothing_to_change", "没有需要变更的信息")
        return self._updated(**changes)

    def _updated(self, **changes: object) -> tuple[RegistryRecord, BaseModel]:
        record = replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]
        return record, FacilityUpdatedV1(**record.snapshot())

    def snapshot(self) -> dict[str, Any]:
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
