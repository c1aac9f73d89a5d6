"""Benefit registrations (待遇登记), seed 000:

- 城乡居民门(急)诊就医登记: a resident chooses one reformed level-2 hospital; its outpatient bills are
  then reimbursed at level-1 rates; the choice may be changed any number of times.
- 门诊特定疾病 (门特): one of 13 diseases, certified by an accrediting hospital (鉴定机构); the person
  picks a designated treatment hospital or pharmacy and may change it by app, kiosk or counter; a
  first certification made outside the city must be redone on return.

A change is a new registration that replaces the active one from the day it is made. The other kinds
are in `domain.remote_care`, `domain.care_registrations` and `domain.maternity`; `domain.benefit_items`
names each kind's catalogue item. Every registration with a `valid_to` expires the day after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from shared.errors import Conflict, Invalid
from svc_registration.domain.facility import KnownFacility, require_designated

RESIDENT_OUTPATIENT = "resident_outpatient"
SPECIAL_DISEASE = "special_disease"

# The 13 outpatient special diseases of seed 000 (门特病种类).
SPECIAL_DISEASES = {
    "dialysis": "肾透析治疗",
    "kidney_transplant_anti_rejection": "肾移植术抗排异治疗",
    "cancer_radio_chemotherapy": "癌症放化疗",
    "liver_transplant_anti_rejection": "肝移植术后抗排异",
    "haemophilia": "血友病",
    "diabetes": "糖尿病",
    "pulmonary_heart_disease": "肺心病",
    "lupus": "红斑狼疮",
    "hemiplegia": "偏瘫",
    "psychosis": "精神病",
    "epilepsy": "癫痫",
    "aplastic_anaemia": "再生障碍性贫血",
    "chronic_thrombocytopenic_purpura": "慢性血小板减少性紫癜",
}


@dataclass(frozen=True)
class BenefitRegistration:
    id: uuid.UUID
    person_id: uuid.UUID
    office_code: str
    kind: str
    facility_codes: tuple[str, ...]
    status: str  # active | replaced | expired
    valid_from: date
    valid_to: date | None
    registered_by: str
    registered_at: datetime
    replaced_by: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def replaced_with(self, successor: BenefitRegistration) -> BenefitRegistration:
        return replace(self, status="replaced", valid_to=successor.valid_from, replaced_by=successor.id)

    def expired(self) -> BenefitRegistration:
        return replace(self, status="expired")


def choose_resident_outpatient_hospital(
    person_id: uuid.UUID,
    office_code: str,
    hospital: KnownFacility | None,
    hospital_code: str,
    today: date,
    by: str,
    at: datetime,
) -> BenefitRegistration:
    require_designated(
        hospital, hospital_code, "hospital_code", programme="reformed_level2_outpatient", level=2
    )
    return BenefitRegistration(
        id=uuid.uuid4(),
        person_id=person_id,
        office_code=office_code,
        kind=RESIDENT_OUTPATIENT,
        facility_codes=(hospital_code,),
        status="active",
        valid_from=today,
        valid_to=None,
        registered_by=by,
        registered_at=at,
    )


def require_treatment_facility(treatment: KnownFacility | None, code: str) -> KnownFacility:
    """A special-disease treatment facility: a designated special-disease hospital or pharmacy."""
    chosen = require_designated(treatment, code, "treatment_facility", programme="special_disease")
    if chosen.kind not in ("medical_institution", "retail_pharmacy"):
        raise Invalid("not_a_treatment_facility", "门特治疗机构须为定点医院或药店",
                      errors=[{"field": "treatment_facility", "message": "须为定点医疗机构或零售药店"}])  # fmt: skip
    return chosen


def certify_special_disease(
    person_id: uuid.UUID,
    office_code: str,
    disease: str,
    certifier: KnownFacility | None,
    certifier_code: str,
    treatment: KnownFacility | None,
    treatment_code: str,
    certified_outside_city: bool,
    today: date,
    by: str,
    at: datetime,
) -> BenefitRegistration:
    """A certification registered: certified by a designated special-disease hospital, treated at a
    designated special-disease hospital or pharmacy."""
    certifying = require_designated(certifier, certifier_code, "certified_by", programme="special_disease")
    if certifying.kind != "medical_institution":
        raise Invalid("not_a_certifying_hospital", "鉴定机构须为医疗机构", f"{certifying.name}不是医疗机构",
                      errors=[{"field": "certified_by", "message": "须为门特病鉴定医院"}])  # fmt: skip
    require_treatment_facility(treatment, treatment_code)
    return BenefitRegistration(
        id=uuid.uuid4(),
        person_id=person_id,
        office_code=office_code,
        kind=SPECIAL_DISEASE,
        facility_codes=(treatment_code,),
        status="active",
        valid_from=today,
        valid_to=None,
        registered_by=by,
        registered_at=at,
        details={
            "disease": disease,
            "disease_name": SPECIAL_DISEASES[disease],
            "certified_by": certifier_code,
            # 首次门特鉴定登记在异地的参保人，如返回本市就医，需要由本市门特病鉴定中心进行重新鉴定并登记。
            "recertify_on_return": certified_outside_city,
        },
    )


def with_treatment_facility(
    current: BenefitRegistration,
    treatment: KnownFacility | None,
    treatment_code: str,
    today: date,
    by: str,
    at: datetime,
) -> BenefitRegistration:
    """A change of treatment hospital or pharmacy (unlimited): same certification, new facility."""
    if current.kind != SPECIAL_DISEASE or current.status != "active":
        raise Conflict("invalid_transition", "只有有效的门特登记可以变更治疗机构")
    require_treatment_facility(treatment, treatment_code)
    return replace(
        current,
        id=uuid.uuid4(),
        facility_codes=(treatment_code,),
        valid_from=today,
        registered_by=by,
        registered_at=at,
    )
