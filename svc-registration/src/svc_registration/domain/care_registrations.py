"""The other benefit registrations of seed 000 (DOMAIN.md, 待遇登记), each with its rule:

- 住院资格确认书 (hospitalization letter): the fallback when the hospital's online registration fails;
  for one stay at a designated hospital, valid at most 90 days; a commitment letter may stand in for the
  admission slip; a transfer between hospitals needs the referral form; a readmission before the
  previous stay is settled needs the previous letter's number and amounts.
- 肺结核门诊 (TB): one TB-designated hospital (drug-resistant TB as well, from its shorter list); a
  remote patient registers with a diagnosis from a level-2 or higher hospital.
- 非典后遗症 (SARS sequelae): infected in hospital → 1–4 chosen hospitals besides the 10 designated;
  infected socially → exactly one community hospital.
- 副司局级标识 (deputy-director-general flag): set by the unit with the appointment document.
- 遗失票据 (lost receipt): with the facility's certified copy; employees by 30 April of the next year,
  residents within 3 months after the benefit period; late → refused.
- 生育保险妊娠登记 (pregnancy): within 12 weeks (84 days) of the pregnancy's start; later it is a late
  registration, allowed until delivery (never after it, nor past 42 weeks). Valid to 42 weeks.
- 生育保险异地就医登记 (maternity remote care): 1–4 remote maternity facilities, by category.
- 生育保险住院登记 (maternity hospitalization): needs an active pregnancy or complication registration,
  at a designated maternity hospital.
- 计划生育手术并发症登记 (family-planning complication): within 12 months from the month after the health
  commission's certificate.
- 生育保险转诊转院登记 (maternity referral): the receiving hospital is designated for maternity and of the
  same or a higher level than the sending one.

Validity follows the platform's convention: the day of registration is day 0.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from shared.errors import Problem
from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.domain.benefit_period import add_months
from svc_registration.domain.facility import KnownFacility, require_designated

HOSPITALIZATION = "hospitalization"
TB = "tb_outpatient"
SARS = "sars_sequelae"
DEPUTY_DIRECTOR = "deputy_director_flag"
LOST_RECEIPT = "lost_receipt"
PREGNANCY = "pregnancy"
MATERNITY_REMOTE = "maternity_remote"
MATERNITY_HOSPITALIZATION = "maternity_hospitalization"
FP_COMPLICATION = "fp_complication"
MATERNITY_REFERRAL = "maternity_referral"

LETTER_MAX_DAYS = 90
ON_TIME_PREGNANCY_DAYS = 12 * 7
PREGNANCY_DAYS = 42 * 7
FP_WINDOW_MONTHS = 12


class AdmissionDocument(StrEnum):
    admission_slip = "admission_slip"  # 住院通知单
    commitment = "commitment"  # 承诺书 in its place


class SarsInfection(StrEnum):
    in_hospital = "in_hospital"  # 院内感染
    social = "social"  # 社会感染


class MaternityRemoteCategory(StrEnum):
    resettled_retiree = "resettled_retiree"  # 异地安置退休人员
    long_term_resident = "long_term_resident"  # 异地长期居住人员
    remote_worker = "remote_worker"  # 常驻异地工作人员（由单位办理）
    home_town_delivery = "home_town_delivery"  # 回户籍地生育


def registration(person_id: uuid.UUID, office_code: str, kind: str, facilities: tuple[str, ...], today: date,
                 valid_to: date | None, by: str, at: datetime, **details: object) -> BenefitRegistration:  # fmt: skip
    return BenefitRegistration(
        id=uuid.uuid4(), person_id=person_id, office_code=office_code, kind=kind, facility_codes=facilities,
        status="active", valid_from=today, valid_to=valid_to, registered_by=by, registered_at=at, details=dict(details),
    )  # fmt: skip


def _refuse(code: str, title: str, field: str, message: str, detail: str | None = None) -> Problem:
    return Problem(422, code, title, detail, errors=[{"field": field, "message": message}])


def require_hospital(facility: KnownFacility | None, code: str, field: str, programme: str | None = None) -> KnownFacility:
    hospital = require_designated(facility, code, field, programme=programme)
    if hospital.kind != "medical_institution":
        raise _refuse("not_a_hospital", "须为定点医疗机构", field, f"{hospital.name}不是医疗机构")
    return hospital


# ---------------------------------------------------------------------------------------- hospitalization


def hospitalization_letter(
    hospital: KnownFacility | None, hospital_code: str, admission_document: AdmissionDocument, valid_days: int,
    transfer_from: str | None, referral_form_no: str | None, previous_unsettled: bool, previous_letter_no: str | None,
    previous_amount: Decimal | None,
) -> dict:  # fmt: skip
    """The checks of a 住院资格确认书, all missing items told at once; returns its details."""
    require_hospital(hospital, hospital_code, "hospital_code")
    errors = []
    if not 1 <= valid_days <= LETTER_MAX_DAYS:
        errors.append({"field": "valid_days", "message": f"有效期为1至{LETTER_MAX_DAYS}天"})
    if transfer_from and not referral_form_no:
        errors.append({"field": "referral_form_no", "message": "转院须提供转诊（转院）单"})
    if previous_unsettled and not previous_letter_no:
        errors.append({"field": "previous_letter_no", "message": "上次住院尚未结算：须提供上次确认书编号"})
    if previous_unsettled and previous_amount is None:
        errors.append({"field": "previous_amount", "message": "上次住院尚未结算：须提供上次住院费用金额"})
    if errors:
        raise Problem(422, "materials_missing", "申请材料不全，请一次性补正", errors=errors)
    return {
        "admission_document": admission_document.value, "transfer_from": transfer_from, "referral_form_no": referral_form_no,
        "previous_letter_no": previous_letter_no, "previous_amount": f"{previous_amount:.2f}" if previous_amount is not None else None,
    }  # fmt: skip


# --------------------------------------------------------------------------------------------- TB, SARS


def tb_hospital(hospital: KnownFacility | None, code: str, remote_patient: bool, diagnosis_level: int | None) -> None:
    require_hospital(hospital, code, "hospital_code", programme="tb_designated")
    if remote_patient and (diagnosis_level is None or diagnosis_level < 2):
        raise _refuse("diagnosis_level_too_low", "异地患者须持二级及以上医疗机构的诊断", "diagnosis_hospital_level", "须为二级及以上")


def sars_hospitals(infection: SarsInfection, chosen: list[tuple[str, KnownFacility | None]]) -> None:
    if infection is SarsInfection.in_hospital and not 1 <= len(chosen) <= 4:
        raise _refuse("validation_failed", "院内感染者可选择1至4家医院", "hospital_codes", "须选择1至4家")
    if infection is SarsInfection.social and len(chosen) != 1:
        raise _refuse("validation_failed", "社会感染者只能选择1家社区医院", "hospital_codes", "须选择1家")
    for code, facility in chosen:
        hospital = require_hospital(facility, code, "hospital_codes")
        if infection is SarsInfection.social and hospital.level != 1:
            raise _refuse("not_a_community_hospital", "社会感染者须选择社区（一级）医院", "hospital_codes", f"{hospital.name}为{hospital.level}级")


# ------------------------------------------------------------------------------------------ lost receipt


def lost_receipt_deadline(scheme: str, service_date: date, benefit_end: date | None) -> date:
    """Employees by 30 April of the next year; residents within 3 months after the benefit period."""
    if scheme in ("employee", "flexible"):
        return date(service_date.year + 1, 4, 30)
    end = benefit_end or date(service_date.year, 12, 31)
    return add_months(end, 3)


def require_lost_receipt_in_time(scheme: str, service_date: date, benefit_end: date | None, today: date) -> date:
    deadline = lost_receipt_deadline(scheme, service_date, benefit_end)
    if today > deadline:
        raise _refuse("lost_receipt_late", "已超过遗失票据登记期限，不予受理", "service_date", f"应于 {deadline} 前办理",
                      detail=f"职工于就医次年4月30日前、居民于待遇享受期结束后3个月内办理；本票据期限为 {deadline}")  # fmt: skip
    return deadline


# --------------------------------------------------------------------------------------------- maternity


def pregnancy(started_on: date, delivered_on: date | None, today: date) -> tuple[date, bool]:
    """(valid_to, late): on time within 12 weeks; late up to delivery, never after it or past 42 weeks."""
    days = (today - started_on).days
    if days < 0:
        raise _refuse("validation_failed", "妊娠开始日期不能晚于今天", "pregnancy_started_on", "不能晚于今天")
    if (delivered_on is not None and delivered_on <= today) or days >= PREGNANCY_DAYS:
        raise _refuse("pregnancy_registration_too_late", "已分娩，不能补办妊娠登记", "delivered_on", "补办须在分娩前")
    return started_on + timedelta(days=PREGNANCY_DAYS), days > ON_TIME_PREGNANCY_DAYS


def fp_complication_window(certified_on: date) -> tuple[date, date]:
    """12 months from the 1st of the month after the certificate (鉴定结论书次月起12个月内)."""
    opens = add_months(certified_on.replace(day=1), 1)
    return opens, add_months(opens, FP_WINDOW_MONTHS) - timedelta(days=1)


def require_fp_window(certified_on: date, today: date) -> date:
    opens, closes = fp_complication_window(certified_on)
    if today > closes:
        raise _refuse("fp_complication_late", "已超过计划生育手术并发症登记期限", "certified_on", f"应于 {opens} 至 {closes} 期间办理")
    return closes


def maternity_remote_facilities(facilities: list[tuple[str, str]]) -> None:
    if not 1 <= len(facilities) <= 4:
        raise _refuse("validation_failed", "须选择1至4家异地生育定点医疗机构", "facilities", "须选择1至4家")
    if len({code for code, _ in facilities}) != len(facilities):
        raise _refuse("validation_failed", "所选机构重复", "facilities", "不能重复选择同一机构")


def maternity_referral(sending: KnownFacility | None, sending_code: str, receiving: KnownFacility | None, receiving_code: str) -> None:
    source = require_hospital(sending, sending_code, "sending_hospital", programme="maternity")
    target = require_hospital(receiving, receiving_code, "receiving_hospital", programme="maternity")
    if (target.level or 0) < (source.level or 0):
        raise _refuse("referral_to_lower_level", "转入医院须为同级或更高级别的生育定点医疗机构", "receiving_hospital",
                      f"转出{source.level}级，转入{target.level}级")  # fmt: skip
