"""The events settlement consumes: the subscription table."""

from typing import Any

from shared import holiday_notices
from shared.events.consumer import Subscription
from shared.projections import facility_subscriptions
from svc_settlement.models import facilities

SUBSCRIPTIONS: list[Subscription[Any]] = [
    # The facility registry as settlement sees it (shared.projections: the newest version wins).
    *facility_subscriptions(facilities),
    # The State Council's holiday notice, published in claims: loaded into this process's working calendar.
    holiday_notices.SUBSCRIPTION,
]
