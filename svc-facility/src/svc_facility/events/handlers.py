"""The events facility consumes: the subscription table."""

from shared import holiday_notices
from shared.events.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = [
    # The State Council's holiday notice, published in claims: loaded into this process's working calendar.
    holiday_notices.SUBSCRIPTION,
]
