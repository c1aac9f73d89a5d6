"""Registration use cases: one transaction each (load → domain → save → outbox → commit by caller)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import Envelope, new_envelope
from shared.events.catalog import (
    FacilityDesignatedV1,
    RegistrationApprovedV1,
    RegistrationBenefitRegisteredV1,
    RegistrationStoppedV1,
    TransferTransferredOutV1,
)
from shared.identity import IdType
from svc_registration.domain.benefit import (
    RESIDENT_OUTPATIENT,
    SPECIAL_DISEASE,
    BenefitRegistration,
    certify_special_disease,
    choose_resident_outpatient_hospital,
    with_treatment_facility,
)
from svc_registration.domain.enrollment import Enrollment, ResidentTier, new_resident_enrollment
from svc_registration.domain.facility import KnownFacility
from svc_registration.domain.person import Sex, identify
from svc_registration.repository import Repository

SCHEME_NAMES = {"employee": "职工医保", "flexible": "灵活就业人员医保", "resident": "城乡居民医保"}


@dataclass(frozen=True)
class PersonDetails:
    id_type: IdType
    id_number: str
    name: str
    sex: Sex | None = None
    birth_date: date | None = None
    phone: str | None = None


@dataclass(frozen=True)
class SubmitResidentEnrollment:
    person: PersonDetails
    office_code: str
    tier: ResidentTier
    coverage_year: int


def duplicate_enrollment(existing: Enrollment) -> Problem:
    scheme = SCHEME_NAMES.get(existing.scheme.value, existing.scheme.value)
    return Problem(
        409,
        "duplicate_enrollment",
        "不允许重复参保",
        f"该参保人 {existing.coverage_year} 年度已有{scheme}参保登记（经办机构 {existing.office_code}）",
        existing_enrollment={
            "id": str(existing.id),
            "scheme": existing.scheme.value,
            "office_code": existing.office_code,
            "status": existing.status.value,
        },
    )


async def submit_resident_enrollment(
    uow: UnitOfWork, command: SubmitResidentEnrollment, actor: Principal, person_key: bytes
) -> Enrollment:
    p = command.person
    person = identify(p.id_type, p.id_number, p.name, command.office_code, person_key, p.sex, p.birth_date, p.phone)
    if actor.role is Role.insured and actor.person_id != person.id:
        raise Problem(403, "not_own_identity", "只能为本人办理参保登记")
    if actor.role is Role.staff and not actor.serves_office(command.office_code):
        raise Problem(403, "other_office", "只能受理本经办机构的参保登记")
    repo = Repository(uow.session)
    existing = await repo.holding_enrollment(person.id, command.coverage_year)
    if existing is not None:
        raise duplicate_enrollment(existing)
    await repo.save_person(person)
    enrollment = new_resident_enrollment(
        person.id, command.office_code, command.tier, command.coverage_year, actor.subject, uow.clock.now()
    )
    try:
        await repo.add_enrollment(enrollment)
    except IntegrityError:  # a concurrent submission for the same person and year won the race
        await uow.rollback()
        async with uow:
            winner = await Repository(uow.session).holding_enrollment(person.id, command.coverage_year)
        raise duplicate_enrollment(winner) if winner else Problem(409, "conflict", "与当前状态冲突") from None
    return enrollment


async def visible_enrollment(uow: UnitOfWork, enrollment_id: uuid.UUID, actor: Principal, for_update: bool = False) -> Enrollment:
    """The enrollment if this caller may see it; otherwise 404, as if it did not exist."""
    enrollment = await Repository(uow.session).get_enrollment(enrollment_id, for_update=for_update)
    if enrollment is None or not may_see(actor, enrollment):
        raise not_found("参保登记")
    return enrollment


def may_see(actor: Principal, enrollment: Enrollment) -> bool:
    if actor.role is Role.insured:
        return actor.person_id == enrollment.person_id
    if actor.role is Role.staff:
        return actor.serves_office(enrollment.office_code)
    return actor.role is Role.admin


async def approve_enrollment(uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, actor: Principal) -> Enrollment:
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    approved = enrollment.approve(actor.subject, uow.clock.now(), version)
    await Repository(uow.session).update_enrollment(approved)
    uow.emit(
        new_envelope(
            RegistrationApprovedV1(
                enrollment_id=approved.id,
                person_id=approved.person_id,
                office_code=approved.office_code,
                scheme=approved.scheme.value,
                tier=approved.tier.value if approved.tier else None,
                benefit_start=approved.benefit_start,
                benefit_end=approved.benefit_end,
            ),
            uow.clock,
        )
    )
    return approved


async def reject_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: str, actor: Principal
) -> Enrollment:
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    rejected = enrollment.reject(actor.subject, uow.clock.now(), version, reason)
    await Repository(uow.session).update_enrollment(rejected)
    return rejected


async def stop_enrollment(
    uow: UnitOfWork, enrollment_id: uuid.UUID, version: int, reason: str, actor: Principal
) -> Enrollment:
    """中止参保: the coverage ends today; the transfer service may then issue a certificate."""
    enrollment = await visible_enrollment(uow, enrollment_id, actor, for_update=True)
    stopped = enrollment.stop(actor.subject, uow.clock.now(), version, reason)
    await Repository(uow.session).update_enrollment(stopped)
    uow.emit(new_envelope(RegistrationStoppedV1(
        enrollment_id=stopped.id, person_id=stopped.person_id, office_code=stopped.office_code,
        scheme=stopped.scheme.value, stopped_on=uow.clock.today(), reason=reason,
    ), uow.clock))  # fmt: skip
    return stopped


async def record_transferred_out(uow: UnitOfWork, envelope: Envelope, event: TransferTransferredOutV1) -> None:
    repo = Repository(uow.session)
    for enrollment in await repo.stopped_enrollments(event.person_id):
        await repo.update_enrollment(enrollment.transfer_out("transfer", uow.clock.now(), event.to_office))


async def record_facility(uow: UnitOfWork, envelope: Envelope, event: FacilityDesignatedV1) -> None:
    """facility.designated / updated / suspended / terminated → the local registry projection."""
    await Repository(uow.session).record_facility_if_newer(
        KnownFacility(
            code=event.code,
            name=event.name,
            kind=event.kind,
            level=event.level,
            office_code=event.office_code,
            programmes=frozenset(event.programmes),
            status=event.status,
            version=event.version,
        )
    )


async def _covered_today(repo: Repository, person_id: uuid.UUID, today: date, actor: Principal, scheme: str | None) -> Enrollment:
    enrollment = await repo.approved_enrollment_covering(person_id, today, scheme)
    if enrollment is None or not may_see(actor, enrollment):
        what = "城乡居民医保" if scheme == "resident" else "基本医疗保险"
        raise Problem(409, "no_coverage", f"无有效的{what}参保登记", f"{today} 不在{what}待遇享受期内")
    return enrollment


async def _activate(uow: UnitOfWork, repo: Repository, registration: BenefitRegistration, current: BenefitRegistration | None) -> BenefitRegistration:
    """The new registration replaces the active one of its kind from today, and is announced."""
    if current is not None:
        await repo.save_benefit(current.replaced_with(registration))
    await repo.save_benefit(registration)
    uow.emit(
        new_envelope(
            RegistrationBenefitRegisteredV1(
                registration_id=registration.id,
                person_id=registration.person_id,
                office_code=registration.office_code,
                kind=registration.kind,
                facility_codes=list(registration.facility_codes),
                valid_from=registration.valid_from,
                replaces=current.id if current else None,
                details=registration.details,
            ),
            uow.clock,
        )
    )
    return registration


async def register_resident_outpatient(
    uow: UnitOfWork, person_id: uuid.UUID | None, hospital_code: str, actor: Principal
) -> BenefitRegistration:
    """城乡居民门(急)诊就医登记: a resident covered today chooses one reformed level-2 hospital."""
    repo = Repository(uow.session)
    person_id = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _covered_today(repo, person_id, today, actor, "resident")
    registration = choose_resident_outpatient_hospital(
        person_id, enrollment.office_code, await repo.get_facility(hospital_code), hospital_code, today, actor.subject, uow.clock.now()
    )
    return await _activate(uow, repo, registration, await repo.active_benefit(person_id, RESIDENT_OUTPATIENT))


async def register_special_disease(
    uow: UnitOfWork,
    person_id: uuid.UUID | None,
    disease: str,
    certified_by: str,
    treatment_facility: str,
    certified_outside_city: bool,
    actor: Principal,
) -> BenefitRegistration:
    """门特登记: a certification for one of the 13 diseases, with the chosen treatment hospital or pharmacy."""
    repo = Repository(uow.session)
    person_id = _person_acted_for(actor, person_id)
    today = uow.clock.today()
    enrollment = await _covered_today(repo, person_id, today, actor, None)
    registration = certify_special_disease(
        person_id, enrollment.office_code, disease,
        await repo.get_facility(certified_by), certified_by,
        await repo.get_facility(treatment_facility), treatment_facility,
        certified_outside_city, today, actor.subject, uow.clock.now(),
    )  # fmt: skip
    return await _activate(uow, repo, registration, await repo.active_benefit(person_id, SPECIAL_DISEASE, disease))


async def change_treatment_facility(
    uow: UnitOfWork, registration_id: uuid.UUID, treatment_facility: str, actor: Principal
) -> BenefitRegistration:
    """门特治疗医院、药店变更 (unlimited)."""
    repo = Repository(uow.session)
    current = await visible_benefit(uow, registration_id, actor)
    changed = with_treatment_facility(
        current, await repo.get_facility(treatment_facility), treatment_facility, uow.clock.today(), actor.subject, uow.clock.now()
    )
    locked = await repo.active_benefit(current.person_id, SPECIAL_DISEASE, current.details.get("disease"))
    if locked is None or locked.id != current.id:
        raise Problem(409, "invalid_transition", "该门特登记已被变更或失效", "请刷新后重试")
    return await _activate(uow, repo, changed, locked)


def _person_acted_for(actor: Principal, person_id: uuid.UUID | None) -> uuid.UUID:
    if actor.role is Role.insured:
        if person_id not in (None, actor.person_id) or actor.person_id is None:
            raise Problem(403, "not_own_identity", "只能为本人办理")
        return actor.person_id
    if person_id is None:
        raise Problem(422, "validation_failed", "请求参数不合法", errors=[{"field": "body.person_id", "message": "经办人员代办时必须提供参保人"}])
    return person_id


async def visible_benefit(uow: UnitOfWork, registration_id: uuid.UUID, actor: Principal) -> BenefitRegistration:
    registration = await Repository(uow.session).get_benefit(registration_id)
    visible = registration is not None and (
        (actor.role is Role.insured and actor.person_id == registration.person_id)
        or actor.serves_office(registration.office_code)
        or actor.role is Role.admin
    )
    if not visible:
        raise not_found("待遇登记")
    return registration  # type: ignore[return-value]
