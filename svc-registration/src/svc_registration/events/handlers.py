"""The events registration consumes: the subscription table."""

from shared.events.catalog import (
    FacilityDesignatedV1,
    FacilitySuspendedV1,
    FacilityTerminatedV1,
    FacilityUpdatedV1,
    TransferCertificateIssuedV1,
    TransferCompletedV1,
    TransferTransferredOutV1,
)
from shared.events.consumer import Subscription
from svc_registration.usecases.benefits import record_facility
from svc_registration.usecases.enrollments import (
    record_certificate,
    record_transfer_completed,
    record_transferred_out,
)

# Every registry event carries the whole record, so one use case keeps the projection.
SUBSCRIPTIONS = [
    Subscription(FacilityDesignatedV1, record_facility),
    Subscription(FacilityUpdatedV1, record_facility),
    Subscription(FacilitySuspendedV1, record_facility),
    Subscription(FacilityTerminatedV1, record_facility),
    # A person who moved to another region: their stopped coverage here is marked transferred out.
    Subscription(TransferTransferredOutV1, record_transferred_out),
    # A person who moved here: the contribution history from the other region is merged.
    Subscription(TransferCompletedV1, record_transfer_completed),
    # 参保凭证 issued by transfer: shown on the person's record.
    Subscription(TransferCertificateIssuedV1, record_certificate),
]
