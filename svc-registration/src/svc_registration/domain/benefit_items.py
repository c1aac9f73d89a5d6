"""Which service item of the catalogue (seed 002, `shared.directory`) each benefit registration is.

The catalogue's flags decide who may handle an item at the counter: an item marked 全市通办
(citywide) is handled by any district office, whatever the person's office (seed 000 says the same,
e.g. 住院资格确认书 "可在全市各医保分中心办理"); the others (遗失票据登记, 副司局级人员标识维护) only
by the person's own office (参保地分中心). The registration still belongs to the person's office.
"""

from __future__ import annotations

from shared.directory import catalogue_item
from svc_registration.domain.benefit import RESIDENT_OUTPATIENT, SPECIAL_DISEASE
from svc_registration.domain.care_registrations import (
    DEPUTY_DIRECTOR,
    FP_COMPLICATION,
    HOSPITALIZATION,
    LOST_RECEIPT,
    MATERNITY_HOSPITALIZATION,
    MATERNITY_REFERRAL,
    MATERNITY_REMOTE,
    PREGNANCY,
    SARS,
    TB,
)
from svc_registration.domain.family_doctor import FAMILY_DOCTOR
from svc_registration.domain.remote_care import REMOTE_CARE

CATALOGUE_ITEMS: dict[str, str] = {
    REMOTE_CARE: "tj-2021-07",  # 06 long-term and 07 temporary carry the same flags
    HOSPITALIZATION: "tj-2021-08",
    SPECIAL_DISEASE: "tj-2021-09",
    LOST_RECEIPT: "tj-2021-10",
    TB: "tj-2021-11",
    RESIDENT_OUTPATIENT: "tj-2021-12",
    DEPUTY_DIRECTOR: "tj-2021-13",
    SARS: "tj-2021-14",
    PREGNANCY: "tj-2021-17",
    MATERNITY_REMOTE: "tj-2021-18",
    FP_COMPLICATION: "tj-2021-19",
    MATERNITY_REFERRAL: "tj-2021-20",
    MATERNITY_HOSPITALIZATION: "tj-2021-21",
    # The catalogue lists no item of its own for the signing; it changes outpatient benefits, so it is
    # handled like the outpatient registration (医疗保险登记).
    FAMILY_DOCTOR: "tj-2021-12",
}
KINDS = tuple(CATALOGUE_ITEMS)


def handled_citywide(kind: str) -> bool:
    item = catalogue_item(CATALOGUE_ITEMS[kind])
    return item is not None and "citywide" in item.flags
