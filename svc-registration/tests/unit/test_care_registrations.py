"""The benefit registrations' rules with the numbers of seed 000 (validity, counts, deadlines, levels)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from shared.errors import Problem
from svc_registration.domain.care_registrations import (
    AdmissionDocument,
    SarsInfection,
    fp_complication_window,
    hospitalization_letter,
    lost_receipt_deadline,
    maternity_referral,
    maternity_remote_facilities,
    pregnancy,
    require_fp_window,
    require_lost_receipt_in_time,
    sars_hospitals,
    tb_hospital,
)
from svc_registration.domain.facility import KnownFacility


def hospital(code: str = "H12010100001", level: int = 2, programmes: tuple[str, ...] = (), kind: str = "medical_institution") -> KnownFacility:
    return KnownFacility(code, f"医院{code[-3:]}", kind, level, "120101", frozenset(programmes), "designated", 1)


def fields(problem: Problem) -> set[str]:
    return {e["field"] for e in problem.errors or []}


def letter(**kw):  # type: ignore[no-untyped-def]
    args = {"hospital": hospital(), "hospital_code": "H12010100001", "admission_document": AdmissionDocument.commitment, "valid_days": 90,
            "transfer_from": None, "referral_form_no": None, "previous_unsettled": False, "previous_letter_no": None, "previous_amount": None}  # fmt: skip
    return hospitalization_letter(**{**args, **kw})


def test_a_hospitalization_letter_lasts_at_most_90_days_and_tells_all_missing_papers() -> None:
    assert letter()["admission_document"] == "commitment"
    with pytest.raises(Problem) as refused:
        letter(valid_days=91, transfer_from="H12010100002", previous_unsettled=True)
    assert fields(refused.value) == {"valid_days", "referral_form_no", "previous_letter_no", "previous_amount"}
    assert letter(previous_unsettled=True, previous_letter_no="ZG-1", previous_amount=Decimal("3200.5"))["previous_amount"] == "3200.50"
    with pytest.raises(Problem) as pharmacy:
        letter(hospital=hospital(kind="retail_pharmacy"))
    assert pharmacy.value.code == "not_a_hospital"
    with pytest.raises(Problem) as unknown:
        letter(hospital=None)
    assert unknown.value.code == "facility_unknown"


def test_tb_needs_a_tb_designated_hospital_and_a_level_2_diagnosis_for_remote_patients() -> None:
    tb_hospital(hospital(programmes=("tb_designated",)), "H12010100001", remote_patient=False, diagnosis_level=None)
    with pytest.raises(Problem) as not_tb:
        tb_hospital(hospital(), "H12010100001", False, None)
    assert not_tb.value.code == "facility_programme_missing"
    with pytest.raises(Problem) as low:
        tb_hospital(hospital(programmes=("tb_designated",)), "H12010100001", remote_patient=True, diagnosis_level=1)
    assert low.value.code == "diagnosis_level_too_low"


@pytest.mark.parametrize(("infection", "count", "level", "ok"), [
    (SarsInfection.in_hospital, 1, 3, True), (SarsInfection.in_hospital, 4, 2, True), (SarsInfection.in_hospital, 5, 2, False),
    (SarsInfection.social, 1, 1, True), (SarsInfection.social, 2, 1, False), (SarsInfection.social, 1, 2, False),
])  # fmt: skip
def test_sars_hospital_counts(infection: SarsInfection, count: int, level: int, ok: bool) -> None:
    chosen = [(f"H1201010000{n}", hospital(f"H1201010000{n}", level)) for n in range(count)]
    if ok:
        sars_hospitals(infection, chosen)
    else:
        with pytest.raises(Problem):
            sars_hospitals(infection, chosen)


@pytest.mark.parametrize(("scheme", "service", "benefit_end", "deadline"), [
    ("employee", "2026-06-10", None, "2027-04-30"),
    ("flexible", "2026-12-31", None, "2027-04-30"),
    ("resident", "2026-06-10", "2026-12-31", "2027-03-31"),
    ("resident", "2026-03-10", "2026-05-03", "2026-08-03"),  # coverage ended early (death, transfer)
])  # fmt: skip
def test_lost_receipt_deadlines_by_scheme(scheme: str, service: str, benefit_end: str | None, deadline: str) -> None:
    end = date.fromisoformat(benefit_end) if benefit_end else None
    assert lost_receipt_deadline(scheme, date.fromisoformat(service), end) == date.fromisoformat(deadline)
    require_lost_receipt_in_time(scheme, date.fromisoformat(service), end, date.fromisoformat(deadline))
    with pytest.raises(Problem) as late:
        require_lost_receipt_in_time(scheme, date.fromisoformat(service), end, date.fromisoformat(deadline) + timedelta(days=1))
    assert late.value.code == "lost_receipt_late" and deadline in late.value.errors[0]["message"]


@pytest.mark.parametrize(("days", "late"), [(0, False), (84, False), (85, True), (293, True)])
def test_pregnancy_on_time_within_12_weeks_late_until_delivery(days: int, late: bool) -> None:
    start = date(2026, 1, 1)
    valid_to, is_late = pregnancy(start, None, start + timedelta(days=days))
    assert is_late is late and valid_to == date(2026, 10, 22)  # 42 weeks


def test_no_pregnancy_registration_after_delivery_or_42_weeks() -> None:
    with pytest.raises(Problem) as delivered:
        pregnancy(date(2026, 1, 1), date(2026, 9, 1), date(2026, 9, 2))
    assert delivered.value.code == "pregnancy_registration_too_late"
    with pytest.raises(Problem):
        pregnancy(date(2026, 1, 1), None, date(2026, 10, 22))
    pregnancy(date(2026, 1, 1), date(2026, 9, 30), date(2026, 9, 2))  # delivery still to come


@pytest.mark.parametrize(("certified", "opens", "closes"), [
    ("2026-03-15", "2026-04-01", "2027-03-31"), ("2026-12-01", "2027-01-01", "2027-12-31"), ("2026-01-31", "2026-02-01", "2027-01-31"),
])  # fmt: skip
def test_fp_complication_window_is_12_months_from_the_month_after(certified: str, opens: str, closes: str) -> None:
    assert fp_complication_window(date.fromisoformat(certified)) == (date.fromisoformat(opens), date.fromisoformat(closes))
    assert require_fp_window(date.fromisoformat(certified), date.fromisoformat(closes)) == date.fromisoformat(closes)
    with pytest.raises(Problem) as late:
        require_fp_window(date.fromisoformat(certified), date.fromisoformat(closes) + timedelta(days=1))
    assert late.value.code == "fp_complication_late"


@pytest.mark.parametrize("count", [0, 5])
def test_maternity_remote_care_takes_1_to_4_facilities(count: int) -> None:
    maternity_remote_facilities([("A1", "甲"), ("A2", "乙"), ("A3", "丙"), ("A4", "丁")])
    with pytest.raises(Problem):
        maternity_remote_facilities([(f"A{n}", "x") for n in range(count)])
    with pytest.raises(Problem):
        maternity_remote_facilities([("A1", "甲"), ("A1", "甲")])


@pytest.mark.parametrize(("sending", "receiving", "ok"), [(2, 2, True), (2, 3, True), (3, 2, False)])
def test_a_maternity_referral_goes_to_the_same_or_a_higher_level(sending: int, receiving: int, ok: bool) -> None:
    a, b = hospital("H12010100001", sending, ("maternity",)), hospital("H12010100002", receiving, ("maternity",))
    if ok:
        maternity_referral(a, a.code, b, b.code)
    else:
        with pytest.raises(Problem) as lower:
            maternity_referral(a, a.code, b, b.code)
        assert lower.value.code == "referral_to_lower_level"
    with pytest.raises(Problem):
        maternity_referral(a, a.code, hospital("H12010100003", 3), "H12010100003")  # not designated for maternity
