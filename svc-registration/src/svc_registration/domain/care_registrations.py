"""Benefit registrations of seed 000 around care in hospitals (docs/domain/registration.md, 待遇登记); the maternity ones
are in `domain.maternity`. How the seeds were read:

- 住院资格确认书 (hospitalization letter): the fallback when the hospital cannot register the stay online
  (card or network failure); for this stay only, at a designated hospital, valid at most 90 days from
  issue (day 0 = issue, so at most to issue + 90). A commitment letter (承诺书) may replace the admission
  slip (住院证): it then states the hospital, the admission date and the diagnosis (seed: 承诺住院治疗的医疗
  机构名称、住院日期、疾病诊断). A transfer between hospitals needs the 转诊转院登记表 (its number). A
  readmission before the previous stay is settled needs the previous hospital's statement: the previous
  letter's number, the discharge date and the self-paid, extra self-paid and claimed amounts (自费金额、
  增负金额、申报金额). Letters do not replace each other: each is one stay.
- 肺结核门诊 (TB): a patient treated here chooses one of the TB-designated hospitals (the hospital registers
  online; drug-resistant TB is one of 8 of them: the registry has no separate programme for those, so
  it is recorded as a flag). A remote patient registers at the sub-centre with a diagnosis from a level-2
  or higher hospital and is then treated at a hospital of their remote-care filing (选择异地就医登记中的
  医疗机构): that hospital is not in this city's registry, so its code and name are taken as given.
- 非典后遗症 (SARS sequelae): in-hospital infection → 1–4 chosen designated hospitals (levels 1–3); social
  infection → exactly one community (level-1) hospital; the 10 SARS hospitals apply to everyone and are
  not listed.
- 副司局级标识 (deputy-director-general flag): set at the request of the unit with the appointment document
  (职务任免职文件); it drives the civil-servant subsidy, so it needs employee coverage.
- 遗失票据 (lost receipt): with the facility's certified copy; the scheme of the coverage the receipt
  belongs to sets the deadline: employees (and flexible employment, who are in the employee scheme) by
  30 April of the year after the service date; residents within 3 months after the end of the benefit
  period the service date falls in; later → refused.

Refusals name the field; every missing paper is told at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.errors import Invalid
from shared.money import money_text
from shared.months import add_months
from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.domain.facility import KnownFacility, require_designated

HOSPITALIZATION = "hospitalization"
TB = "tb_outpatient"
SARS = "sars_sequelae"
DEPUTY_DIRECTOR = "deputy_director_flag"
LOST_RECEIPT = "lost_receipt"
# The maternity kinds live here too so that every kind has one home for its name.
PREGNANCY = "pregnancy"
MATERNITY_REMOTE = "maternity_remote"
MATERNITY_HOSPITALIZATION = "maternity_hospitalization"
FP_COMPLICATION = "fp_complication"
MATERNITY_REFERRAL = "maternity_referral"

LETTER_MAX_DAYS = 90
SARS_MAX_CHOSEN = 4
TB_REMOTE_DIAGNOSIS_LEVEL = 2
LOST_RECEIPT_EMPLOYEE_MONTH_DAY = (4, 30)
LOST_RECEIPT_RESIDENT_MONTHS = 3


class AdmissionDocument(StrEnum):
    admission_slip = "admission_slip"  # 住院证
    commitment = "commitment"  # 承诺书 in its place


class SarsInfection(StrEnum):
    in_hospital = "in_hospital"  # 院内感染
    social = "social"  # 社会感染


def registration(person_id: uuid.UUID, office_code: str, kind: str, facility_codes: tuple[str, ...], today: date,
                 valid_to: date | None, by: str, at: datetime, /, **details: object) -> BenefitRegistration:  # fmt: skip
    """An active registration from today; `details` are free (positional-only above, so any name fits)."""
    return BenefitRegistration(
        id=uuid.uuid4(), person_id=person_id, office_code=office_code, kind=kind, facility_codes=facility_codes,
        status="active", valid_from=today, valid_to=valid_to, registered_by=by, registered_at=at, details=dict(details),
    )  # fmt: skip


def refuse(
    code: str, title: str, field: str, message: str, detail: str | None = None, **extra: object
) -> Invalid:
    return Invalid(code, title, detail, errors=[{"field": field, "message": message}], **extra)


def invalid(field: str, message: str) -> Invalid:
    return refuse("validation_failed", "请求参数不合法", field, message)


def materials_missing(errors: list[dict[str, Any]]) -> Invalid:
    return Invalid("materials_missing", "申请材料不全，请一次性补正", errors=errors)


def require_hospital(
    facility: KnownFacility | None, code: str, field: str, programme: str | None = None
) -> KnownFacility:
    hospital = require_designated(facility, code, field, programme=programme)
    if hospital.kind != "medical_institution":
        raise refuse("not_a_hospital", "须为定点医疗机构", field, f"{hospital.name}不是医疗机构")
    return hospital


def not_after(day: date, today: date, field: str) -> None:
    if day > today:
        raise invalid(field, "不能晚于今天")


# ---------------------------------------------------------------------------------------- hospitalization


@dataclass(frozen=True)
class PreviousStay:
    """上一次住院的费用证明, for a readmission before the previous stay is settled."""

    letter_no: str
    discharged_on: date
    self_pay: Decimal  # 自费金额
    extra_self_pay: Decimal  # 增负金额
    claimed: Decimal  # 申报金额

    def as_details(self) -> dict[str, Any]:
        return {"letter_no": self.letter_no, "discharged_on": self.discharged_on.isoformat(), "self_pay": money_text(self.self_pay),
                "extra_self_pay": money_text(self.extra_self_pay), "claimed": money_text(self.claimed)}  # fmt: skip


@dataclass(frozen=True)
class LetterRequest:
    hospital_code: str
    admission_document: AdmissionDocument
    admitted_on: date | None = None
    diagnosis: str | None = None
    valid_days: int = LETTER_MAX_DAYS
    transfer_from: str | None = None
    referral_form_no: str | None = None
    previous_unsettled: bool = False
    previous_stay: PreviousStay | None = None


def _letter_gaps(request: LetterRequest, today: date) -> list[dict[str, Any]]:
    gaps = []
    if request.admission_document is AdmissionDocument.commitment:
        if request.admitted_on is None:
            gaps.append({"field": "admitted_on", "message": "以承诺书代替住院证时须承诺住院日期"})
        if not request.diagnosis:
            gaps.append({"field": "diagnosis", "message": "以承诺书代替住院证时须承诺疾病诊断"})
    if request.transfer_from and not request.referral_form_no:
        gaps.append(
            {"field": "referral_form_no", "message": "转诊转院须提供《天津市基本医疗保险转诊转院登记表》"}
        )
    if request.previous_unsettled and request.previous_stay is None:
        gaps.append(
            {
                "field": "previous_stay",
                "message": "上次住院尚未结算：须提供上次住院的确认书编号、出院时间、自费、增负及申报金额",
            }
        )
    if request.previous_stay is not None and request.previous_stay.discharged_on > today:
        gaps.append({"field": "previous_stay.discharged_on", "message": "出院时间不能晚于今天"})
    return gaps


def hospitalization_letter(
    request: LetterRequest, hospital: KnownFacility | None, today: date
) -> tuple[date, dict[str, Any]]:
    """A 住院资格确认书: (its last valid day, its details); every missing item told at once."""
    if not 1 <= request.valid_days <= LETTER_MAX_DAYS:
        raise invalid("valid_days", f"有效期为1至{LETTER_MAX_DAYS}天")
    if request.transfer_from == request.hospital_code:
        raise invalid("transfer_from", "转出医院与住院医院相同")
    require_hospital(hospital, request.hospital_code, "hospital_code")
    gaps = _letter_gaps(request, today)
    if gaps:
        raise materials_missing(gaps)
    details = {
        "admission_document": request.admission_document.value,
        "admitted_on": request.admitted_on.isoformat() if request.admitted_on else None,
        "diagnosis": request.diagnosis,
        "transfer_from": request.transfer_from,
        "referral_form_no": request.referral_form_no,
        "previous_stay": request.previous_stay.as_details() if request.previous_stay else None,
    }
    return today + timedelta(days=request.valid_days), details


# --------------------------------------------------------------------------------------------- TB, SARS


def tb_local_hospital(hospital: KnownFacility | None, code: str) -> None:
    require_hospital(hospital, code, "hospital_code", programme="tb_designated")


def tb_remote_patient(diagnosis_level: int | None) -> None:
    if diagnosis_level is None or diagnosis_level < TB_REMOTE_DIAGNOSIS_LEVEL:
        raise refuse(
            "diagnosis_level_too_low",
            "异地患者须持二级及以上医疗机构的诊断",
            "diagnosis_hospital_level",
            "须为二级及以上医疗机构的诊断证明",
        )


def tb_choice_given(remote_patient: bool, hospital_code: str | None, remote_hospital: object | None) -> None:
    """A patient treated here names a local TB hospital; a remote patient the remote hospital."""
    if remote_patient and (remote_hospital is None or hospital_code is not None):
        raise invalid("remote_hospital", "异地患者须填写异地就医登记中的治疗医院（不填写本市结核病定点医院）")
    if not remote_patient and (hospital_code is None or remote_hospital is not None):
        raise invalid("hospital_code", "须选择1家本市结核病定点医疗机构")


def sars_hospitals(infection: SarsInfection, chosen: list[tuple[str, KnownFacility | None]]) -> None:
    if infection is SarsInfection.in_hospital and not 1 <= len(chosen) <= SARS_MAX_CHOSEN:
        raise refuse("validation_failed", "院内感染者可选择1至4家医院", "hospital_codes", "须选择1至4家")
    if infection is SarsInfection.social and len(chosen) != 1:
        raise refuse("validation_failed", "社会感染者只能选择1家社区医院", "hospital_codes", "须选择1家")
    if len({code for code, _ in chosen}) != len(chosen):
        raise refuse("validation_failed", "所选医院重复", "hospital_codes", "不能重复选择同一医院")
    for code, facility in chosen:
        hospital = require_hospital(facility, code, "hospital_codes")
        if infection is SarsInfection.social and hospital.level != 1:
            raise refuse(
                "not_a_community_hospital",
                "社会感染者须选择社区（一级）医院",
                "hospital_codes",
                f"{hospital.name}为{hospital.level}级",
            )


# ------------------------------------------------------------------------------------------ lost receipt


def lost_receipt_deadline(scheme: str, service_date: date, benefit_end: date | None) -> date:
    """Employees by 30 April of the next year; residents within 3 months after their benefit period.

    A resident period without a stored end is taken to end on 31 December of the service year (the
    resident benefit year)."""
    if scheme in ("employee", "flexible"):
        month, day = LOST_RECEIPT_EMPLOYEE_MONTH_DAY
        return date(service_date.year + 1, month, day)
    end = benefit_end or date(service_date.year, 12, 31)
    return add_months(end, LOST_RECEIPT_RESIDENT_MONTHS)


def require_lost_receipt_in_time(
    scheme: str, service_date: date, benefit_end: date | None, today: date
) -> date:
    not_after(service_date, today, "service_date")
    deadline = lost_receipt_deadline(scheme, service_date, benefit_end)
    if today > deadline:
        rule = (
            "职工医保于费用发生次年4月30日前"
            if scheme in ("employee", "flexible")
            else "居民医保于待遇享受期满后3个月内"
        )
        raise refuse("lost_receipt_late", "已超过遗失票据登记期限，不予受理", "service_date", f"应于 {deadline} 前办理",
                     detail=f"{rule}办理，本票据的登记期限为 {deadline}，已逾期", deadline=deadline.isoformat())  # fmt: skip
    return deadline
