"""Enrollment endpoints: parse, call a use case, shape the answer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.identity import IdType
from shared.service import Runtime, UoW
from svc_registration import usecases
from svc_registration.domain.enrollment import Enrollment, ResidentTier

router = APIRouter(prefix="/enrollments", tags=["参保登记"])

Applicant = Annotated[Principal, require_roles(Role.insured, Role.staff)]
Staff = Annotated[Principal, require_roles(Role.staff)]


class PersonIn(BaseModel):
    id_type: IdType = Field(IdType.resident_id, description="证件类型")
    id_number: str = Field(min_length=5, max_length=40, description="证件号码")
    name: Text = Field(min_length=1, max_length=50, description="姓名")
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9\-]{5,20}$")


class ResidentEnrollmentIn(BaseModel):
    person: PersonIn
    office_code: str = Field(pattern=r"^\d{6}$", description="参保地经办机构（分中心）代码")
    tier: ResidentTier = Field(description="缴费档次")
    coverage_year: int = Field(ge=2004, le=2100, description="参保年度")


class DecisionIn(BaseModel):
    version: int = Field(ge=1, description="当前版本号，防止两人同时审批")


class ReasonIn(DecisionIn):
    reason: Text = Field(min_length=2, max_length=500)


class DecisionOut(BaseModel):
    by: str
    at: str
    outcome: str
    reason: str | None


class EnrollmentOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: str
    tier: str | None
    coverage_year: int
    status: str
    version: int
    benefit_start: date
    benefit_end: date
    decisions: list[DecisionOut]


def shape(e: Enrollment) -> dict:
    return EnrollmentOut(
        id=e.id,
        person_id=e.person_id,
        office_code=e.office_code,
        scheme=e.scheme.value,
        tier=e.tier.value if e.tier else None,
        coverage_year=e.coverage_year,
        status=e.status.value,
        version=e.version,
        benefit_start=e.benefit_start,
        benefit_end=e.benefit_end,
        decisions=[DecisionOut(by=d.by, at=d.at.isoformat(), outcome=d.outcome.value, reason=d.reason) for d in e.decisions],
    ).model_dump(mode="json")


@router.post(
    "/residents",
    status_code=201,
    response_model=EnrollmentOut,
    summary="城乡居民参保登记",
)
async def submit_resident_enrollment(
    body: ResidentEnrollmentIn,
    request: Request,
    actor: Applicant,
    uow: UoW,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
):
    command = usecases.SubmitResidentEnrollment(
        person=usecases.PersonDetails(**body.person.model_dump()),
        office_code=body.office_code,
        tier=body.tier,
        coverage_year=body.coverage_year,
    )
    key = runtime.settings.person_id_key.encode()

    async def submit() -> tuple[int, dict]:
        return 201, shape(await usecases.submit_resident_enrollment(uow, command, actor, key))

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, submit)


@router.get("/{enrollment_id}", response_model=EnrollmentOut, summary="查看参保登记")
async def get_enrollment(enrollment_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW) -> dict:
    async with uow:
        return shape(await usecases.visible_enrollment(uow, enrollment_id, actor))


@router.post(
    "/{enrollment_id}/approve",
    response_model=EnrollmentOut,
    summary="审核通过参保登记",
)
async def approve(enrollment_id: uuid.UUID, body: DecisionIn, actor: Staff, uow: UoW) -> dict:
    async with uow:
        approved = await usecases.approve_enrollment(uow, enrollment_id, body.version, actor)
        await uow.commit()
    return shape(approved)


@router.post(
    "/{enrollment_id}/reject",
    response_model=EnrollmentOut,
    summary="不予登记",
)
async def reject(enrollment_id: uuid.UUID, body: ReasonIn, actor: Staff, uow: UoW) -> dict:
    async with uow:
        rejected = await usecases.reject_enrollment(uow, enrollment_id, body.version, body.reason, actor)
        await uow.commit()
    return shape(rejected)


@router.post(
    "/{enrollment_id}/stop",
    response_model=EnrollmentOut,
    summary="中止参保（单位停保；转出前办理）",
)
async def stop(enrollment_id: uuid.UUID, body: ReasonIn, actor: Staff, uow: UoW) -> dict:
    async with uow:
        stopped = await usecases.stop_enrollment(uow, enrollment_id, body.version, body.reason, actor)
        await uow.commit()
    return shape(stopped)
