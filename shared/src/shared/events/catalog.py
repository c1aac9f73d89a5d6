"""Every event payload of the platform, versioned. Changes within a version are additive only.

The AsyncAPI document in docs/events/ is generated from this module and the services'
subscription tables (`yb-local asyncapi`).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events.registry import event

Scheme = Literal["employee", "flexible", "resident"]


class _Payload(BaseModel):
    # Unknown fields are kept: a newer producer's additive fields must not break an older consumer.
    model_config = ConfigDict(extra="allow", frozen=True)


@event("registration.approved", 1, producer="registration", summary="参保登记审核通过，待遇享受期生效")
class RegistrationApprovedV1(_Payload):
    enrollment_id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    tier: str | None = None
    special_groups: list[str] = []
    benefit_start: date
    benefit_end: date


@event("claims.eligible", 1, producer="claims", summary="参保人在待遇享受期内具备报销资格")
class ClaimsEligibleV1(_Payload):
    person_id: uuid.UUID
    enrollment_id: uuid.UUID
    office_code: str
    scheme: Scheme
    tier: str | None = None
    benefit_start: date
    benefit_end: date
