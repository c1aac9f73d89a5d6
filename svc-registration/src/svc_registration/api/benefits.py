"""Benefit registration endpoints (待遇登记)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.service import UoW
from svc_registration import usecases
from svc_registration.domain.benefit import SPECIAL_DISEASES, BenefitRegistration
from svc_registration.domain.remote_care import LongTermCategory, RemoteKind, TripReason

router = APIRouter(prefix="/benefit-registrations", tags=["待遇登记"])

Applicant = Annotated[Principal, require_roles(Role.insured, Role.staff)]


class ResidentOutpatientIn(BaseModel):
    hospital_code: str = Field(pattern=r"^[A-Z]\d{11}$", description="所选改革二级定点医院编码")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


Disease = Literal[tuple(SPECIAL_DISEASES)]  # type: ignore[valid-type]
FacilityCode = Annotated[str, Field(pattern=r"^[A-Z]\d{11}$")]


class SpecialDiseaseIn(BaseModel):
    disease: Disease = Field(description="门特病种（13种之一）")
    certified_by: FacilityCode = Field(description="门特病鉴定医院编码")
    treatment_facility: FacilityCode = Field(description="选定的门特治疗定点医院或药店编码")
    certified_outside_city: bool = Field(False, description="首次鉴定在异地（返回本市就医须重新鉴定）")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


class RemoteCareIn(BaseModel):
    kind: RemoteKind = Field(description="long_term 长期居住；temporary 临时外出")
    destination: str = Field(pattern=r"^\d{6}$", description="就医地行政区划代码（省市县六位）")
    category: LongTermCategory | None = Field(None, description="长期居住人员类别：异地安置退休、异地长期居住、常驻异地工作")
    reason: TripReason | None = Field(None, description="临时外出原因：referral 转诊（有效期90天）；emergency 急诊（30天）")
    commitment: bool = Field(description="个人承诺书（承诺制）")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


class TreatmentFacilityIn(BaseModel):
    treatment_facility: FacilityCode


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
    details: dict


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


@router.post("/special-disease", status_code=201, response_model=BenefitRegistrationOut, summary="门诊特定疾病待遇登记")
async def special_disease(
    body: SpecialDiseaseIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def register() -> tuple[int, dict]:
        registration = await usecases.register_special_disease(
            uow, body.person_id, body.disease, body.certified_by, body.treatment_facility, body.certified_outside_city, actor
        )
        return 201, shape(registration)

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


@router.post("/remote-care", status_code=201, response_model=BenefitRegistrationOut, summary="跨省异地就医备案（长期居住、临时外出）")
async def remote_care(body: RemoteCareIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None):
    async def register() -> tuple[int, dict]:
        filing = await usecases.file_remote_care(
            uow, body.person_id, body.kind, body.destination, body.category, body.reason, body.commitment, actor
        )
        return 201, shape(filing)

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


@router.get("", response_model=list[BenefitRegistrationOut], summary="待遇登记查询（本人；经办人员按参保人）")
async def list_benefits(
    actor: Applicant, uow: UoW, person_id: uuid.UUID | None = None, kind: str | None = Query(None, max_length=40),
    status: Literal["active", "replaced", "expired"] | None = None,
) -> list[dict]:  # fmt: skip
    async with uow:
        return [shape(r) for r in await usecases.benefits_of_person(uow, person_id, kind, status, actor)]


@router.post("/{registration_id}/treatment-facility", response_model=BenefitRegistrationOut, summary="变更门特治疗医院或药店")
async def change_treatment_facility(registration_id: uuid.UUID, body: TreatmentFacilityIn, actor: Applicant, uow: UoW) -> dict:
    async with uow:
        registration = await usecases.change_treatment_facility(uow, registration_id, body.treatment_facility, actor)
        await uow.commit()
    return shape(registration)


@router.get("/{registration_id}", response_model=BenefitRegistrationOut, summary="查看待遇登记")
async def get_benefit(registration_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW) -> dict:
    async with uow:
        return shape(await usecases.visible_benefit(uow, registration_id, actor))
