"""Benefit registrations (待遇登记: 门特, 居民门诊, 异地就医, 住院, 生育 …) and the registry projection they rest on."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import new_envelope
from shared.events.catalog import (
    RegistrationBenefitExpiredV1,
    RegistrationBenefitRegisteredV1,
)
from shared.money import money_text
from svc_registration.domain.access import (
    benefit_listing_scope,
    in_clerks_city,
    may_reach_person,
    may_rest_on,
    may_see_benefit,
    own_facility,
    person_acted_for,
)
from svc_registration.domain.benefit import (
    RESIDENT_OUTPATIENT,
    SPECIAL_DISEASE,
    BenefitRegistration,
    certify_special_disease,
    choose_resident_outpatient_hospital,
    with_treatment_facility,
)
from svc_registration.domain.benefit_items import handled_citywide
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
    AdmissionDocument,
    LetterRequest,
    SarsInfection,
    hospitalization_letter,
    not_after,
    require_lost_receipt_in_time,
    sars_hospitals,
    tb_choice_given,
    tb_local_hospital,
    tb_remote_patient,
)
from svc_registration.domain.care_registrations import registration as care_registration
from svc_registration.domain.enrollment import (
    Enrollment,
)
from svc_registration.domain.facility import require_designated
from svc_registration.domain.family_doctor import FAMILY_DOCTOR, sign_family_doctor
from svc_registration.domain.maternity import (
    MaternityRemoteCategory,
    MaternityStay,
    maternity_referral,
    maternity_remote_facilities,
    missing_basis,
    pregnancy,
    pregnancy_start,
    require_fp_window,
    require_maternity_hospital,
    stay_basis,
    unit_files_only_remote_workers,
)
from svc_registration.domain.remote_care import REMOTE_CARE, LongTermCategory, RemoteKind, TripReason
from svc_registration.domain.remote_care import file_remote_care as remote_care_filing
from svc_registration.repository.benefits import Benefits
from svc_registration.repository.enrollments import Enrollments
from svc_registration.repository.facilities import Facilities


async def _covered_today(
    uow: UnitOfWork, person_id: uuid.UUID, today: date, actor: Principal, scheme: str | None
) -> Enrollment:
    """The coverage the registration rests on; a hospital registering its patient learns only that it exists."""
    enrollment = await Enrollments(uow).approved_enrollment_covering(person_id, today, scheme)
    if enrollment is not None and may_rest_on(actor, enrollment):
        return enrollment
    if actor.role is not Role.facility and not await _may_see_person(uow, actor, person_id):
        raise NotFound(
            "参保人"
        )  # another office's person: as if unknown, before saying they have no coverage
    what = "城乡居民医保" if scheme == "resident" else "基本医疗保险"
    raise Conflict("no_coverage", f"无有效的{what}参保登记", f"{today} 不在{what}待遇享受期内")


async def _may_see_person(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID) -> bool:
    """The person is within the caller's reach (domain.access); their records are read only when that needs them."""
    if actor.role in (Role.insured, Role.admin):
        return may_reach_person(actor, person_id, [], None)
    enrollments = await Enrollments(uow).enrollments_of(person_id)
    if may_reach_person(actor, person_id, enrollments, None) or actor.role is not Role.staff:
        return may_reach_person(actor, person_id, enrollments, None)
    person = await Enrollments(uow).get_person(person_id)
    return may_reach_person(actor, person_id, enrollments, person.office_code if person else None)


async def _activate(
    uow: UnitOfWork, registration: BenefitRegistration, current: BenefitRegistration | None
) -> BenefitRegistration:
    """The new registration replaces the active one of its kind from today, and is announced."""
    if current is not None:
        await Benefits(uow.session).save_benefit(current.replaced_with(registration))
    await Benefits(uow.session).save_benefit(registration)
    uow.emit(
        new_envelope(
            RegistrationBenefitRegisteredV1(
                registration_id=registration.id,
                person_id=registration.person_id,
                office_code=registration.office_code,
                kind=registration.kind,
                facility_codes=list(registration.facility_codes),
                valid_from=registration.valid_from,
                valid_to=registration.valid_to,
                replaces=current.id if current else None,
                details=registration.details,
            ),
            uow.clock,
        )
    )
    return registration


async def _coverage(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    day: date,
    actor: Principal,
    kind: str,
    scheme: str | None = None,
) -> Enrollment:
    """The coverage a registration of `kind` rests on. Staff of any office handle the items the catalogue
    marks 全市通办 (domain.benefit_items); the registration still belongs to the person's office."""
    if actor.role is Role.staff and handled_citywide(kind):
        enrollment = await Enrollments(uow).approved_enrollment_covering(person_id, day, scheme)
        if enrollment is not None and in_clerks_city(actor, enrollment.office_code):
            return enrollment
    return await _covered_today(uow, person_id, day, actor, scheme)


def _valid_on(registration: BenefitRegistration | None, day: date) -> bool:
    """Active and not past its end (the expiry job may not have run yet today)."""
    return registration is not None and (registration.valid_to is None or registration.valid_to >= day)


async def register_resident_outpatient(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID | None, hospital_code: str
) -> BenefitRegistration:
    """城乡居民门(急)诊就医登记: a resident covered today chooses one reformed level-2 hospital."""
    person_id = person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(uow, person_id, today, actor, RESIDENT_OUTPATIENT, "resident")
    registration = choose_resident_outpatient_hospital(
        person_id,
        enrollment.office_code,
        await Facilities(uow.session).get_facility(hospital_code),
        hospital_code,
        today,
        actor.subject,
        uow.clock.now(),
    )
    return await _activate(
        uow, registration, await Benefits(uow.session).active_benefit(person_id, RESIDENT_OUTPATIENT)
    )


async def register_family_doctor(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    facility_code: str,
    doctor_name: str,
    signed_on: date,
    valid_to: date | None,
) -> BenefitRegistration:
    """家庭医生签约: recorded by staff or by the primary-care facility itself; replaces the active signing."""
    own_facility(actor, facility_code, "facility_code")
    person_id = person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(uow, person_id, today, actor, FAMILY_DOCTOR)
    registration = sign_family_doctor(
        person_id, enrollment.office_code, await Facilities(uow.session).get_facility(facility_code),
        facility_code, doctor_name, signed_on, valid_to, today, actor.subject, uow.clock.now(),
    )  # fmt: skip
    return await _activate(
        uow, registration, await Benefits(uow.session).active_benefit(person_id, FAMILY_DOCTOR)
    )


async def register_special_disease(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    disease: str,
    certified_by: str,
    treatment_facility: str,
    certified_outside_city: bool,
) -> BenefitRegistration:
    """门特登记: a certification for one of the 13 diseases, with the chosen treatment hospital or pharmacy."""
    person_id = person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(uow, person_id, today, actor, SPECIAL_DISEASE)
    registration = certify_special_disease(
        person_id,
        enrollment.office_code,
        disease,
        await Facilities(uow.session).get_facility(certified_by),
        certified_by,
        await Facilities(uow.session).get_facility(treatment_facility),
        treatment_facility,
        certified_outside_city,
        today,
        actor.subject,
        uow.clock.now(),
    )
    return await _activate(
        uow,
        registration,
        await Benefits(uow.session).active_benefit(person_id, SPECIAL_DISEASE, disease=disease),
    )


async def change_treatment_facility(
    uow: UnitOfWork, actor: Principal, registration_id: uuid.UUID, *, treatment_facility: str
) -> BenefitRegistration:
    """门特治疗医院、药店变更 (unlimited)."""
    current = await visible_benefit(uow, actor, registration_id)
    changed = with_treatment_facility(
        current,
        await Facilities(uow.session).get_facility(treatment_facility),
        treatment_facility,
        uow.clock.today(),
        actor.subject,
        uow.clock.now(),
    )
    locked = await Benefits(uow.session).active_benefit(
        current.person_id, SPECIAL_DISEASE, disease=current.details["disease"]
    )
    if locked is None or locked.id != current.id:
        raise Conflict("invalid_transition", "该门特登记已被变更或失效", "请刷新后重试")
    return await _activate(uow, changed, locked)


async def visible_benefit(
    uow: UnitOfWork, actor: Principal, registration_id: uuid.UUID
) -> BenefitRegistration:
    registration = await Benefits(uow.session).get_benefit(registration_id)
    visible = registration is not None and may_see_benefit(actor, registration)
    if not visible:
        raise NotFound("待遇登记")
    return registration  # type: ignore[return-value]


async def list_benefits(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    kind: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[BenefitRegistration], int]:
    """An insured person's own registrations (asking for another's is refused); staff those of their
    office and the offices below it (city staff: their city's), of one person if given."""
    person_id, offices = benefit_listing_scope(actor, person_id)
    return await Benefits(uow.session).benefits_page(person_id, offices, kind, status, offset, limit)


async def file_remote_care(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    kind: RemoteKind,
    destination: str,
    category: LongTermCategory | None,
    reason: TripReason | None,
    commitment: bool,
) -> BenefitRegistration:
    """异地就医备案: the new filing of a kind (long-term, or this trip) replaces the active one."""
    person_id = person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _coverage(uow, person_id, today, actor, REMOTE_CARE)
    filing = remote_care_filing(
        person_id,
        enrollment.office_code,
        kind,
        destination,
        category,
        reason,
        commitment,
        today,
        actor.subject,
        uow.clock.now(),
    )
    return await _activate(
        uow,
        filing,
        await Benefits(uow.session).active_benefit(person_id, REMOTE_CARE, remote_kind=kind.value),
    )


async def expire_benefits(uow: UnitOfWork, after: object = None, batch: int = 200) -> int | None:
    """One page of the expiry scan (shared.scans): registrations past their last valid day become expired and
    registration.benefit_expired is raised once. Expired rows leave the scan, so no position is kept: returns
    how many expired (go on) or None when none did (the scan is complete)."""
    today = uow.clock.today()
    due = await Benefits(uow.session).benefits_due_to_expire(today, batch)
    for registration in due:
        assert registration.valid_to is not None  # only registrations with an end are due
        await Benefits(uow.session).save_benefit(registration.expired())
        uow.emit(
            new_envelope(
                RegistrationBenefitExpiredV1(
                    registration_id=registration.id,
                    person_id=registration.person_id,
                    office_code=registration.office_code,
                    kind=registration.kind,
                    expired_on=registration.valid_to + timedelta(days=1),
                    details=registration.details,
                ),
                uow.clock,
            )
        )
    return len(due) or None


async def _covered_subject(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None, kind: str
) -> tuple[uuid.UUID, date, Enrollment]:
    person = person_acted_for(actor, person_id)
    today = uow.clock.today()
    return person, today, await _coverage(uow, person, today, actor, kind)


async def issue_hospitalization_letter(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID | None, request: LetterRequest
) -> BenefitRegistration:
    """住院资格确认书: one per stay (letters do not replace each other)."""
    own_facility(actor, request.hospital_code, "hospital_code")
    person, today, enrollment = await _covered_subject(uow, actor, person_id, HOSPITALIZATION)
    valid_to, details = hospitalization_letter(
        request, await Facilities(uow.session).get_facility(request.hospital_code), today
    )
    letter = care_registration(
        person,
        enrollment.office_code,
        HOSPITALIZATION,
        (request.hospital_code,),
        today,
        valid_to,
        actor.subject,
        uow.clock.now(),
        **details,
    )
    return await _activate(uow, letter, None)


async def register_tb(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    hospital_code: str | None,
    drug_resistant: bool,
    remote_patient: bool,
    remote_hospital: tuple[str, str] | None,
    diagnosis_level: int | None,
) -> BenefitRegistration:
    """肺结核门诊登记: a TB hospital here (the hospital online, the person or staff), or for a remote patient
    (at the sub-centre only) a hospital of their remote-care filing."""
    tb_choice_given(remote_patient, hospital_code, remote_hospital)
    if remote_patient and actor.role is not Role.staff:
        raise Forbidden(
            "at_sub_centre",
            "异地患者须到医保分中心办理肺结核登记",
            errors=[{"field": "remote_patient", "message": "请到医保分中心办理"}],
        )
    if hospital_code is not None:
        own_facility(actor, hospital_code, "hospital_code")
    person, today, enrollment = await _covered_subject(uow, actor, person_id, TB)
    if remote_patient:
        tb_remote_patient(diagnosis_level)
        if not _valid_on(await Benefits(uow.session).active_benefit(person, REMOTE_CARE), today):
            raise Conflict(
                "remote_care_filing_required",
                "异地患者须先办理异地就医备案",
                errors=[{"field": "remote_patient", "message": "无有效的异地就医备案"}],
            )
        code, name = remote_hospital  # type: ignore[misc]
        facilities, where = (
            (code,),
            {"remote_hospital": {"code": code, "name": name}, "diagnosis_hospital_level": diagnosis_level},
        )
    else:
        tb_local_hospital(await Facilities(uow.session).get_facility(hospital_code), hospital_code)  # type: ignore[arg-type]
        facilities, where = (hospital_code,), {}  # type: ignore[assignment]
    chosen = care_registration(
        person,
        enrollment.office_code,
        TB,
        facilities,
        today,
        None,
        actor.subject,
        uow.clock.now(),
        drug_resistant=drug_resistant,
        remote_patient=remote_patient,
        **where,
    )
    return await _activate(uow, chosen, await Benefits(uow.session).active_benefit(person, TB))


async def register_sars_hospitals(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    infection: SarsInfection,
    hospital_codes: list[str],
) -> BenefitRegistration:
    person, today, enrollment = await _covered_subject(uow, actor, person_id, SARS)
    sars_hospitals(
        infection, [(code, await Facilities(uow.session).get_facility(code)) for code in hospital_codes]
    )
    chosen = care_registration(
        person,
        enrollment.office_code,
        SARS,
        tuple(hospital_codes),
        today,
        None,
        actor.subject,
        uow.clock.now(),
        infection=infection.value,
    )
    return await _activate(uow, chosen, await Benefits(uow.session).active_benefit(person, SARS))


async def flag_deputy_director(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID, appointment_document: str
) -> BenefitRegistration:
    """副司局级标识: the unit of the person's employee coverage sets it (staff of the person's office as well)."""
    today = uow.clock.today()
    enrollment = await _coverage(uow, person_id, today, actor, DEPUTY_DIRECTOR, "employee")
    flag = care_registration(
        person_id,
        enrollment.office_code,
        DEPUTY_DIRECTOR,
        (),
        today,
        None,
        actor.subject,
        uow.clock.now(),
        appointment_document=appointment_document,
        unit_code=enrollment.unit_code,
    )
    return await _activate(uow, flag, await Benefits(uow.session).active_benefit(person_id, DEPUTY_DIRECTOR))


async def register_lost_receipt(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    facility_code: str,
    receipt_no: str,
    service_date: date,
    amount: Decimal,
    certified_copy_no: str,
) -> BenefitRegistration:
    """遗失票据登记: the coverage of the service date decides the deadline (employees or residents)."""
    person = person_acted_for(actor, person_id)
    today = uow.clock.today()
    not_after(service_date, today, "service_date")
    require_designated(
        await Facilities(uow.session).get_facility(facility_code), facility_code, "facility_code"
    )
    enrollment = await _coverage(uow, person, service_date, actor, LOST_RECEIPT)
    deadline = require_lost_receipt_in_time(
        enrollment.scheme.value, service_date, enrollment.benefit_end, today
    )
    receipt = care_registration(
        person,
        enrollment.office_code,
        LOST_RECEIPT,
        (facility_code,),
        today,
        None,
        actor.subject,
        uow.clock.now(),
        receipt_no=receipt_no,
        service_date=service_date.isoformat(),
        amount=money_text(amount),
        certified_copy_no=certified_copy_no,
        scheme=enrollment.scheme.value,
        deadline=deadline.isoformat(),
    )
    return await _activate(uow, receipt, None)


async def register_pregnancy(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    last_menstrual_period: date | None,
    started_on: date | None,
    delivered_on: date | None,
    facility_code: str | None,
) -> BenefitRegistration:
    """妊娠登记: by the primary-care maternity facility (its own code), the person in the app, or staff."""
    start, dated_by = pregnancy_start(last_menstrual_period, started_on)
    if actor.role is Role.facility:
        facility_code = facility_code or actor.facility_id
        own_facility(actor, facility_code or "", "facility_code")
    person, today, enrollment = await _covered_subject(uow, actor, person_id, PREGNANCY)
    if facility_code is not None:
        require_maternity_hospital(
            await Facilities(uow.session).get_facility(facility_code), facility_code, "facility_code"
        )
    valid_to, late = pregnancy(start, delivered_on, today)
    registered = care_registration(
        person,
        enrollment.office_code,
        PREGNANCY,
        (facility_code,) if facility_code else (),
        today,
        valid_to,
        actor.subject,
        uow.clock.now(),
        pregnancy_started_on=start.isoformat(),
        dated_by=dated_by,
        late=late,
    )
    return await _activate(uow, registered, await Benefits(uow.session).active_benefit(person, PREGNANCY))


async def register_maternity_remote(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    category: MaternityRemoteCategory,
    facilities: list[tuple[str, str]],
) -> BenefitRegistration:
    if category is MaternityRemoteCategory.remote_worker and actor.role is Role.insured:
        raise Forbidden(
            "unit_files",
            "常驻异地工作人员由用人单位办理",
            errors=[{"field": "category", "message": "请由单位办理"}],
        )
    if actor.role is Role.unit:
        unit_files_only_remote_workers(category)
    maternity_remote_facilities(facilities)
    person, today, enrollment = await _covered_subject(uow, actor, person_id, MATERNITY_REMOTE)
    chosen = care_registration(
        person,
        enrollment.office_code,
        MATERNITY_REMOTE,
        tuple(code for code, _ in facilities),
        today,
        None,
        actor.subject,
        uow.clock.now(),
        category=category.value,
        facilities=[{"code": code, "name": name} for code, name in facilities],
    )
    return await _activate(uow, chosen, await Benefits(uow.session).active_benefit(person, MATERNITY_REMOTE))


async def register_maternity_hospitalization(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    hospital_code: str,
    stay: MaternityStay,
    admission_document: AdmissionDocument,
) -> BenefitRegistration:
    """生育保险住院登记: rests on the pregnancy (or complication) registration valid today and lasts as long."""
    own_facility(actor, hospital_code, "hospital_code")
    person, today, enrollment = await _covered_subject(uow, actor, person_id, MATERNITY_HOSPITALIZATION)
    require_maternity_hospital(
        await Facilities(uow.session).get_facility(hospital_code), hospital_code, "hospital_code"
    )
    basis = await Benefits(uow.session).active_benefit(person, stay_basis(stay))
    if basis is None or not _valid_on(basis, today):
        raise missing_basis(stay)
    registered = care_registration(
        person,
        enrollment.office_code,
        MATERNITY_HOSPITALIZATION,
        (hospital_code,),
        today,
        basis.valid_to,
        actor.subject,
        uow.clock.now(),
        reason=stay.value,
        admission_document=admission_document.value,
        based_on=str(basis.id),
        based_on_kind=basis.kind,
    )
    return await _activate(uow, registered, None)


async def register_fp_complication(
    uow: UnitOfWork, actor: Principal, *, person_id: uuid.UUID | None, certified_on: date, certificate_no: str
) -> BenefitRegistration:
    person, today, enrollment = await _covered_subject(uow, actor, person_id, FP_COMPLICATION)
    opens, closes = require_fp_window(certified_on, today)
    registered = care_registration(
        person,
        enrollment.office_code,
        FP_COMPLICATION,
        (),
        today,
        closes,
        actor.subject,
        uow.clock.now(),
        certified_on=certified_on.isoformat(),
        certificate_no=certificate_no,
        window_opens=opens.isoformat(),
        window_closes=closes.isoformat(),
    )
    return await _activate(
        uow, registered, await Benefits(uow.session).active_benefit(person, FP_COMPLICATION)
    )


async def register_maternity_referral(
    uow: UnitOfWork,
    actor: Principal,
    *,
    person_id: uuid.UUID | None,
    sending: str,
    receiving: str,
    referral_form_no: str | None,
) -> BenefitRegistration:
    """转诊转院登记: the sending hospital online, or the sub-centre with the hospital's paper form."""
    own_facility(actor, sending, "sending_hospital")
    person, today, enrollment = await _covered_subject(uow, actor, person_id, MATERNITY_REFERRAL)
    at_sub_centre = actor.role is not Role.facility
    maternity_referral(
        await Facilities(uow.session).get_facility(sending),
        sending,
        await Facilities(uow.session).get_facility(receiving),
        receiving,
        at_sub_centre,
        referral_form_no,
    )
    referral = care_registration(
        person,
        enrollment.office_code,
        MATERNITY_REFERRAL,
        (sending, receiving),
        today,
        None,
        actor.subject,
        uow.clock.now(),
        sending_hospital=sending,
        receiving_hospital=receiving,
        referral_form_no=referral_form_no,
        channel="sub_centre" if at_sub_centre else "online",
    )
    return await _activate(uow, referral, None)
