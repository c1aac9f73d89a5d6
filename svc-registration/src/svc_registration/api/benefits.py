"""Benefit registration endpoints (待遇登记)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.service import UoW
from svc_registration import usecases
from svc_registration.domain.benefit import BenefitRegistration

router = APIRouter(prefix="/benefit-registrations", tags=["待遇登记"])

Applicant = Annotated[Principal, require_roles(Role.insured, Role.staff)]


class ResidentOutpatientIn(BaseModel):
    hospital_code: str = Field(pattern=r"^[A-Z]\d{11}$", description="所选改革二级定点医院编码")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


class BenefitRegistrationOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    kind: str
    facility_codes: list[str]
    status: str
    valid_from: date
    valid_to: date | None
    registered_by: str
    registered_at: datetime
    replaced_by: uuid.UUID | None


def shape(r: BenefitRegistration) -> dict:
    return BenefitRegistrationOut(**{**r.__dict__, "facility_codes": list(r.facility_codes)}).model_dump(mode="json")


@router.post("/resident-outpatient", status_code=201, response_model=BenefitRegistrationOut, summary="城乡居民门（急）诊就医登记")
async def resident_outpatient(
    body: ResidentOutpatientIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def register() -> tuple[int, dict]:
        return 201, shape(await usecases.register_resident_outpatient(uow, body.person_id, body.hospital_code, actor))

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


@router.get("/{registration_id}", response_model=BenefitRegistrationOut, summary="查看待遇登记")
async def get_benefit(registration_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW) -> dict:
    async with uow:
        return shape(await usecases.visible_benefit(uow, registration_id, actor))
