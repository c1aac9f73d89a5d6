"""Maternity benefit registrations of seed 000 (生育保险), each with its rule. How the seeds were read:

- 妊娠登记 (pregnancy): within 12 weeks of the pregnancy (怀孕后12周内), counted from the last menstrual
  period or the pregnancy start the person gives (the obstetric convention: the weeks of pregnancy run
  from the LMP; day 84 is the last day of week 12). Later it is a late registration (补办), allowed only
  before delivery: refused on or after the delivery date when one is given, and from week 42 (294 days),
  past any term. Usually the primary-care maternity facility registers it online, or the person in the
  app; the sub-centre when that fails. The registration lasts to the nominal end of a pregnancy
  (start + 42 weeks) — the documents give no end; delivery ends its use.
- 生育保险异地就医登记 (maternity remote care): 1–4 remote maternity facilities (not in this city's
  registry: code and name as given); categories resettled retiree, long-term resident, remote worker
  (filed by the unit — by its web hall, or at the sub-centre; the employee only at the sub-centre with a
  commitment) and home-town delivery. A unit files only for its remote workers.
- 生育保险住院登记 (maternity hospitalization): for childbirth or termination it needs a valid pregnancy
  registration, for a family-planning complication a valid complication registration; at a designated
  maternity hospital; the admission slip or a commitment. It lasts as long as the registration it rests on.
- 计划生育手术并发症登记 (family-planning complication): within 12 months from the month after the health
  commission's certificate (鉴定结论书次月起12个月内): certificate 2026-03-15 → 2026-04-01 to 2027-03-31.
  Later → refused with the window; earlier (the certificate's own month) is accepted, as the seeds set only
  an end. The registration lasts to the end of that window (not in the documents: they give no end).
- 转诊转院登记 (maternity referral): the sending hospital registers it online (or the sub-centre, with the
  sending hospital's paper 转诊转院登记表); the receiving hospital is designated for maternity and of the
  same or a higher level than the sending one.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from shared.errors import Conflict, Forbidden
from shared.months import add_months
from svc_registration.domain.care_registrations import (
    FP_COMPLICATION,
    PREGNANCY,
    invalid,
    materials_missing,
    not_after,
    refuse,
    require_hospital,
)
from svc_registration.domain.facility import KnownFacility

ON_TIME_PREGNANCY_DAYS = 12 * 7
PREGNANCY_DAYS = 42 * 7
FP_WINDOW_MONTHS = 12
MAX_REMOTE_FACILITIES = 4


class MaternityRemoteCategory(StrEnum):
    resettled_retiree = "resettled_retiree"  # 异地安置退休人员
    long_term_resident = "long_term_resident"  # 异地长期居住人员
    remote_worker = "remote_worker"  # 常驻异地工作人员（由单位办理）
    home_town_delivery = "home_town_delivery"  # 回原籍分娩


class MaternityStay(StrEnum):
    childbirth = "childbirth"  # 生育
    termination = "termination"  # 终止妊娠
    fp_complication = "fp_complication"  # 治疗计划生育手术并发症


# The registration each kind of stay rests on (seed 000, 生育保险住院登记 注意事项).
STAY_BASIS = {
    MaternityStay.childbirth: PREGNANCY,
    MaternityStay.termination: PREGNANCY,
    MaternityStay.fp_complication: FP_COMPLICATION,
}


def require_maternity_hospital(facility: KnownFacility | None, code: str, field: str) -> KnownFacility:
    return require_hospital(facility, code, field, programme="maternity")


# --------------------------------------------------------------------------------------------- pregnancy


def pregnancy_start(last_menstrual_period: date | None, started_on: date | None) -> tuple[date, str]:
    """The day the weeks count from, and which date the applicant gave."""
    if (last_menstrual_period is None) == (started_on is None):
        raise invalid("pregnancy_started_on", "须填写末次月经日期或妊娠开始日期（二选一）")
    if last_menstrual_period is not None:
        return last_menstrual_period, "last_menstrual_period"
    return started_on, "pregnancy_start"  # type: ignore[return-value]


def pregnancy(started_on: date, delivered_on: date | None, today: date) -> tuple[date, bool]:
    """(valid_to, late): on time within 12 weeks; late until delivery, never on or after it nor from week 42."""
    not_after(started_on, today, "pregnancy_started_on")
    if delivered_on is not None and delivered_on < started_on:
        raise invalid("delivered_on", "分娩日期不能早于妊娠开始日期")
    if delivered_on is not None and delivered_on <= today:
        raise refuse(
            "pregnancy_registration_too_late", "已分娩，不能补办妊娠登记", "delivered_on", "补办须在分娩前"
        )
    days = (today - started_on).days
    if days >= PREGNANCY_DAYS:
        raise refuse(
            "pregnancy_registration_too_late",
            "妊娠已满42周，不能补办妊娠登记",
            "pregnancy_started_on",
            "补办须在分娩前",
        )
    return started_on + timedelta(days=PREGNANCY_DAYS), days > ON_TIME_PREGNANCY_DAYS


# -------------------------------------------------------------------------------------------- remote care


def maternity_remote_facilities(facilities: list[tuple[str, str]]) -> None:
    if not 1 <= len(facilities) <= MAX_REMOTE_FACILITIES:
        raise refuse("validation_failed", "须选择1至4家异地生育定点医疗机构", "facilities", "须选择1至4家")
    if len({code for code, _ in facilities}) != len(facilities):
        raise refuse("validation_failed", "所选机构重复", "facilities", "不能重复选择同一机构")


def unit_files_only_remote_workers(category: MaternityRemoteCategory) -> None:
    if category is not MaternityRemoteCategory.remote_worker:
        raise Forbidden(
            "person_files",
            "单位只能为常驻异地工作人员办理",
            errors=[{"field": "category", "message": "其他类别由本人或代办人办理"}],
        )


# ------------------------------------------------------------------------------------------- hospital stay


def stay_basis(stay: MaternityStay) -> str:
    return STAY_BASIS[stay]


def missing_basis(stay: MaternityStay) -> Conflict:
    if STAY_BASIS[stay] == PREGNANCY:
        return Conflict("pregnancy_registration_required", "因生育或终止妊娠住院，须有有效的生育保险妊娠登记",
                       errors=[{"field": "reason", "message": "无有效的妊娠登记"}])  # fmt: skip
    return Conflict("fp_complication_registration_required", "因计划生育手术并发症住院，须有有效的并发症登记",
                   errors=[{"field": "reason", "message": "无有效的计划生育手术并发症登记"}])  # fmt: skip


# ------------------------------------------------------------------------------------------ complication


def fp_complication_window(certified_on: date) -> tuple[date, date]:
    """12 months from the 1st of the month after the certificate (鉴定结论书次月起12个月内)."""
    opens = add_months(certified_on.replace(day=1), 1)
    return opens, add_months(opens, FP_WINDOW_MONTHS) - timedelta(days=1)


def require_fp_window(certified_on: date, today: date) -> tuple[date, date]:
    not_after(certified_on, today, "certified_on")
    opens, closes = fp_complication_window(certified_on)
    if today > closes:
        raise refuse("fp_complication_late", "已超过计划生育手术并发症登记期限", "certified_on", f"应于 {opens} 至 {closes} 期间办理",
                     detail=f"鉴定结论书次月起12个月内办理：{opens} 至 {closes}，已逾期",
                     window={"opens": opens.isoformat(), "closes": closes.isoformat()})  # fmt: skip
    return opens, closes


# ---------------------------------------------------------------------------------------------- referral


def maternity_referral(sending: KnownFacility | None, sending_code: str, receiving: KnownFacility | None, receiving_code: str,
                       at_sub_centre: bool, referral_form_no: str | None) -> None:  # fmt: skip
    """The receiving hospital: designated for maternity, same level or higher; the paper form at the counter."""
    if sending_code == receiving_code:
        raise invalid("receiving_hospital", "转入医院不能与转出医院相同")
    source = require_maternity_hospital(sending, sending_code, "sending_hospital")
    target = require_maternity_hospital(receiving, receiving_code, "receiving_hospital")
    if (target.level or 0) < (source.level or 0):
        raise refuse("referral_to_lower_level", "转入医院须为同级或更高级别的生育定点医疗机构", "receiving_hospital",
                     f"转出{source.level}级，转入{target.level}级")  # fmt: skip
    if at_sub_centre and not referral_form_no:
        raise materials_missing(
            [
                {
                    "field": "referral_form_no",
                    "message": "分中心办理须提供转出医院开具的《天津市生育保险转诊转院登记表》",
                }
            ]
        )
