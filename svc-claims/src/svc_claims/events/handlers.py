"""The events claims consumes: the subscription table."""

from typing import Any

from shared import holiday_notices
from shared.events.catalog import (
    AccountCreditedV1,
    AccountDebitedV1,
    CalendarNoticesRequestedV1,
    RegistrationApprovedV1,
    RegistrationBenefitExpiredV1,
    RegistrationBenefitRegisteredV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
    TransferTransferredOutV1,
)
from shared.events.consumer import Subscription
from shared.projections import facility_subscriptions
from svc_claims.events.calendar import answer_request
from svc_claims.models import facilities
from svc_claims.usecases.accounts import record_account_entry
from svc_claims.usecases.eligibility import (
    record_approved_registration,
    record_benefit_expired,
    record_benefit_registered,
    record_stopped_registration,
    record_suspended_registration,
    record_terminated_registration,
    record_transferred_out,
)

SUBSCRIPTIONS: list[Subscription[Any]] = [
    Subscription(RegistrationApprovedV1, record_approved_registration),
    Subscription(RegistrationStoppedV1, record_stopped_registration),
    Subscription(RegistrationSuspendedV1, record_suspended_registration),
    Subscription(RegistrationTerminatedV1, record_terminated_registration),
    # Benefit registrations add entitlements (special disease, remote care and its class, maternity …).
    Subscription(RegistrationBenefitRegisteredV1, record_benefit_registered),
    Subscription(RegistrationBenefitExpiredV1, record_benefit_expired),
    # The personal account as registration books it (credits, transfers in, withdrawals); a transfer out allows
    # the withdrawal.
    Subscription(AccountCreditedV1, record_account_entry),
    Subscription(AccountDebitedV1, record_account_entry),
    Subscription(TransferTransferredOutV1, record_transferred_out),
    # The facility registry: a reimbursement names a known facility and is computed at its level.
    *facility_subscriptions(facilities),
    # The State Council's holiday notice, published in claims: loaded into this process's working calendar.
    holiday_notices.SUBSCRIPTION,
    # A process of any service started listening: the published notices are announced again (events/calendar.py).
    Subscription(CalendarNoticesRequestedV1, answer_request),
]
