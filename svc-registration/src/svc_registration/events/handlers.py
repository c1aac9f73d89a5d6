"""The events registration consumes: the subscription table."""

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from pydantic import BaseModel

from shared import holiday_notices
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalog import (
    ClaimsPaidV1,
    TransferCertificateIssuedV1,
    TransferCompletedV1,
    TransferTransferredOutV1,
)
from shared.events.consumer import Handler, Subscription
from shared.projections import facility_subscriptions
from svc_registration.models import facilities
from svc_registration.usecases.contributions import credit_transfer_in, is_withdrawal, record_withdrawal_paid
from svc_registration.usecases.enrollments import (
    record_certificate,
    record_transfer_completed,
    record_transferred_out,
)

E = TypeVar("E", bound=BaseModel)


async def transfer_completed(uow: UnitOfWork, envelope: Envelope, event: TransferCompletedV1) -> None:
    """The contribution history joins the person's record and the balance is credited to the account."""
    await record_transfer_completed(uow, envelope, event)
    await credit_transfer_in(uow, envelope, event)


def on(
    model: type[E],
    handler: Callable[[UnitOfWork, Envelope, E], Awaitable[None]],
    concerns: Callable[[E], bool] | None = None,
) -> Subscription:
    """A subscription whose use case takes the event's own model (the consumer validates the payload as `model`)."""
    return Subscription(model, cast(Handler, handler), concerns)


SUBSCRIPTIONS = [
    # The facility registry as registration sees it (shared.projections: the newest version wins).
    *facility_subscriptions(facilities),
    # A person who moved to another region: their stopped coverage here is marked transferred out.
    on(TransferTransferredOutV1, record_transferred_out),
    # A person who moved here: the contribution history from the other region is merged, the balance credited.
    on(TransferCompletedV1, transfer_completed),
    # 参保凭证 issued by transfer: shown on the person's record.
    on(TransferCertificateIssuedV1, record_certificate),
    # The State Council's holiday notice, published in claims: loaded into this process's working calendar.
    holiday_notices.SUBSCRIPTION,
    # A one-time withdrawal paid by claims debits the personal account; other payments, most of them,
    # are passed over before any transaction.
    on(ClaimsPaidV1, record_withdrawal_paid, is_withdrawal),
]
