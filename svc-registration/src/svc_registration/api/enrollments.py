"""Enrollment endpoints: parse, call a use case, shape the answer."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.errors import DomainError, Problem
from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, run_idempotent
from shared.http.pagination import Page, Pages
from shared.identity import IdType, mask_id
from shared.money import Money
from shared.service import Runtime, UoW
from svc_registration.domain.backdating import LateRecord
from svc_registration.domain.contribution import resident_contribution
from svc_registration.domain.enrollment import (
    Enrollment,
    Filer,
    FilerKind,
    ResidentTier,
    Scheme,
    Status,
    TerminationReason,
)
from svc_registration.domain.materials import Form
from svc_registration.domain.special_groups import FILEABLE, Department, SpecialGroup, SpecialGroupRecord
from svc_registration.usecases import counter, enrollments

router = APIRouter(prefix="/enrollments", tags=["参保登记"])

Applicant = Annotated[Principal, require_roles(Role.insured, Role.staff)]
Staff = Annotated[Principal, require_roles(Role.staff)]
UnitOrStaff = Annotated[Principal, require_roles(Role.unit, Role.staff)]
Reader = Annotated[Principal, require_roles(Role.insured, Role.unit, Role.staff)]
RecordReader = Annotated[Principal, require_roles(Role.insured, Role.unit, Role.staff, Role.admin)]


class PersonIn(BaseModel):
    id_type: IdType = Field(IdType.resident_id, description="证件类型")
    id_number: str = Field(min_length=5, max_length=40, description="证件号码")
    name: Text = Field(min_length=1, max_length=50, description="姓名")
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    phone: str | None = Field(None, pattern=r"^\+?[0-9\-]{5,20}$")


class AtTheCounter(BaseModel):
    """What a clerk received (窗口办理); self-service requests leave both out."""

    materials: dict[Annotated[str, Field(pattern=r"^[a-z_]{2,40}$")], Form] = Field(
        {},
        max_length=20,
        description="已收取的申请材料：材料代码 → original 原件 / copy 复印件 / commitment 承诺书；缺少的材料一次性告知",
    )
    proxy: PersonIn | None = Field(None, description="代办人（持本人有效身份证件）")


def counter_of(body: AtTheCounter) -> counter.Counter:
    return counter.Counter(dict(body.materials), person_details(body.proxy) if body.proxy else None)


FileableGroup = Literal[tuple(g.value for g in FILEABLE)]  # type: ignore[valid-type]


class SpecialGroupIn(BaseModel):
    """A special group as the certifying department recorded it (民政、残联、退役军人事务、老干部部门)."""

    group: FileableGroup = Field(description="特殊人员类别：" + "、".join(g.value for g in FILEABLE))  # type: ignore[valid-type]
    department: Department = Field(
        description="认定部门：civil_affairs 民政、disabled_persons_federation 残联、"
        "veterans_affairs 退役军人事务、cadre_bureau 老干部管理部门"
    )
    document_number: Text = Field(min_length=2, max_length=60, description="认定文书编号")
    valid_from: date = Field(description="认定有效期起")
    valid_to: date | None = Field(None, description="认定有效期止（空：长期有效，至撤销）")


def group_records(groups: list[SpecialGroupIn]) -> tuple[SpecialGroupRecord, ...]:
    return tuple(
        SpecialGroupRecord(SpecialGroup(g.group), g.department, g.document_number, g.valid_from, g.valid_to)
        for g in groups
    )


class LateRecordIn(BaseModel):
    """补登: coverage starting before the current contribution month (a past resident year, an employee's
    earlier start), made by staff of the office with the payment papers."""

    reason: Text = Field(min_length=2, max_length=500, description="补登原因")
    receipts: list[Annotated[Text, Field(min_length=2, max_length=60)]] = Field(
        min_length=1, max_length=60, description="税务部门缴费凭证（完税证明）编号，覆盖所补登的期间"
    )


def late_record_of(body: LateRecordIn | None) -> LateRecord | None:
    return LateRecord(body.reason, tuple(body.receipts)) if body else None


class ResidentEnrollmentIn(AtTheCounter):
    person: PersonIn
    office_code: str = Field(pattern=r"^\d{6}$", description="参保地经办机构（分中心）代码")
    tier: ResidentTier = Field(description="缴费档次")
    coverage_year: int = Field(ge=2004, le=2100, description="参保年度")
    paid_on: date | None = Field(None, description="缴费日期（默认当天）；决定待遇享受期")
    special_groups: list[SpecialGroupIn] = Field(
        [],
        max_length=12,
        description="特殊人员（低保、特困、低收入、重度残疾、优抚、救助对象等），"
        "每类附认定部门、文号和有效期；由市医保中心办理",
    )
    autumn_pupil: bool = Field(False, description="秋季入学新生集中参保（当年9月1日起享受待遇）")
    late_record: LateRecordIn | None = Field(None, description="补登已结束年度的参保（经办人员，凭缴费凭证）")


class FilerIn(BaseModel):
    kind: FilerKind = Field(description="集体参保单位类型：学校、村（居）委会、福利机构、乡镇（街道）")
    name: Text = Field(min_length=2, max_length=100)
    code: str | None = Field(None, max_length=30, pattern=r"^[0-9A-Za-z\-]+$", description="学校代码等")


class MemberIn(BaseModel):
    person: PersonIn
    tier: ResidentTier
    special_groups: list[SpecialGroupIn] = Field([], max_length=12)


class CollectiveFilingIn(AtTheCounter):
    filer: FilerIn
    office_code: str = Field(pattern=r"^\d{6}$")
    coverage_year: int = Field(ge=2004, le=2100)
    paid_on: date | None = None
    autumn_pupils: bool = Field(False, description="秋季入学新生（仅学校）：当年9月1日起享受待遇")
    members: list[MemberIn] = Field(min_length=1, max_length=2000)
    late_record: LateRecordIn | None = Field(
        None, description="补登已结束年度的集体参保（经办人员，凭缴费凭证）"
    )


class MemberResultOut(BaseModel):
    row: int
    enrollment: EnrollmentOut | None = None
    problem: dict | None = Field(None, description="该成员未参保的原因（problem+json 字段）")


class CollectiveFilingOut(BaseModel):
    accepted: int
    refused: int
    results: list[MemberResultOut]


class FlexibleEnrollmentIn(AtTheCounter):
    person: PersonIn
    office_code: str = Field(pattern=r"^\d{6}$", description="参保地经办机构（分中心）代码")
    paid_on: date | None = Field(None, description="缴费日期（默认当天）；缴费次日起享受待遇")
    late_record: LateRecordIn | None = Field(
        None, description="缴费日期早于本月时的补登（经办人员，凭缴费凭证）"
    )


class DecisionIn(BaseModel):
    version: int = Field(ge=1, description="当前版本号，防止两人同时审批")


class ReasonIn(DecisionIn):
    reason: Text = Field(min_length=2, max_length=500)


class InterruptIn(ReasonIn):
    last_day: date | None = Field(None, description="待遇截止日（默认当天）")


class TerminateIn(DecisionIn, AtTheCounter):
    reason: TerminationReason = Field(description="终止原因")
    last_day: date | None = Field(None, description="待遇截止日（默认当天；死亡为死亡日期）")
    note: Text | None = Field(None, max_length=500)


class ResumeIn(DecisionIn):
    start: date | None = Field(None, description="恢复参保日期（默认当天）")
    late_record: LateRecordIn | None = Field(
        None, description="恢复日期早于本月时的补登（经办人员，凭缴费凭证）"
    )


class PersonSearchIn(BaseModel):
    id_type: IdType = IdType.resident_id
    id_number: str = Field(min_length=5, max_length=40)


class DecisionOut(BaseModel):
    by: str
    at: datetime
    outcome: str
    reason: str | None


class SpecialGroupOut(BaseModel):
    group: str
    department: str
    document_number: str = Field(description="认定文号（证据登记前的旧记录为空）")
    valid_from: date
    valid_to: date | None


class ContributionOut(BaseModel):
    standard: Money
    personal: Money
    government: Money


class EnrollmentOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    scheme: Scheme
    tier: str | None
    coverage_year: int
    status: Status
    version: int
    benefit_start: date
    benefit_end: date | None = Field(description="待遇截止日；职工医保在职期间为空（长期）")
    period_rule: str
    period_explanation: str
    unit_code: str | None
    category: str | None
    special_groups: list[str]
    special_group_records: list[SpecialGroupOut] = Field(description="特殊人员的认定部门、文号和有效期")
    paid_on: date | None
    previous_id: uuid.UUID | None
    filer: dict | None = Field(None, description="集体参保单位")
    contribution: ContributionOut | None = Field(
        None, description="居民个人缴费标准与政府资助（文件未载明的年度为空）"
    )
    handling: dict | None = Field(None, description="办理渠道（窗口/网上）、收取的材料、代办人")
    late_record: dict | None = Field(None, description="补登：原因、缴费凭证、经办人和时间")
    decisions: list[DecisionOut]


class PersonOut(BaseModel):
    id: uuid.UUID
    id_type: str
    id_number_masked: str
    name: str
    sex: str | None
    birth_date: date | None
    office_code: str


class PersonFoundOut(BaseModel):
    person: PersonOut
    enrollments: list[EnrollmentOut]


def shape(e: Enrollment) -> EnrollmentOut:
    """The enrollment as answered: the model itself (FastAPI takes it as it is; a dict it would validate again)."""
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
        period_rule=e.period.rule,
        period_explanation=e.period.explanation,
        unit_code=e.unit_code,
        category=e.category.value if e.category else None,
        special_groups=[g.value for g in e.group_codes],
        special_group_records=[SpecialGroupOut(**r.as_dict()) for r in e.special_groups],
        paid_on=e.paid_on,
        previous_id=e.previous_id,
        filer={"kind": e.filer.kind.value, "name": e.filer.name, "code": e.filer.code} if e.filer else None,
        contribution=contribution_of(e),
        handling=e.handling,
        late_record=e.late_record,
        decisions=[
            DecisionOut(by=d.by, at=d.at, outcome=d.outcome.value, reason=d.reason) for d in e.decisions
        ],
    )


def contribution_of(e: Enrollment) -> ContributionOut | None:
    if e.tier is None:
        return None
    known = resident_contribution(e.coverage_year, e.tier, e.group_codes)
    return ContributionOut(**known.__dict__) if known else None


def person_details(body: PersonIn) -> counter.PersonDetails:
    return counter.PersonDetails(**body.model_dump())


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
    command = enrollments.SubmitResidentEnrollment(
        person=person_details(body.person),
        office_code=body.office_code,
        tier=body.tier,
        coverage_year=body.coverage_year,
        paid_on=body.paid_on,
        special_groups=group_records(body.special_groups),
        autumn_pupil=body.autumn_pupil,
        counter=counter_of(body),
        late_record=late_record_of(body.late_record),
    )
    key = runtime.settings.person_id_key.encode()

    async def submit() -> tuple[int, dict]:
        return 201, shape(
            await enrollments.submit_resident_enrollment(uow, actor, command, person_key=key)
        ).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, submit)


@router.post(
    "/residents/collective",
    response_model=CollectiveFilingOut,
    summary="城乡居民集体参保（学校、村居、福利机构、乡镇）",
)
async def file_collectively(
    body: CollectiveFilingIn,
    request: Request,
    actor: Staff,
    uow: UoW,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
):
    filing = enrollments.CollectiveFiling(
        filer=Filer(body.filer.kind, body.filer.name, body.filer.code),
        office_code=body.office_code,
        coverage_year=body.coverage_year,
        paid_on=body.paid_on,
        autumn_pupils=body.autumn_pupils,
        members=tuple(
            enrollments.CollectiveMember(person_details(m.person), m.tier, group_records(m.special_groups))
            for m in body.members
        ),
        counter=counter_of(body),
        late_record=late_record_of(body.late_record),
    )
    key = runtime.settings.person_id_key.encode()

    async def file() -> tuple[int, dict]:
        outcomes = await enrollments.file_collectively(uow, actor, filing, person_key=key)
        results = [
            MemberResultOut(
                row=o.row,
                enrollment=shape(o.enrollment) if o.enrollment else None,
                problem=problem_fields(o.refusal) if o.refusal else None,
            )
            for o in outcomes
        ]
        accepted = sum(1 for o in outcomes if o.enrollment)
        return 200, CollectiveFilingOut(
            accepted=accepted, refused=len(outcomes) - accepted, results=results
        ).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, file)


def problem_fields(p: DomainError | Problem) -> dict:
    return {"status": p.status, "code": p.code, "title": p.title, "detail": p.detail, "errors": p.errors}


@router.post("/flexible", status_code=201, response_model=EnrollmentOut, summary="灵活就业人员参保登记")
async def submit_flexible_enrollment(
    body: FlexibleEnrollmentIn,
    request: Request,
    actor: Applicant,
    uow: UoW,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,
):
    key = runtime.settings.person_id_key.encode()

    async def submit() -> tuple[int, dict]:
        enrollment = await enrollments.submit_flexible_enrollment(
            uow,
            actor,
            details=person_details(body.person),
            office_code=body.office_code,
            paid_on=body.paid_on,
            person_key=key,
            counter=counter_of(body),
            late_record=late_record_of(body.late_record),
        )
        return 201, shape(enrollment).model_dump(mode="json")

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, submit)


@router.get("", response_model=Page[EnrollmentOut], summary="参保记录查询（本人；经办人员按参保人）")
async def list_enrollments(actor: Reader, uow: UoW, pages: Pages, person_id: uuid.UUID | None = None) -> dict:
    found = await uow.read(enrollments.enrollments_of_person, actor, person_id=person_id)
    return pages.of([shape(e) for e in found])


class ContributionPeriodOut(BaseModel):
    """One period of the contribution history: a transfer-in (source transfer) or a month paid here through a
    contribution notice (source notice)."""

    source: Literal["transfer", "notice"] = Field(
        description="transfer 转入合并；notice 本地征缴单已缴费月份"
    )
    transfer_id: uuid.UUID | None = Field(None, description="转入：转移接续业务")
    from_office: str | None = Field(None, description="转入：转出地经办机构")
    office_code: str
    contribution_months: int = Field(description="缴费月数（征缴单：1）")
    account_balance: Money = Field(description="记入个人账户的金额：转入余额，或该月划入额")
    completed_on: date = Field(description="转入办结日，或该月缴费到账日")
    month: date | None = Field(None, description="征缴单：所缴月份（当月1日）")
    notice_number: str | None = Field(None, description="征缴单号")
    base: Money | None = Field(None, description="征缴单：缴费基数")


@router.get(
    "/contribution-history",
    response_model=Page[ContributionPeriodOut],
    summary="缴费历史：转入的缴费年限与个人账户，及本地征缴已缴费月份",
)
async def contribution_history(
    actor: Reader, uow: UoW, pages: Pages, person_id: uuid.UUID | None = None
) -> dict:
    rows = await uow.read(enrollments.contribution_history, actor, person_id=person_id)
    return pages.of([ContributionPeriodOut(**row).model_dump(mode="json") for row in rows])


class CertificateOut(BaseModel):
    number: str
    office_code: str
    scheme: str
    issued_on: date
    coverage_ended_on: date
    contribution_months: int
    account_balance: Money
    arrears: Money
    reissues: int
    document: str = Field(description="打印用 PDF（参保凭证由转移接续服务开具）")


@router.get(
    "/certificates", response_model=Page[CertificateOut], summary="参保凭证（本人；经办人员按参保人）"
)
async def certificates(actor: Reader, uow: UoW, pages: Pages, person_id: uuid.UUID | None = None) -> dict:
    rows = await uow.read(enrollments.certificates_of_person, actor, person_id=person_id)
    return pages.of(
        [
            CertificateOut(
                **{k: v for k, v in row.items() if k != "person_id"},
                document=f"/api/v1/transfer/certificates/{row['number']}/document.pdf",
            ).model_dump(mode="json")
            for row in rows
        ]
    )


@router.post("/search", response_model=PersonFoundOut, summary="按证件号码查询参保人（证件号码放在请求体中）")
async def search_person(body: PersonSearchIn, actor: Staff, uow: UoW, runtime: Runtime) -> dict:
    person, found = await uow.read(
        enrollments.find_person,
        actor,
        id_type=body.id_type,
        id_number=body.id_number,
        person_key=runtime.settings.person_id_key.encode(),
    )
    return PersonFoundOut(
        person=PersonOut(
            id=person.id,
            id_type=person.id_type.value,
            id_number_masked=mask_id(person.id_number),
            name=person.name,
            sex=person.sex,
            birth_date=person.birth_date,
            office_code=person.office_code,
        ),
        enrollments=[shape(e) for e in found],
    ).model_dump(mode="json")


@router.get("/{enrollment_id}", response_model=EnrollmentOut, summary="查看参保登记")
async def get_enrollment(enrollment_id: uuid.UUID, actor: RecordReader, uow: UoW) -> EnrollmentOut:
    return shape(await uow.read(enrollments.visible_enrollment, actor, enrollment_id))


@router.post(
    "/{enrollment_id}/approve",
    response_model=EnrollmentOut,
    summary="审核通过参保登记",
)
async def approve(enrollment_id: uuid.UUID, body: DecisionIn, actor: Staff, uow: UoW) -> EnrollmentOut:
    approved = await uow.run(enrollments.approve_enrollment, actor, enrollment_id, version=body.version)
    return shape(approved)


@router.post(
    "/{enrollment_id}/reject",
    response_model=EnrollmentOut,
    summary="不予登记",
)
async def reject(enrollment_id: uuid.UUID, body: ReasonIn, actor: Staff, uow: UoW) -> EnrollmentOut:
    rejected = await uow.run(
        enrollments.reject_enrollment, actor, enrollment_id, version=body.version, reason=body.reason
    )
    return shape(rejected)


@router.post(
    "/{enrollment_id}/stop",
    response_model=EnrollmentOut,
    summary="中止参保（单位停保；转出前办理）",
)
async def stop(enrollment_id: uuid.UUID, body: ReasonIn, actor: Staff, uow: UoW) -> EnrollmentOut:
    stopped = await uow.run(
        enrollments.stop_enrollment, actor, enrollment_id, version=body.version, reason=body.reason
    )
    return shape(stopped)


@router.post("/{enrollment_id}/interrupt", response_model=EnrollmentOut, summary="中断参保（单位停缴）")
async def interrupt(
    enrollment_id: uuid.UUID, body: InterruptIn, actor: UnitOrStaff, uow: UoW
) -> EnrollmentOut:
    interrupted = await uow.run(
        enrollments.interrupt_enrollment,
        actor,
        enrollment_id,
        version=body.version,
        reason=body.reason,
        last_day=body.last_day,
    )
    return shape(interrupted)


@router.post(
    "/{enrollment_id}/terminate",
    response_model=EnrollmentOut,
    summary="终止参保（死亡、出国定居、解除劳动关系等）",
)
async def terminate(
    enrollment_id: uuid.UUID, body: TerminateIn, actor: UnitOrStaff, uow: UoW, runtime: Runtime
) -> EnrollmentOut:
    key = runtime.settings.person_id_key.encode()
    terminated = await uow.run(
        enrollments.terminate_enrollment,
        actor,
        enrollment_id,
        version=body.version,
        reason=body.reason,
        last_day=body.last_day,
        note=body.note,
        person_key=key,
        counter=counter_of(body),
    )
    return shape(terminated)


@router.post(
    "/{enrollment_id}/resume",
    response_model=EnrollmentOut,
    status_code=201,
    summary="恢复参保（返回新的参保登记）",
)
async def resume(enrollment_id: uuid.UUID, body: ResumeIn, actor: UnitOrStaff, uow: UoW) -> EnrollmentOut:
    continued = await uow.run(
        enrollments.resume_enrollment,
        actor,
        enrollment_id,
        version=body.version,
        start=body.start,
        late_record=late_record_of(body.late_record),
    )
    return shape(continued)


@router.post("/{enrollment_id}/retire", response_model=EnrollmentOut, summary="在职转退休")
async def retire(enrollment_id: uuid.UUID, body: DecisionIn, actor: UnitOrStaff, uow: UoW) -> EnrollmentOut:
    retired = await uow.run(enrollments.retire_employee, actor, enrollment_id, version=body.version)
    return shape(retired)


@router.post("/{enrollment_id}/refund", response_model=EnrollmentOut, summary="退费（待遇享受期开始前）")
async def refund(enrollment_id: uuid.UUID, body: ReasonIn, actor: Applicant, uow: UoW) -> EnrollmentOut:
    refunded = await uow.run(
        enrollments.refund_enrollment, actor, enrollment_id, version=body.version, reason=body.reason
    )
    return shape(refunded)
