"""The registry of designated institutions: public search for the apps, staff actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.http.fields import Text
from shared.http.pagination import Page, Pages
from shared.service import UoW
from svc_facility.domain.registry import RegistryRecord
from svc_facility.repository.registry import RegistryFilter
from svc_facility.usecases import registry as usecases

router = APIRouter(tags=["定点医药机构名录"])

Staff = Annotated[Principal, require_roles(Role.staff)]
Kind = Literal["medical_institution", "retail_pharmacy", "ltc_nursing", "disability_assessment"]
Programme = Literal[
    "tb_designated",
    "maternity",
    "special_disease",
    "reformed_level2_outpatient",
    "cross_province_direct",
    "long_term_care",
]


class RegistryEntryOut(BaseModel):
    code: str
    name: str
    kind: str
    institution_type: str | None
    level: int | None
    district_code: str
    office_code: str
    programmes: list[str]
    physical_hospital_code: str | None
    agreement_number: str | None
    agreement_valid_from: date | None
    agreement_valid_to: date | None
    status: str
    version: int


class RegistryPage(BaseModel):
    items: list[RegistryEntryOut]
    total: int
    page: int
    size: int


class StatusChangeIn(BaseModel):
    reason: Text = Field(min_length=2, max_length=500)
    version: int = Field(ge=1)


def shape(record: RegistryRecord) -> RegistryEntryOut:
    return RegistryEntryOut(**{**record.snapshot(), "programmes": list(record.programmes)})


@router.get("/public/registry", response_model=RegistryPage, summary="查询定点医药机构（公开）")
async def search(
    uow: UoW,
    name: Annotated[str | None, Query(max_length=50, description="名称包含")] = None,
    kind: Kind | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$", description="区县代码")] = None,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    programme: Programme | None = None,
    status: Literal["designated", "suspended", "terminated"] = "designated",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RegistryPage:
    where = RegistryFilter(
        name=name, kind=kind, district_code=district, level=level, programme=programme, status=status
    )
    records, total = await uow.read(usecases.search_registry, where, page=page, size=size)
    return RegistryPage(items=[shape(r) for r in records], total=total, page=page, size=size)


@router.get("/public/registry/{code}", response_model=RegistryEntryOut, summary="定点医药机构详情（公开）")
async def entry(code: Annotated[str, Field(max_length=20)], uow: UoW) -> RegistryEntryOut:
    return shape(await uow.read(usecases.registry_record, code))


class RenewIn(StatusChangeIn):
    valid_to: date = Field(description="续签后的协议到期日")


class ChangeIn(StatusChangeIn):
    name: Text | None = Field(None, max_length=200)
    level: int | None = Field(None, ge=1, le=3)
    programmes: list[Programme] | None = None


class HistoryOut(BaseModel):
    code: str
    version: int
    change: str
    by: str
    at: datetime
    reason: str | None
    details: dict


async def _change(
    uow: UoW, code: str, actor: Principal, body: StatusChangeIn, change: str, **arguments: object
) -> RegistryEntryOut:
    record = await uow.run(
        usecases.change_registry,
        actor,
        code,
        version=body.version,
        change=change,
        reason=body.reason,
        **arguments,
    )
    return shape(record)


@router.post("/registry/{code}/suspend", response_model=RegistryEntryOut, summary="暂停定点医药机构医保服务")
async def suspend(code: str, body: StatusChangeIn, actor: Staff, uow: UoW) -> RegistryEntryOut:
    return await _change(uow, code, actor, body, "suspended")


@router.post("/registry/{code}/reinstate", response_model=RegistryEntryOut, summary="恢复医保服务")
async def reinstate(code: str, body: StatusChangeIn, actor: Staff, uow: UoW) -> RegistryEntryOut:
    return await _change(uow, code, actor, body, "reinstated")


@router.post("/registry/{code}/terminate", response_model=RegistryEntryOut, summary="解除定点协议")
async def terminate(code: str, body: StatusChangeIn, actor: Staff, uow: UoW) -> RegistryEntryOut:
    return await _change(uow, code, actor, body, "terminated")


@router.post("/registry/{code}/renew", response_model=RegistryEntryOut, summary="协议到期前续签")
async def renew(code: str, body: RenewIn, actor: Staff, uow: UoW) -> RegistryEntryOut:
    return await _change(uow, code, actor, body, "renewed", valid_to=body.valid_to, on=uow.clock.today())


@router.patch("/registry/{code}", response_model=RegistryEntryOut, summary="定点医药机构信息变更")
async def change(code: str, body: ChangeIn, actor: Staff, uow: UoW) -> RegistryEntryOut:
    programmes = tuple(body.programmes) if body.programmes is not None else None
    return await _change(
        uow, code, actor, body, "changed", name=body.name, level=body.level, programmes=programmes
    )


@router.get("/registry/{code}/history", response_model=Page[HistoryOut], summary="变更记录（谁、何时、为何）")
async def history(code: str, actor: Staff, uow: UoW, pages: Pages) -> dict:
    return pages.of(await uow.read(usecases.registry_history, actor, code))
