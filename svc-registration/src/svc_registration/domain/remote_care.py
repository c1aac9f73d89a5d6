"""Cross-province remote care filing (异地就医备案), seed 000 and catalogue items tj-2021-06/07:

- long-term residence (长期居住: resettled retirees, long-term residents, remote workers): open-ended,
  re-filed when the residence or the enrollment changes (the new filing replaces the old);
- temporary trips (临时外出): a referral (转外就医) is valid 90 days, an emergency 30 days; each next
  trip is filed again (the new filing replaces the old).

Validity follows the platform's convention (docs/architecture.md, Civil Code art. 201): the day of filing is day
0, so an emergency filing made on D is valid to the end of D + 30 and has expired on D + 31.

The destination is a 6-digit administrative code in another province (the filing is cross-province:
its first two digits differ from those of the person's office).

Claims applies the place of treatment's catalogue and this city's ratios. `details.remote_class` uses the
vocabulary claims already applies (svc_claims.domain.benefits.model.RemoteClass): `referred` (+5 self-pay
points at the receiving hospital, recorded in `self_pay_extra_points`), `temporary_emergency` and
`resident_remote` (long-term; both +0). `self_referred` (+10 points at a level-2/3 hospital, nothing
elsewhere) is the patient who went *without* a referral filing (未办理转外就医手续): there is no filing to
record, so claims applies it when it finds none; the seeds give no filing kind for it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.errors import Invalid
from svc_registration.domain.benefit import BenefitRegistration

REMOTE_CARE = "remote_care"


class RemoteKind(StrEnum):
    long_term = "long_term"  # 长期居住
    temporary = "temporary"  # 临时外出


class LongTermCategory(StrEnum):
    resettled_retiree = "resettled_retiree"  # 异地安置退休人员
    long_term_resident = "long_term_resident"  # 异地长期居住人员
    remote_worker = "remote_worker"  # 常驻异地工作人员


class TripReason(StrEnum):
    referral = "referral"  # 转诊转院
    emergency = "emergency"  # 急诊抢救


VALIDITY_DAYS = {TripReason.referral: 90, TripReason.emergency: 30}
# The class claims applies (svc_claims.domain.benefits.model.RemoteClass) and the extra self-pay points.
CLAIMS_CLASS = {TripReason.referral: ("referred", 5), TripReason.emergency: ("temporary_emergency", 0)}


def file_remote_care(
    person_id: uuid.UUID,
    office_code: str,
    kind: RemoteKind,
    destination: str,
    category: LongTermCategory | None,
    reason: TripReason | None,
    commitment: bool,
    today: date,
    by: str,
    at: datetime,
) -> BenefitRegistration:
    """备案: filed with a commitment letter (承诺制) in place of the residence or referral papers."""
    if not commitment:
        raise Invalid(
            "commitment_required",
            "异地就医备案须签署个人承诺书",
            errors=[{"field": "commitment", "message": "请确认承诺"}],
        )
    if destination[:2] == office_code[:2]:
        raise Invalid("not_cross_province", "跨省异地就医备案的就医地须在外省",
                      errors=[{"field": "destination", "message": "就医地与参保地在同一省份"}])  # fmt: skip
    if kind is RemoteKind.long_term:
        if category is None or reason is not None:
            raise Invalid("validation_failed", "请求参数不合法",
                          errors=[{"field": "category", "message": "长期居住备案须选择人员类别，且不填写外出原因"}])  # fmt: skip
        valid_to, claims_class, points = None, "resident_remote", 0
        details: dict[str, Any] = {"remote_kind": kind.value, "category": category.value}
    else:
        if reason is None or category is not None:
            raise Invalid("validation_failed", "请求参数不合法",
                          errors=[{"field": "reason", "message": "临时外出备案须填写外出原因（转诊或急诊），且不选择长期居住类别"}])  # fmt: skip
        valid_to = today + timedelta(days=VALIDITY_DAYS[reason])
        claims_class, points = CLAIMS_CLASS[reason]
        details = {
            "remote_kind": kind.value,
            "reason": reason.value,
            "validity_days": VALIDITY_DAYS[reason],
        }
    return BenefitRegistration(
        id=uuid.uuid4(), person_id=person_id, office_code=office_code, kind=REMOTE_CARE, facility_codes=(),
        status="active", valid_from=today, valid_to=valid_to, registered_by=by, registered_at=at,
        details={**details, "destination": destination, "remote_class": claims_class, "self_pay_extra_points": points},
    )  # fmt: skip
