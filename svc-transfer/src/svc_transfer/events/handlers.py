"""The events transfer consumes: the subscription table."""

from typing import Any

from shared import holiday_notices
from shared.events.catalog import (
    AccountCreditedV1,
    AccountDebitedV1,
    RegistrationApprovedV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
)
from shared.events.consumer import Subscription
from svc_transfer.usecases.coverage import record_account, record_approved, record_ended, record_stopped

# Who is covered here (an incoming transfer needs it) and whose coverage stopped (a certificate needs it).
SUBSCRIPTIONS: list[Subscription[Any]] = [
    Subscription(RegistrationApprovedV1, record_approved),
    Subscription(RegistrationStoppedV1, record_stopped),
    Subscription(RegistrationSuspendedV1, record_ended),
    Subscription(RegistrationTerminatedV1, record_ended),
    # The personal account's balance after each entry (a certificate states it from records).
    Subscription(AccountCreditedV1, record_account),
    Subscription(AccountDebitedV1, record_account),
    # The State Council's holiday notice, published in claims: loaded into this process's working calendar.
    holiday_notices.SUBSCRIPTION,
]
