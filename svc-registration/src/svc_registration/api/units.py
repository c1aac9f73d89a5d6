"""Unit endpoints (参保单位): registration, changes, employees."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.service import Runtime, UoW
from svc_registration.api.enrollments import (
    AtTheCounter,
    EnrollmentOut,
    LateRecordIn,
    PersonIn,
    counter_of,
    late_record_of,
    person_details,
    shape,
)
from svc_registration.domain.enrollment import Category, Status
from svc_registration.domain.unit import ChangeKind, Unit, UnitChange
from svc_registration.usecases import enrollments, units

router = APIRouter(prefix="/units", tags=["参保单位"])

UnitOrStaff = Annotated[Principal, require_roles(Role.unit, Role.staff)]
CreditCode = Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="统一社会信用代码")]


class UnitIn(AtTheCounter):
    code: CreditCode
    name: Text = Field(min_length=2, max_length=200, description="单位名称")
    legal_representative: Text = Field(min_length=1, max_length=100, description="法定代表人")
    office_code: str = Field(pattern=r"^\d{6}$", description="参保地经办机构（分中心）代码")


class UnitChangeIn(BaseModel):
    version: int = Field(ge=1)
    kind: ChangeKind = Field(description="变更类型")
    after: Text | None = Field(None, max_length=200, description="变更后的名称、代码或法定代表人")
    documents: list[Annotated[Text, Field(max_length=100)]] = Field(
        [], max_length=20, description="证明材料编号"
    )
    related_units: list[CreditCode] = Field([], max_length=20, description="分立后新单位或合并后存续单位")
    reason: Text | None = Field(None, max_length=500)


class EmployeeIn(AtTheCounter):
    person: PersonIn
    start: date | None = Field(None, description="参保日期（默认当天）")
    category: Category = Category.in_service
    permit_number: Text | None = Field(
        None, max_length=60, description="外籍及港澳台人员：就业许可或居住证件编号"
    )
    employment_proof: Text | None = Field(None, max_length=100, description="外籍及港澳台人员：就业证明编号")
    late_record: LateRecordIn | None = Field(
        None, description="参保日期早于本月时的补登（经办人员，凭缴费凭证）"
    )


class UnitChangeOut(BaseModel):
    kind: str
    by: str
    at: datetime
    reason: str | None
    documents: list[str]
    before: str | None
    after: str | None
    related_units: list[str]


class UnitOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    legal_representative: str
    office_code: str
    status: str
    version: int
    registered_at: datetime
    changes: list[UnitChangeOut]
    handling: dict | None = None


class EmployeesOut(BaseModel):
    items: list[EnrollmentOut]
    total: int
    page: int
    size: int


def shape_unit(u: Unit) -> dict:
    changes = [
        UnitChangeOut(
            **{
                **c.__dict__,
                "kind": c.kind.value,
                "documents": list(c.documents),
                "related_units": list(c.related_units),
            }
        )
        for c in u.changes
    ]
    return UnitOut(
        id=u.id,
        code=u.code,
        name=u.name,
        legal_representative=u.legal_representative,
        office_code=u.office_code,
        status=u.status.value,
        version=u.version,
        registered_at=u.registered_at,
        changes=changes,
        handling=u.handling,
    ).model_dump(mode="json")


@router.post("", status_code=201, response_model=UnitOut, summary="单位参保登记")
async def register_unit(
    body: UnitIn,
    request: Request,
    actor: UnitOrStaff,
    uow: UoW,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
):
    key = runtime.settings.person_id_key.encode()

    async def register() -> tuple[int, dict]:
        unit = await units.register_unit(
            uow,
            actor,
            body.code,
            name=body.name,
            legal_representative=body.legal_representative,
            office_code=body.office_code,
            person_key=key,
            counter=counter_of(body),
        )
        return 201, shape_unit(unit)

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


@router.get("/{code}", response_model=UnitOut, summary="查看参保单位")
async def get_unit(code: str, actor: UnitOrStaff, uow: UoW) -> dict:
    return shape_unit(await uow.read(units.visible_unit, actor, code))


@router.post(
    "/{code}/changes",
    response_model=UnitOut,
    summary="单位变更登记（名称、代码、法定代表人、暂停、注销、分立、合并）",
)
async def change_unit(code: str, body: UnitChangeIn, actor: UnitOrStaff, uow: UoW) -> dict:
    change = UnitChange(
        kind=body.kind,
        by=actor.subject,
        at=uow.clock.now(),
        reason=body.reason,
        documents=tuple(body.documents),
        after=body.after,
        related_units=tuple(body.related_units),
    )
    changed = await uow.run(units.change_unit, actor, code, change=change, version=body.version)
    return shape_unit(changed)


@router.post(
    "/{code}/employees",
    status_code=201,
    response_model=EnrollmentOut,
    summary="职工参保登记（增员，即时办结）",
)
async def enroll_employee(
    code: str,
    body: EmployeeIn,
    request: Request,
    actor: UnitOrStaff,
    uow: UoW,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
):
    command = enrollments.EnrollEmployee(
        person=person_details(body.person),
        start=body.start,
        category=body.category,
        permit_number=body.permit_number,
        employment_proof=body.employment_proof,
        counter=counter_of(body),
        late_record=late_record_of(body.late_record),
    )
    key = runtime.settings.person_id_key.encode()

    async def enroll() -> tuple[int, dict]:
        enrolled = await enrollments.enroll_employee(uow, actor, code, command=command, person_key=key)
        return 201, shape(enrolled).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, enroll)


@router.get("/{code}/employees", response_model=EmployeesOut, summary="单位职工参保信息查询")
async def employees(
    code: str,
    actor: UnitOrStaff,
    uow: UoW,
    status: Annotated[list[Status] | None, Query(description="按状态筛选")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    found, total = await uow.read(
        units.employees_of_unit,
        actor,
        code,
        statuses=[s.value for s in status or []],
        offset=(page - 1) * size,
        limit=size,
    )
    return EmployeesOut(items=[shape(e) for e in found], total=total, page=page, size=size).model_dump(
        mode="json"
    )
