"""Benefit registration endpoints (待遇登记)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.auth import Principal, Role
from shared.auth.dependencies import require_roles
from shared.http.fields import Text
from shared.http.idempotency import IdempotencyKey, create_idempotently, run_idempotent
from shared.money import NonNegativeMoney
from shared.service import UoW
from svc_registration.domain.benefit import SPECIAL_DISEASES, BenefitRegistration
from svc_registration.domain.benefit_items import KINDS
from svc_registration.domain.care_registrations import (
    LETTER_MAX_DAYS,
    AdmissionDocument,
    LetterRequest,
    PreviousStay,
    SarsInfection,
)
from svc_registration.domain.maternity import MaternityRemoteCategory, MaternityStay
from svc_registration.domain.remote_care import LongTermCategory, RemoteKind, TripReason
from svc_registration.usecases import benefits

router = APIRouter(prefix="/benefit-registrations", tags=["待遇登记"])

Applicant = Annotated[Principal, require_roles(Role.insured, Role.staff)]
RecordReader = Annotated[Principal, require_roles(Role.insured, Role.staff, Role.admin)]
HospitalOrStaff = Annotated[Principal, require_roles(Role.staff, Role.facility)]
UnitOrStaff = Annotated[Principal, require_roles(Role.unit, Role.staff)]
PersonHospitalOrStaff = Annotated[Principal, require_roles(Role.insured, Role.staff, Role.facility)]
PersonUnitOrStaff = Annotated[Principal, require_roles(Role.insured, Role.staff, Role.unit)]


class ResidentOutpatientIn(BaseModel):
    hospital_code: str = Field(pattern=r"^[A-Z]\d{11}$", description="所选改革二级定点医院编码")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


Disease = Literal[tuple(SPECIAL_DISEASES)]  # type: ignore[valid-type]
FacilityCode = Annotated[str, Field(pattern=r"^[A-Z]\d{11}$")]


class SpecialDiseaseIn(BaseModel):
    disease: Disease = Field(description="门特病种（13种之一）")  # type: ignore[valid-type]
    certified_by: FacilityCode = Field(description="门特病鉴定医院编码")
    treatment_facility: FacilityCode = Field(description="选定的门特治疗定点医院或药店编码")
    certified_outside_city: bool = Field(False, description="首次鉴定在异地（返回本市就医须重新鉴定）")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


class RemoteCareIn(BaseModel):
    kind: RemoteKind = Field(description="long_term 长期居住；temporary 临时外出")
    destination: str = Field(pattern=r"^\d{6}$", description="就医地行政区划代码（省市县六位）")
    category: LongTermCategory | None = Field(
        None, description="长期居住人员类别：异地安置退休、异地长期居住、常驻异地工作"
    )
    reason: TripReason | None = Field(
        None, description="临时外出原因：referral 转诊（有效期90天）；emergency 急诊（30天）"
    )
    commitment: bool = Field(description="个人承诺书（承诺制）")
    person_id: uuid.UUID | None = Field(None, description="经办人员代办时填写参保人")


PersonRef = Annotated[
    uuid.UUID | None, Field(None, description="代办（经办人员、单位、医疗机构）时填写参保人")
]
Code = Annotated[
    Text, Field(max_length=60, min_length=1)
]  # document and receipt numbers (文号 may be Chinese)


class FamilyDoctorIn(BaseModel):
    person_id: PersonRef
    facility_code: FacilityCode = Field(description="签约的基层（一级）定点医疗机构编码")
    doctor_name: Annotated[Text, Field(min_length=1, max_length=40)] = Field(description="签约家庭医生姓名")
    signed_on: date = Field(description="签约日期（次月起享受门诊待遇提高）")
    valid_to: date | None = Field(None, description="签约截止日期（有约定期限时）")


class PreviousStayIn(BaseModel):
    """上一次住院医院提供的住院费用证明."""

    letter_no: Code = Field(description="上一次住院的资格确认书编号")
    discharged_on: date = Field(description="出院时间")
    self_pay: NonNegativeMoney = Field(description="自费金额")
    extra_self_pay: NonNegativeMoney = Field(description="增负金额")
    claimed: NonNegativeMoney = Field(description="申报金额")


class HospitalizationIn(BaseModel):
    person_id: PersonRef
    hospital_code: FacilityCode
    admission_document: AdmissionDocument = Field(
        description="住院证，或以承诺书代替（须承诺住院日期与疾病诊断）"
    )
    admitted_on: date | None = Field(None, description="住院日期")
    diagnosis: Annotated[Text, Field(max_length=200)] | None = Field(None, description="疾病诊断")
    valid_days: int = Field(
        LETTER_MAX_DAYS, ge=1, le=LETTER_MAX_DAYS, description="有效期（天，自开具之日起，最长90天）"
    )
    transfer_from: FacilityCode | None = Field(None, description="转院：转出医院编码")
    referral_form_no: Code | None = Field(None, description="《天津市基本医疗保险转诊转院登记表》编号")
    previous_unsettled: bool = Field(False, description="出院后短期内再次住院而上次住院费用尚未结算")
    previous_stay: PreviousStayIn | None = None

    def request(self) -> LetterRequest:
        previous = PreviousStay(**self.previous_stay.model_dump()) if self.previous_stay else None
        fields = self.model_dump(exclude={"person_id", "previous_stay"})
        return LetterRequest(**fields, previous_stay=previous)


class RemoteFacilityIn(BaseModel):
    """A remote institution: not in this city's registry, so taken as given."""

    code: Code
    name: Annotated[Text, Field(min_length=2, max_length=100)]


class TbIn(BaseModel):
    person_id: PersonRef
    remote_patient: bool = Field(False, description="异地居住患者（在分中心办理，须二级及以上医疗机构诊断）")
    hospital_code: FacilityCode | None = Field(
        None, description="本市就医：结核病定点医院（19家之一；耐药肺结核为8家之一）"
    )
    drug_resistant: bool = False
    remote_hospital: RemoteFacilityIn | None = Field(None, description="异地患者：异地就医登记中的治疗医院")
    diagnosis_hospital_level: int | None = Field(None, ge=1, le=3, description="异地患者：出具诊断的医院级别")


class SarsIn(BaseModel):
    person_id: PersonRef
    infection: SarsInfection
    hospital_codes: list[FacilityCode] = Field(min_length=1, max_length=4)


class DeputyDirectorIn(BaseModel):
    person_id: uuid.UUID
    appointment_document: Code = Field(description="任职文件编号")


class LostReceiptIn(BaseModel):
    person_id: PersonRef
    facility_code: FacilityCode
    receipt_no: Code
    service_date: date
    amount: NonNegativeMoney
    certified_copy_no: Code = Field(description="定点医疗机构出具的加盖公章的票据复印件编号")


class PregnancyIn(BaseModel):
    person_id: PersonRef
    last_menstrual_period: date | None = Field(None, description="末次月经日期（与妊娠开始日期二选一）")
    pregnancy_started_on: date | None = Field(None, description="妊娠开始日期")
    delivered_on: date | None = Field(None, description="分娩日期（已分娩的不能补办）")
    facility_code: FacilityCode | None = Field(
        None, description="办理登记的基层生育保险定点医疗机构（机构办理时默认本机构）"
    )


class MaternityRemoteIn(BaseModel):
    person_id: PersonRef
    category: MaternityRemoteCategory
    facilities: list[RemoteFacilityIn] = Field(min_length=1, max_length=4)


class MaternityHospitalizationIn(BaseModel):
    person_id: PersonRef
    hospital_code: FacilityCode
    reason: MaternityStay = Field(
        description="childbirth 生育、termination 终止妊娠（须妊娠登记）；fp_complication 计划生育手术并发症（须并发症登记）"
    )
    admission_document: AdmissionDocument = Field(
        AdmissionDocument.admission_slip, description="住院证，或以承诺书代替"
    )


class FpComplicationIn(BaseModel):
    person_id: PersonRef
    certified_on: date = Field(description="卫健委《鉴定结论书》日期")
    certificate_no: Code


class MaternityReferralIn(BaseModel):
    person_id: PersonRef
    sending_hospital: FacilityCode
    receiving_hospital: FacilityCode
    referral_form_no: Code | None = Field(
        None, description="《天津市生育保险转诊转院登记表》编号（分中心办理时必填）"
    )


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


class BenefitRegistrationsOut(BaseModel):
    items: list[BenefitRegistrationOut]
    total: int
    page: int
    size: int


def shape(r: BenefitRegistration) -> dict:
    return BenefitRegistrationOut(**{**r.__dict__, "facility_codes": list(r.facility_codes)}).model_dump(
        mode="json"
    )


@router.post(
    "/resident-outpatient",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="城乡居民门（急）诊就医登记",
)
async def resident_outpatient(
    body: ResidentOutpatientIn,
    request: Request,
    actor: Applicant,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    async def register() -> tuple[int, dict]:
        return 201, shape(
            await benefits.register_resident_outpatient(
                uow, actor, person_id=body.person_id, hospital_code=body.hospital_code
            )
        )

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


@router.post(
    "/special-disease", status_code=201, response_model=BenefitRegistrationOut, summary="门诊特定疾病待遇登记"
)
async def special_disease(
    body: SpecialDiseaseIn,
    request: Request,
    actor: Applicant,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    async def register() -> tuple[int, dict]:
        registration = await benefits.register_special_disease(
            uow,
            actor,
            person_id=body.person_id,
            disease=body.disease,
            certified_by=body.certified_by,
            treatment_facility=body.treatment_facility,
            certified_outside_city=body.certified_outside_city,
        )
        return 201, shape(registration)

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


@router.post(
    "/family-doctor", status_code=201, response_model=BenefitRegistrationOut, summary="家庭医生签约登记"
)
async def family_doctor(
    body: FamilyDoctorIn,
    request: Request,
    actor: HospitalOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _created(
        uow, request, actor, idempotency_key,
        lambda: benefits.register_family_doctor(
            uow, actor, person_id=body.person_id, facility_code=body.facility_code, doctor_name=body.doctor_name,
            signed_on=body.signed_on, valid_to=body.valid_to,
        ),
    )  # fmt: skip


@router.post(
    "/remote-care",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="跨省异地就医备案（长期居住、临时外出）",
)
async def remote_care(
    body: RemoteCareIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None
):
    async def register() -> tuple[int, dict]:
        filing = await benefits.file_remote_care(
            uow,
            actor,
            person_id=body.person_id,
            kind=body.kind,
            destination=body.destination,
            category=body.category,
            reason=body.reason,
            commitment=body.commitment,
        )
        return 201, shape(filing)

    async with uow:
        return await run_idempotent(uow, request, actor.subject, idempotency_key, register)


Kind = Literal[KINDS]  # type: ignore[valid-type]


@router.get(
    "",
    response_model=BenefitRegistrationsOut,
    summary="待遇登记查询（本人的；经办人员本分中心的，可按参保人）",
)
async def list_benefits(
    actor: RecordReader,
    uow: UoW,
    person_id: uuid.UUID | None = None,
    kind: Kind | None = None,
    status: Literal["active", "replaced", "expired"] | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    found, total = await uow.read(
        benefits.list_benefits,
        actor,
        person_id=person_id,
        kind=kind,
        status=status,
        offset=(page - 1) * size,
        limit=size,
    )
    return {"items": [shape(r) for r in found], "total": total, "page": page, "size": size}


async def _created(uow: UoW, request: Request, actor: Principal, key: str | None, make) -> JSONResponse:  # type: ignore[no-untyped-def]
    return await create_idempotently(uow, request, actor.subject, key, make, shape)


@router.post(
    "/hospitalization",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="住院资格确认书（联网登记失败时）",
)
async def hospitalization(
    body: HospitalizationIn,
    request: Request,
    actor: HospitalOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.issue_hospitalization_letter(
            uow, actor, person_id=body.person_id, request=body.request()
        ),
    )


@router.post(
    "/tb", status_code=201, response_model=BenefitRegistrationOut, summary="肺结核病患者门诊就医登记"
)
async def tb(
    body: TbIn,
    request: Request,
    actor: PersonHospitalOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    remote = (body.remote_hospital.code, body.remote_hospital.name) if body.remote_hospital else None
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_tb(
            uow,
            actor,
            person_id=body.person_id,
            hospital_code=body.hospital_code,
            drug_resistant=body.drug_resistant,
            remote_patient=body.remote_patient,
            remote_hospital=remote,
            diagnosis_level=body.diagnosis_hospital_level,
        ),
    )


@router.post(
    "/sars-sequelae", status_code=201, response_model=BenefitRegistrationOut, summary="非典后遗症治疗医院变更"
)
async def sars(
    body: SarsIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_sars_hospitals(
            uow, actor, person_id=body.person_id, infection=body.infection, hospital_codes=body.hospital_codes
        ),
    )


@router.post(
    "/deputy-director-flag",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="副司局级人员标识维护（单位办理）",
)
async def deputy_director(
    body: DeputyDirectorIn,
    request: Request,
    actor: UnitOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.flag_deputy_director(
            uow, actor, person_id=body.person_id, appointment_document=body.appointment_document
        ),
    )


@router.post("/lost-receipts", status_code=201, response_model=BenefitRegistrationOut, summary="遗失票据登记")
async def lost_receipt(
    body: LostReceiptIn, request: Request, actor: Applicant, uow: UoW, idempotency_key: IdempotencyKey = None
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_lost_receipt(
            uow,
            actor,
            person_id=body.person_id,
            facility_code=body.facility_code,
            receipt_no=body.receipt_no,
            service_date=body.service_date,
            amount=body.amount,
            certified_copy_no=body.certified_copy_no,
        ),
    )


@router.post("/pregnancy", status_code=201, response_model=BenefitRegistrationOut, summary="生育保险妊娠登记")
async def pregnancy(
    body: PregnancyIn,
    request: Request,
    actor: PersonHospitalOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_pregnancy(
            uow,
            actor,
            person_id=body.person_id,
            last_menstrual_period=body.last_menstrual_period,
            started_on=body.pregnancy_started_on,
            delivered_on=body.delivered_on,
            facility_code=body.facility_code,
        ),
    )


@router.post(
    "/maternity-remote",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="生育保险异地就医登记",
)
async def maternity_remote(
    body: MaternityRemoteIn,
    request: Request,
    actor: PersonUnitOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_maternity_remote(
            uow,
            actor,
            person_id=body.person_id,
            category=body.category,
            facilities=[(f.code, f.name) for f in body.facilities],
        ),
    )


@router.post(
    "/maternity-hospitalization",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="生育保险住院登记",
)
async def maternity_hospitalization(
    body: MaternityHospitalizationIn,
    request: Request,
    actor: HospitalOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_maternity_hospitalization(
            uow,
            actor,
            person_id=body.person_id,
            hospital_code=body.hospital_code,
            stay=body.reason,
            admission_document=body.admission_document,
        ),
    )


@router.post(
    "/fp-complication",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="计划生育手术并发症登记",
)
async def fp_complication(
    body: FpComplicationIn,
    request: Request,
    actor: Applicant,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_fp_complication(
            uow,
            actor,
            person_id=body.person_id,
            certified_on=body.certified_on,
            certificate_no=body.certificate_no,
        ),
    )


@router.post(
    "/maternity-referral",
    status_code=201,
    response_model=BenefitRegistrationOut,
    summary="生育保险转诊转院登记",
)
async def maternity_referral(
    body: MaternityReferralIn,
    request: Request,
    actor: HospitalOrStaff,
    uow: UoW,
    idempotency_key: IdempotencyKey = None,
):
    return await _created(
        uow,
        request,
        actor,
        idempotency_key,
        lambda: benefits.register_maternity_referral(
            uow,
            actor,
            person_id=body.person_id,
            sending=body.sending_hospital,
            receiving=body.receiving_hospital,
            referral_form_no=body.referral_form_no,
        ),
    )


@router.post(
    "/{registration_id}/treatment-facility",
    response_model=BenefitRegistrationOut,
    summary="变更门特治疗医院或药店",
)
async def change_treatment_facility(
    registration_id: uuid.UUID, body: TreatmentFacilityIn, actor: Applicant, uow: UoW
) -> dict:
    registration = await uow.run(
        benefits.change_treatment_facility, actor, registration_id, treatment_facility=body.treatment_facility
    )
    return shape(registration)


@router.get("/{registration_id}", response_model=BenefitRegistrationOut, summary="查看待遇登记")
async def get_benefit(registration_id: uuid.UUID, actor: RecordReader, uow: UoW) -> dict:
    return shape(await uow.read(benefits.visible_benefit, actor, registration_id))
