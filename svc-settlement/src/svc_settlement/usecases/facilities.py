"""The local projection of the facility registry, kept from its events."""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events.catalog import (
    FacilityDesignatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
    FacilityUpdatedV1,
)
from shared.events.envelope import Envelope
from svc_settlement.repository import Repository

# Every registry event carries the whole record.
FacilityEvent = FacilityDesignatedV1 | FacilityUpdatedV1 | FacilitySuspendedV1 | FacilityTerminatedV1


async def record_facility(uow: UnitOfWork, envelope: Envelope, event: FacilityEvent) -> None:
    """facility.designated / updated / suspended / terminated → the local projection (newest version wins)."""
    await Repository(uow.session).record_facility_if_newer(
        {
            "code": event.code,
            "name": event.name,
            "kind": event.kind,
            "office_code": event.office_code,
            "district_code": event.district_code,
            "status": event.status,
            "version": event.version,
        }
    )
