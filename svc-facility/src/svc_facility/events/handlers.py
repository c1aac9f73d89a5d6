"""The events facility consumes: the subscription table."""

from shared.events.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
