"""The events claims consumes: the subscription table."""

from shared.events.catalog import RegistrationApprovedV1, RegistrationStoppedV1
from shared.events.consumer import Subscription
from svc_claims.usecases import record_approved_registration, record_stopped_registration

SUBSCRIPTIONS = [
    Subscription(RegistrationApprovedV1, record_approved_registration),
    Subscription(RegistrationStoppedV1, record_stopped_registration),
]
