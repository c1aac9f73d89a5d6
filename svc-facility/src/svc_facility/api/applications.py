"""Applications for designation (定点申请): the applicant files and supplements; district staff decide."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import CurrentPrincipal, require_roles
from shared.directory import office_by_code
from shared.errors import Problem
from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.service import UoW
from svc_facility.api.registry import Programme, RegistryEntryOut
from svc_facility.api.registry import shape as shape_record
from svc_facility.domain.application import Application
from svc_facility.domain.deadline import ClockStatus
from svc_facility.domain.eligibility import ApplicantFacts, UnmetCondition
from svc_facility.usecases import applications as flow

router = APIRouter(prefix="/applications", tags=["定点申请"])

Applicant = Annotated[Principal, require_roles(Role.facility)]
Staff = Annotated[Principal, require_roles(Role.staff)]
Items = Annotated[list[Text], Field(min_length=1, max_length=100)]


class ApplicationIn(BaseModel):
    name: Text = Field(max_length=200, description="机构名称")
    district_code: str = Field(pattern=r"^\d{6}$", description="所在区代码")
    office_code: str = Field(pattern=r"^\d{6}$", description="受理的区分中心代码")
    facts: ApplicantFacts = Field(description="机构自评信息")
    materials: list[Text] = Field(default_factory=list, max_length=100, description="已提交的材料")


class ApplicationView(BaseModel):
    application: Application
    clock: ClockStatus
    missing_materials: list[str]
    unmet_conditions: list[UnmetCondition]


class Versioned(BaseModel):
    version: int = Field(ge=1, description="当前版本号")


class SupplementRequestIn(Versioned):
    missing: Items


class SupplementIn(Versioned):
    materials: Items


class AcceptIn(Versioned):
    reason: Text | None = Field(None, max_length=500)


class RefuseIn(Versioned):
    reasons: Items


class StartReviewIn(Versioned):
    reviewers: list[Text] = Field(default_factory=list, max_length=20)


class ReviewIn(Versioned):
    reviewers: Items
    scores: dict[str, float] = Field(default_factory=dict)
    conclusion: Text = Field(max_length=2000)
    passed: bool


class NoticeIn(Versioned):
    starts_on: date
    ends_on: date


class NoticeCloseIn(Versioned):
    objections: list[Text] = Field(default_factory=list, max_length=100)
    upheld: bool = False


class AgreementIn(Versioned):
    number: Text = Field(max_length=60)
    valid_from: date
    valid_to: date
    parties: Items
    level: int | None = Field(None, ge=1, le=3, description="医疗机构级别")
    programmes: list[Programme] = Field(default_factory=list)


class WithdrawIn(Versioned):
    reason: Text | None = Field(None, max_length=500)


class DesignatedOut(BaseModel):
    application: ApplicationView
    registry_entry: RegistryEntryOut


class ApplicationPage(BaseModel):
    items: list[ApplicationView]
    total: int
    page: int
    size: int


def view(app: Application, today: date) -> ApplicationView:
    return ApplicationView(
        application=app,
        clock=flow.clock_of(app, today),
        missing_materials=app.missing_materials(),
        unmet_conditions=app.unmet_conditions(today),
    )


def _check_office(body: ApplicationIn) -> None:
    office = office_by_code(body.office_code)
    if office is None or office.level != "district":
        raise Problem(
            422,
            "unknown_office",
            "受理机构不存在",
            "请选择所在区的医保分中心",
            errors=[{"field": "body.office_code", "message": "未知的区分中心"}],
        )


@router.post("", status_code=201, response_model=ApplicationView, summary="提交定点申请")
async def submit(
    body: ApplicationIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None
):
    _check_office(body)

    async def file() -> tuple[int, Any]:
        app = await flow.submit(
            uow, actor, name=body.name, district_code=body.district_code, office_code=body.office_code,
            facts=body.facts, materials=body.materials,
        )  # fmt: skip
        return 201, view(app, uow.clock.today()).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, file)


@router.get(
    "", response_model=ApplicationPage, summary="定点申请列表（申请机构看自己的，经办人员看本分中心的）"
)
async def list_applications(
    actor: CurrentPrincipal,
    uow: UoW,
    status: Annotated[str | None, Query(max_length=30)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ApplicationPage:
    apps, total = await uow.read(flow.listed, actor, status=status, page=page, size=size)
    return ApplicationPage(
        items=[view(a, uow.clock.today()) for a in apps], total=total, page=page, size=size
    )


@router.get("/{application_id}", response_model=ApplicationView, summary="定点申请详情与办理时限")
async def get_application(application_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW) -> ApplicationView:
    return view(await uow.read(flow.visible, actor, application_id), uow.clock.today())


async def _step(
    uow: UoW, application_id: uuid.UUID, actor: Principal, action: str, body: Versioned, **arguments: Any
) -> ApplicationView:
    app = await uow.run(flow.act, actor, application_id, action=action, version=body.version, **arguments)
    return view(app, uow.clock.today())


@router.post(
    "/{application_id}/request-supplement",
    response_model=ApplicationView,
    summary="一次性告知需补正的全部材料",
)
async def request_supplement(
    application_id: uuid.UUID, body: SupplementRequestIn, actor: Staff, uow: UoW
) -> ApplicationView:
    return await _step(uow, application_id, actor, "request_supplement", body, missing=body.missing)


@router.post("/{application_id}/supplement", response_model=ApplicationView, summary="补正材料")
async def supplement(
    application_id: uuid.UUID, body: SupplementIn, actor: Applicant, uow: UoW
) -> ApplicationView:
    return await _step(uow, application_id, actor, "supplement", body, materials=body.materials)


@router.post("/{application_id}/accept", response_model=ApplicationView, summary="受理")
async def accept(application_id: uuid.UUID, body: AcceptIn, actor: Staff, uow: UoW) -> ApplicationView:
    return await _step(uow, application_id, actor, "accept", body, reason=body.reason)


@router.post("/{application_id}/refuse", response_model=ApplicationView, summary="不予受理（说明理由）")
async def refuse(application_id: uuid.UUID, body: RefuseIn, actor: Staff, uow: UoW) -> ApplicationView:
    return await _step(uow, application_id, actor, "refuse", body, reasons=body.reasons)


@router.post("/{application_id}/start-review", response_model=ApplicationView, summary="组织专家评估")
async def start_review(
    application_id: uuid.UUID, body: StartReviewIn, actor: Staff, uow: UoW
) -> ApplicationView:
    return await _step(uow, application_id, actor, "start_review", body, reviewers=body.reviewers)


@router.post("/{application_id}/review", response_model=ApplicationView, summary="记录专家评估结论")
async def review(application_id: uuid.UUID, body: ReviewIn, actor: Staff, uow: UoW) -> ApplicationView:
    return await _step(
        uow, application_id, actor, "record_review", body,
        reviewers=body.reviewers, scores=body.scores, conclusion=body.conclusion, passed=body.passed,
    )  # fmt: skip


@router.post("/{application_id}/public-notice", response_model=ApplicationView, summary="开始公示")
async def open_notice(application_id: uuid.UUID, body: NoticeIn, actor: Staff, uow: UoW) -> ApplicationView:
    return await _step(
        uow, application_id, actor, "open_public_notice", body, starts_on=body.starts_on, ends_on=body.ends_on
    )


@router.post(
    "/{application_id}/public-notice/close", response_model=ApplicationView, summary="公示结束（异议处理）"
)
async def close_notice(
    application_id: uuid.UUID, body: NoticeCloseIn, actor: Staff, uow: UoW
) -> ApplicationView:
    return await _step(
        uow,
        application_id,
        actor,
        "close_public_notice",
        body,
        objections=body.objections,
        upheld=body.upheld,
    )


@router.post(
    "/{application_id}/agreement", response_model=DesignatedOut, summary="签订医保服务协议，纳入定点"
)
async def sign(application_id: uuid.UUID, body: AgreementIn, actor: Staff, uow: UoW) -> DesignatedOut:
    app, record = await uow.run(
        flow.sign_agreement, actor, application_id, version=body.version, level=body.level, programmes=body.programmes,
        number=body.number, valid_from=body.valid_from, valid_to=body.valid_to, parties=body.parties,
    )  # fmt: skip
    return DesignatedOut(application=view(app, uow.clock.today()), registry_entry=shape_record(record))


@router.post("/{application_id}/withdraw", response_model=ApplicationView, summary="撤回申请")
async def withdraw(
    application_id: uuid.UUID, body: WithdrawIn, actor: Applicant, uow: UoW
) -> ApplicationView:
    return await _step(uow, application_id, actor, "withdraw", body, reason=body.reason)
