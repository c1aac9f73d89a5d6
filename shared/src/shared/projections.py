"""Projections a service keeps of another service's records, written once.

**The facility registry.** Claims, registration and settlement each keep a copy of facility's registry
in a table built by ``shared.tables.facility_projection`` (the columns every copy needs, then the
service's own). Every ``facility.*`` event carries the whole record, so any event rebuilds the row;
events may arrive out of order, so the newest version wins (``shared.db.upsert_newer``). A service
registers the four events in its subscription table::

    SUBSCRIPTIONS = [..., *facility_subscriptions(facilities)]

Each column of the table named like a field of the event takes the event's value (a list sorted, so
the row does not depend on the order the registry gave); ``recorded_at``, where the table has it, is
when this version was recorded. Tests and benchmarks seed a projection the same way, from a record
given as a mapping: ``await record_facility_if_newer(uow, facilities, {"code": …, "version": 1, …})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, func

from shared.db import UnitOfWork, upsert_newer
from shared.events.catalog import (
    FacilityDesignatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
    FacilityUpdatedV1,
)
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope

FacilityEvent = FacilityDesignatedV1 | FacilityUpdatedV1 | FacilitySuspendedV1 | FacilityTerminatedV1
FACILITY_EVENTS: tuple[type[FacilityEvent], ...] = (
    FacilityDesignatedV1,
    FacilityUpdatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
)


def facility_row(table: Table, record: Mapping[str, Any]) -> dict[str, Any]:
    """The projection's row for a registry record (its fields by name; those the table lacks are left out)."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in record:
            value = record[column.name]
            row[column.name] = sorted(value) if isinstance(value, list | set | frozenset) else value
    if "recorded_at" in table.columns:
        row["recorded_at"] = func.now()
    return row


async def record_facility_if_newer(uow: UnitOfWork, table: Table, record: Mapping[str, Any]) -> None:
    """The registry's record kept in `table`, unless a newer version of it is there already."""
    await upsert_newer(uow.session, table, facility_row(table, record))


async def record_facility(uow: UnitOfWork, table: Table, event: FacilityEvent) -> None:
    """The record a facility event carries, kept in `table` (newest version wins)."""
    await record_facility_if_newer(
        uow, table, {name: getattr(event, name) for name in type(event).model_fields}
    )


def facility_subscriptions(table: Table) -> list[Subscription[Any]]:
    """facility.designated / updated / suspended / terminated → the registry as the service sees it."""

    async def on_facility_event(uow: UnitOfWork, envelope: Envelope, event: FacilityEvent) -> None:
        await record_facility(uow, table, event)

    return [Subscription(model, on_facility_event) for model in FACILITY_EVENTS]
