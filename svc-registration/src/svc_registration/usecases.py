"""Registration use cases: one transaction each (load → domain → save → outbox → commit by caller)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import new_envelope
from shared.events.catalog import RegistrationApprovedV1
from shared.identity import IdType
from svc_registration.domain.enrollment import Enrollment, ResidentTier, new_resident_enrollment
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
