"""Events registration consumes (facility and transfer events arrive with their issues)."""

from shared.events.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
