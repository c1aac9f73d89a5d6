"""The events settlement consumes: the subscription table."""

from shared import holiday_notices
from shared.events.catalog import (
    FacilityDesignatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
    FacilityUpdatedV1,
)
from shared.events.consumer import Subscription
from svc_settlement.usecases.facilities import record_facility

# Every registry event carries the whole record, so one use case keeps the projection (newest version wins).
SUBSCRIPTIONS: list[Subscription] = [
    Subscription(FacilityDesignatedV1, record_facility),
    Subscription(FacilityUpdatedV1, record_facility),
    Subscription(FacilitySuspendedV1, record_facility),
    Subscription(FacilityTerminatedV1, record_facility),
    # The State Council's holiday notice, published in claims: loaded into this process's working calendar.
    holiday_notices.SUBSCRIPTION,
]
