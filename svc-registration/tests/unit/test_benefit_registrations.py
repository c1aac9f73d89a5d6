"""Every benefit-registration rule of seed 000 with its numbers: validity days, counts, the 12-week and
42-week limits, the complication window, the lost-receipt deadlines per scheme, the referral levels, and
which items any district office may handle."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.errors import DomainError
from svc_registration.domain.benefit_items import CATALOGUE_ITEMS, KINDS, handled_citywide
from svc_registration.domain.care_registrations import (
    AdmissionDocument,
    LetterRequest,
    PreviousStay,
    SarsInfection,
    hospitalization_letter,
    lost_receipt_deadline,
    require_lost_receipt_in_time,
    sars_hospitals,
    tb_choice_given,
    tb_local_hospital,
    tb_remote_patient,
)
from svc_registration.domain.facility import KnownFacility
from svc_registration.domain.maternity import (
    MaternityRemoteCategory,
    MaternityStay,
    fp_complication_window,
    maternity_referral,
    maternity_remote_facilities,
    missing_basis,
    pregnancy,
    pregnancy_start,
    require_fp_window,
    stay_basis,
    unit_files_only_remote_workers,
)
from svc_registration.domain.remote_care import LongTermCategory, RemoteKind, TripReason, file_remote_care

TODAY = date(2026, 11, 22)
H = "H12010100001"


def hospital(
    code: str = H, level: int = 2, programmes: tuple[str, ...] = (), kind: str = "medical_institution"
) -> KnownFacility:
    return KnownFacility(
        code, f"医院{code[-3:]}", kind, level, "120101", frozenset(programmes), "designated", 1
    )


def fields(problem: DomainError) -> set[str]:
    return {e["field"] for e in problem.errors or []}


def refused(call, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


# ---------------------------------------------------------------------------------- hospitalization letter


def letter(today: date = TODAY, facility: KnownFacility | None = None, **kw):  # type: ignore[no-untyped-def]
    request = LetterRequest(
        **{"hospital_code": H, "admission_document": AdmissionDocument.admission_slip, **kw}
    )
    return hospitalization_letter(request, facility or hospital(), today)


@pytest.mark.parametrize(
    ("days", "valid_to"), [(1, date(2026, 11, 23)), (30, date(2026, 12, 22)), (90, date(2027, 2, 20))]
)
def test_a_letter_is_valid_at_most_90_days_from_issue(days: int, valid_to: date) -> None:
    assert letter(valid_days=days)[0] == valid_to
    assert letter()[0] == TODAY + timedelta(days=90)  # 90 unless a shorter end is asked


@pytest.mark.parametrize("days", [0, 91])
def test_a_letter_longer_than_90_days_or_empty_is_refused(days: int) -> None:
    problem = refused(letter, valid_days=days)
    assert problem.status == 422 and fields(problem) == {"valid_days"}


def test_a_commitment_replaces_the_admission_slip_and_states_date_and_diagnosis() -> None:
    _, details = letter(admission_document=AdmissionDocument.commitment, admitted_on=TODAY, diagnosis="肺炎")
    assert details["admission_document"] == "commitment" and details["diagnosis"] == "肺炎"
    assert letter()[1]["admission_document"] == "admission_slip"
    assert fields(refused(letter, admission_document=AdmissionDocument.commitment)) == {
        "admitted_on",
        "diagnosis",
    }


def test_every_missing_paper_is_told_at_once() -> None:
    problem = refused(
        letter,
        admission_document=AdmissionDocument.commitment,
        transfer_from="H12010100002",
        previous_unsettled=True,
    )
    assert problem.code == "materials_missing"
    assert fields(problem) == {"admitted_on", "diagnosis", "referral_form_no", "previous_stay"}


def test_a_transfer_needs_the_referral_form_and_another_hospital() -> None:
    assert letter(transfer_from="H12010100002", referral_form_no="ZZ-1")[1]["referral_form_no"] == "ZZ-1"
    assert fields(refused(letter, transfer_from="H12010100002")) == {"referral_form_no"}
    assert fields(refused(letter, transfer_from=H, referral_form_no="ZZ-1")) == {"transfer_from"}


def test_a_readmission_before_settlement_carries_the_previous_letter_and_amounts() -> None:
    previous = PreviousStay("ZG-1", date(2026, 11, 1), Decimal("120.5"), Decimal("30"), Decimal("3200.456"))
    _, details = letter(previous_unsettled=True, previous_stay=previous)
    assert details["previous_stay"] == {"letter_no": "ZG-1", "discharged_on": "2026-11-01", "self_pay": "120.50",
                                        "extra_self_pay": "30.00", "claimed": "3200.46"}  # fmt: skip
    later = PreviousStay("ZG-1", TODAY + timedelta(days=1), Decimal(0), Decimal(0), Decimal(0))
    assert fields(refused(letter, previous_unsettled=True, previous_stay=later)) == {
        "previous_stay.discharged_on"
    }


@pytest.mark.parametrize(("facility", "code"), [
    (hospital(kind="retail_pharmacy"), "not_a_hospital"),
    (KnownFacility(H, "停业医院", "medical_institution", 2, "120101", frozenset(), "suspended", 2), "facility_not_designated"),
])  # fmt: skip
def test_a_letter_is_for_a_designated_hospital(facility: KnownFacility, code: str) -> None:
    assert refused(letter, facility=facility).code == code
    assert (
        refused(hospitalization_letter, LetterRequest(H, AdmissionDocument.admission_slip), None, TODAY).code
        == "facility_unknown"
    )


# --------------------------------------------------------------------------------------------- remote care


def filing(
    kind: RemoteKind, category=None, reason=None, commitment: bool = True, destination: str = "310101"
):  # type: ignore[no-untyped-def]
    return file_remote_care(
        uuid.uuid4(),
        "120101",
        kind,
        destination,
        category,
        reason,
        commitment,
        TODAY,
        "p",
        datetime(2026, 11, 22, tzinfo=UTC),
    )


@pytest.mark.parametrize(("reason", "days", "remote_class", "points"), [
    (TripReason.emergency, 30, "temporary_emergency", 0),
    (TripReason.referral, 90, "referred", 5),
])  # fmt: skip
def test_a_trip_filing_holds_30_days_for_an_emergency_and_90_for_a_referral(
    reason: TripReason, days: int, remote_class: str, points: int
) -> None:
    f = filing(RemoteKind.temporary, reason=reason)
    assert (f.valid_from, f.valid_to) == (
        TODAY,
        TODAY + timedelta(days=days),
    )  # day 0 = filing: expired on day days + 1
    assert f.details["remote_class"] == remote_class and f.details["self_pay_extra_points"] == points
    assert f.details["destination"] == "310101" and f.details["remote_kind"] == "temporary"


def test_a_long_term_filing_is_open_ended() -> None:
    f = filing(RemoteKind.long_term, category=LongTermCategory.resettled_retiree)
    assert (
        f.valid_to is None
        and f.details["remote_class"] == "resident_remote"
        and f.details["category"] == "resettled_retiree"
    )


@pytest.mark.parametrize(("kind", "category", "reason", "commitment", "destination", "code", "field"), [
    (RemoteKind.temporary, None, None, True, "310101", "validation_failed", "reason"),
    (RemoteKind.temporary, LongTermCategory.remote_worker, TripReason.emergency, True, "310101", "validation_failed", "reason"),
    (RemoteKind.long_term, None, None, True, "310101", "validation_failed", "category"),
    (RemoteKind.long_term, LongTermCategory.remote_worker, None, False, "310101", "commitment_required", "commitment"),
    (RemoteKind.temporary, None, TripReason.emergency, True, "120105", "not_cross_province", "destination"),
])  # fmt: skip
def test_incomplete_or_local_filings_are_refused(
    kind, category, reason, commitment, destination, code, field
) -> None:  # type: ignore[no-untyped-def]
    problem = refused(filing, kind, category, reason, commitment, destination)
    assert (problem.status, problem.code, fields(problem)) == (422, code, {field})


# ---------------------------------------------------------------------------------------------------- TB


def test_tb_takes_one_tb_designated_hospital_here() -> None:
    tb_local_hospital(hospital(programmes=("tb_designated",)), H)
    assert refused(tb_local_hospital, hospital(), H).code == "facility_programme_missing"
    assert (
        refused(tb_local_hospital, hospital(programmes=("tb_designated",), kind="retail_pharmacy"), H).code
        == "not_a_hospital"
    )


@pytest.mark.parametrize(("level", "ok"), [(None, False), (1, False), (2, True), (3, True)])
def test_a_remote_tb_patient_needs_a_level_2_or_higher_diagnosis(level: int | None, ok: bool) -> None:
    if ok:
        tb_remote_patient(level)
    else:
        assert refused(tb_remote_patient, level).code == "diagnosis_level_too_low"


def test_tb_names_the_local_hospital_or_the_remote_one_never_both() -> None:
    tb_choice_given(False, H, None)
    tb_choice_given(True, None, ("SH-1", "上海某医院"))
    assert fields(refused(tb_choice_given, False, None, None)) == {"hospital_code"}
    assert fields(refused(tb_choice_given, False, H, ("SH-1", "x"))) == {"hospital_code"}
    assert fields(refused(tb_choice_given, True, H, None)) == {"remote_hospital"}


# -------------------------------------------------------------------------------------------------- SARS


@pytest.mark.parametrize(("infection", "count", "level", "ok"), [
    (SarsInfection.in_hospital, 0, 2, False), (SarsInfection.in_hospital, 1, 3, True), (SarsInfection.in_hospital, 4, 1, True),
    (SarsInfection.in_hospital, 5, 2, False), (SarsInfection.social, 1, 1, True), (SarsInfection.social, 2, 1, False),
    (SarsInfection.social, 1, 2, False), (SarsInfection.social, 0, 1, False),
])  # fmt: skip
def test_sars_in_hospital_chooses_1_to_4_social_one_community_hospital(
    infection: SarsInfection, count: int, level: int, ok: bool
) -> None:
    chosen = [(f"H1201010000{n}", hospital(f"H1201010000{n}", level)) for n in range(count)]
    if ok:
        sars_hospitals(infection, chosen)
    else:
        assert fields(refused(sars_hospitals, infection, chosen)) == {"hospital_codes"}


def test_sars_hospitals_are_distinct_and_designated() -> None:
    twice = [(H, hospital()), (H, hospital())]
    assert refused(sars_hospitals, SarsInfection.in_hospital, twice).code == "validation_failed"
    assert refused(sars_hospitals, SarsInfection.in_hospital, [(H, None)]).code == "facility_unknown"


# ------------------------------------------------------------------------------------------ lost receipt


@pytest.mark.parametrize(("scheme", "service", "benefit_end", "deadline"), [
    ("employee", "2026-06-10", None, "2027-04-30"),
    ("employee", "2026-01-01", None, "2027-04-30"),
    ("flexible", "2026-12-31", None, "2027-04-30"),
    ("resident", "2026-06-10", "2026-12-31", "2027-03-31"),
    ("resident", "2026-06-10", None, "2027-03-31"),  # no stored end: the resident year
    ("resident", "2026-10-10", "2026-12-31", "2027-03-31"),
    ("resident", "2026-03-10", "2026-05-03", "2026-08-03"),  # coverage ended early (death, transfer)
])  # fmt: skip
def test_lost_receipt_deadline_per_scheme_at_before_and_after(
    scheme: str, service: str, benefit_end: str | None, deadline: str
) -> None:
    end, served, last = (
        date.fromisoformat(benefit_end) if benefit_end else None,
        date.fromisoformat(service),
        date.fromisoformat(deadline),
    )
    assert lost_receipt_deadline(scheme, served, end) == last
    assert require_lost_receipt_in_time(scheme, served, end, last - timedelta(days=1)) == last  # before
    assert require_lost_receipt_in_time(scheme, served, end, last) == last  # on the last day
    late = refused(require_lost_receipt_in_time, scheme, served, end, last + timedelta(days=1))  # after
    assert (late.status, late.code, late.extra["deadline"]) == (422, "lost_receipt_late", deadline)
    assert deadline in (late.detail or "") and fields(late) == {"service_date"}


def test_a_lost_receipt_from_the_future_is_refused() -> None:
    assert fields(
        refused(require_lost_receipt_in_time, "employee", TODAY + timedelta(days=1), None, TODAY)
    ) == {"service_date"}


# --------------------------------------------------------------------------------------------- pregnancy


@pytest.mark.parametrize(
    ("days", "late"), [(0, False), (83, False), (84, False), (85, True), (200, True), (293, True)]
)
def test_pregnancy_on_time_within_12_weeks_late_after(days: int, late: bool) -> None:
    start = date(2026, 1, 1)
    valid_to, is_late = pregnancy(start, None, start + timedelta(days=days))
    assert is_late is late and valid_to == start + timedelta(weeks=42) == date(2026, 10, 22)


def test_no_pregnancy_registration_on_or_after_delivery_nor_from_week_42() -> None:
    start = date(2026, 1, 1)
    assert fields(refused(pregnancy, start, date(2026, 9, 1), date(2026, 9, 2))) == {"delivered_on"}
    assert (
        refused(pregnancy, start, date(2026, 9, 2), date(2026, 9, 2)).code
        == "pregnancy_registration_too_late"
    )
    pregnancy(start, date(2026, 9, 3), date(2026, 9, 2))  # delivery still to come: late registration allowed
    week_42 = refused(pregnancy, start, None, start + timedelta(weeks=42))
    assert week_42.code == "pregnancy_registration_too_late" and fields(week_42) == {"pregnancy_started_on"}
    assert fields(refused(pregnancy, start, date(2025, 12, 1), date(2026, 2, 1))) == {
        "delivered_on"
    }  # before the start
    assert fields(refused(pregnancy, TODAY + timedelta(days=1), None, TODAY)) == {"pregnancy_started_on"}


def test_the_weeks_count_from_the_last_period_or_the_start_given() -> None:
    assert pregnancy_start(date(2026, 1, 1), None) == (date(2026, 1, 1), "last_menstrual_period")
    assert pregnancy_start(None, date(2026, 1, 15)) == (date(2026, 1, 15), "pregnancy_start")
    assert refused(pregnancy_start, None, None).code == "validation_failed"
    assert refused(pregnancy_start, date(2026, 1, 1), date(2026, 1, 15)).code == "validation_failed"


# -------------------------------------------------------------------------------- maternity remote, stays


@pytest.mark.parametrize(("count", "ok"), [(0, False), (1, True), (4, True), (5, False)])
def test_maternity_remote_care_takes_1_to_4_facilities(count: int, ok: bool) -> None:
    chosen = [(f"A{n}", f"机构{n}") for n in range(count)]
    if ok:
        maternity_remote_facilities(chosen)
    else:
        assert fields(refused(maternity_remote_facilities, chosen)) == {"facilities"}
    assert refused(maternity_remote_facilities, [("A1", "甲"), ("A1", "甲")]).code == "validation_failed"


def test_a_unit_files_maternity_remote_care_only_for_remote_workers() -> None:
    unit_files_only_remote_workers(MaternityRemoteCategory.remote_worker)
    for category in set(MaternityRemoteCategory) - {MaternityRemoteCategory.remote_worker}:
        assert refused(unit_files_only_remote_workers, category).status == 403


def test_a_maternity_stay_rests_on_the_pregnancy_or_the_complication_registration() -> None:
    assert (stay_basis(MaternityStay.childbirth), stay_basis(MaternityStay.termination)) == (
        "pregnancy",
        "pregnancy",
    )
    assert stay_basis(MaternityStay.fp_complication) == "fp_complication"
    assert missing_basis(MaternityStay.childbirth).code == "pregnancy_registration_required"
    assert missing_basis(MaternityStay.fp_complication).code == "fp_complication_registration_required"


# ---------------------------------------------------------------------------------- complication window


@pytest.mark.parametrize(("certified", "opens", "closes"), [
    ("2026-03-15", "2026-04-01", "2027-03-31"), ("2026-12-01", "2027-01-01", "2027-12-31"),
    ("2026-01-31", "2026-02-01", "2027-01-31"), ("2026-11-30", "2026-12-01", "2027-11-30"),
])  # fmt: skip
def test_the_complication_window_is_12_months_from_the_month_after_the_certificate(
    certified: str, opens: str, closes: str
) -> None:
    certificate, first, last = (
        date.fromisoformat(certified),
        date.fromisoformat(opens),
        date.fromisoformat(closes),
    )
    assert fp_complication_window(certificate) == (first, last)
    assert require_fp_window(certificate, first) == (first, last)
    assert require_fp_window(certificate, last) == (first, last)
    late = refused(require_fp_window, certificate, last + timedelta(days=1))
    assert late.code == "fp_complication_late" and opens in late.detail and closes in late.detail  # type: ignore[operator]
    assert late.extra["window"] == {"opens": opens, "closes": closes}


def test_a_complication_registered_in_the_certificates_month_is_accepted_a_future_one_refused() -> None:
    require_fp_window(date(2026, 3, 15), date(2026, 3, 20))
    assert fields(refused(require_fp_window, date(2026, 3, 15), date(2026, 3, 14))) == {"certified_on"}


# ------------------------------------------------------------------------------------------------ referral


@pytest.mark.parametrize(
    ("sending", "receiving", "ok"),
    [(1, 1, True), (1, 3, True), (2, 2, True), (2, 3, True), (3, 2, False), (2, 1, False)],
)
def test_a_maternity_referral_goes_to_the_same_or_a_higher_level(
    sending: int, receiving: int, ok: bool
) -> None:
    a, b = (
        hospital("H12010100001", sending, ("maternity",)),
        hospital("H12010100002", receiving, ("maternity",)),
    )
    if ok:
        maternity_referral(a, a.code, b, b.code, False, None)
    else:
        lower = refused(maternity_referral, a, a.code, b, b.code, False, None)
        assert lower.code == "referral_to_lower_level" and fields(lower) == {"receiving_hospital"}


def test_a_maternity_referral_goes_to_another_maternity_hospital_with_the_form_at_the_counter() -> None:
    a, b = hospital("H12010100001", 2, ("maternity",)), hospital("H12010100002", 3, ("maternity",))
    plain = hospital("H12010100003", 3)
    assert (
        refused(maternity_referral, a, a.code, plain, plain.code, False, None).code
        == "facility_programme_missing"
    )
    assert fields(refused(maternity_referral, a, a.code, a, a.code, False, None)) == {"receiving_hospital"}
    assert fields(refused(maternity_referral, a, a.code, b, b.code, True, None)) == {"referral_form_no"}
    maternity_referral(a, a.code, b, b.code, True, "ZY-7")


# ------------------------------------------------------------------------------------- catalogue items


def test_every_kind_is_a_catalogue_item_and_only_two_are_not_citywide() -> None:
    assert set(KINDS) == set(CATALOGUE_ITEMS) and len(KINDS) == 14  # 13 items and the family-doctor signing
    assert {kind for kind in KINDS if not handled_citywide(kind)} == {"lost_receipt", "deputy_director_flag"}
