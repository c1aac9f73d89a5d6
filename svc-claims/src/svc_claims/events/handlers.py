"""The events claims consumes: the subscription table."""

from shared.events.catalog import RegistrationApprovedV1, RegistrationStoppedV1, RegistrationSuspendedV1, RegistrationTerminatedV1
from shared.events.consumer import Subscription
from svc_claims.usecases import (
    record_approved_registration,
    record_stopped_registration,
    record_suspended_registration,
    record_terminated_registration,
)

SUBSCRIPTIONS = [
    Subscription(RegistrationApprovedV1, record_approved_registration),
    Subscription(RegistrationStoppedV1, record_stopped_registration),
    Subscription(RegistrationSuspendedV1, record_suspended_registration),
    Subscription(RegistrationTerminatedV1, record_terminated_registration),
]
