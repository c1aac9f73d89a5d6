"""Family-doctor signing (家庭医生签约), seed 001: a person who signs with a family doctor of their primary-care
facility (基层医疗机构) gets, from the month after signing, 200 yuan more outpatient allowance and 5 points more
outpatient reimbursement. Claims applies that benefit only from this record, never from what a request says.

What is recorded: the primary-care facility (a designated level-1 medical institution, `facility_codes`), the
doctor's name, the day of signing (`valid_from`, also `details.signed_on`) and, when the contract has a term,
its last day (`valid_to`). A new signing replaces the active one from its own day. A signing may be recorded
on a later day than it was made, but never for a day still to come.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from shared.errors import Invalid
from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.domain.facility import KnownFacility, require_designated

FAMILY_DOCTOR = "family_doctor"
PRIMARY_CARE_LEVEL = 1  # 基层医疗机构: community health centres and township hospitals (一级)


def sign_family_doctor(
    person_id: uuid.UUID,
    office_code: str,
    facility: KnownFacility | None,
    facility_code: str,
    doctor_name: str,
    signed_on: date,
    valid_to: date | None,
    today: date,
    by: str,
    at: datetime,
) -> BenefitRegistration:
    chosen = require_designated(facility, facility_code, "facility_code", level=PRIMARY_CARE_LEVEL)
    if chosen.kind != "medical_institution":
        raise Invalid("not_primary_care", "家庭医生签约机构须为基层医疗机构",
                      errors=[{"field": "facility_code", "message": "须为一级定点医疗机构"}])  # fmt: skip
    if signed_on > today:
        raise Invalid("signed_in_future", "签约日期不能晚于今天",
                      errors=[{"field": "signed_on", "message": "不能晚于今天"}])  # fmt: skip
    if valid_to is not None and valid_to < signed_on:
        raise Invalid("validation_failed", "请求参数不合法",
                      errors=[{"field": "valid_to", "message": "签约截止日期不能早于签约日期"}])  # fmt: skip
    return BenefitRegistration(
        id=uuid.uuid4(),
        person_id=person_id,
        office_code=office_code,
        kind=FAMILY_DOCTOR,
        facility_codes=(facility_code,),
        status="active",
        valid_from=signed_on,
        valid_to=valid_to,
        registered_by=by,
        registered_at=at,
        details={"doctor_name": doctor_name, "signed_on": signed_on.isoformat()},
    )
