"""Eligibility endpoints."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.auth.dependencies import CurrentPrincipal
from shared.errors import NotFound
from shared.service import UoW
from svc_claims.domain.eligibility import Eligibility
from svc_claims.usecases import eligibility as usecases

router = APIRouter(tags=["待遇资格"])


class CoverageOut(BaseModel):
    enrollment_id: uuid.UUID
    office_code: str
    scheme: str
    tier: str | None
    benefit_start: date
    benefit_end: date | None
    unit_code: str | None = None
    category: str | None = None
    special_groups: list[str] = []


class EntitlementOut(BaseModel):
    registration_id: uuid.UUID
    kind: str = Field(
        description="待遇登记类别：special_disease 门特、remote_care 异地就医备案（details.remote_class）、pregnancy 妊娠登记……"
    )
    facility_codes: list[str]
    valid_from: date
    valid_to: date | None
    details: dict


class EligibilityOut(BaseModel):
    person_id: uuid.UUID
    on: date
    eligible: bool
    reason: str
    coverage: CoverageOut | None
    entitlements: list[EntitlementOut] = Field([], description="该日有效的待遇登记")


def shape(e: Eligibility) -> EligibilityOut:
    coverage = None
    if e.coverage is not None:
        c = e.coverage
        coverage = CoverageOut(
            enrollment_id=c.enrollment_id,
            office_code=c.office_code,
            scheme=c.scheme,
            tier=c.tier,
            benefit_start=c.benefit_start,
            benefit_end=c.benefit_end,
            unit_code=c.unit_code,
            category=c.category,
            special_groups=list(c.special_groups),
        )
    entitlements = [
        EntitlementOut(registration_id=x.registration_id, kind=x.kind, facility_codes=list(x.facility_codes), valid_from=x.valid_from,
                       valid_to=x.valid_to, details=x.details)
        for x in e.entitlements
    ]  # fmt: skip
    return EligibilityOut(
        person_id=e.person_id,
        on=e.on,
        eligible=e.eligible,
        reason=e.reason,
        coverage=coverage,
        entitlements=entitlements,
    )


@router.get("/eligibility/me", response_model=EligibilityOut, summary="我的待遇资格")
async def my_eligibility(
    actor: CurrentPrincipal, uow: UoW, on: date | None = Query(None, description="就医日期")
):
    if actor.person_id is None:
        raise NotFound("参保人资格记录")
    return shape(await uow.read(usecases.eligibility, actor, actor.person_id, day=on))


@router.get("/persons/{person_id}/eligibility", response_model=EligibilityOut, summary="参保人待遇资格")
async def person_eligibility(
    person_id: uuid.UUID,
    actor: CurrentPrincipal,
    uow: UoW,
    on: date | None = Query(None, description="就医日期"),
):
    return shape(await uow.read(usecases.eligibility, actor, person_id, day=on))
