"""Who may see and act on registration's objects: the service's seam to the platform's access policy
(``shared.access``), which it asks with each object's handles (office, person, unit).

Offices (issue 18): the office directory (``shared.directory``) says which offices exist and at which
of the four levels. A case is held by a city or county/district office; a township or village clerk
files at the office above that holds its cases (they accept and forward). Staff act for the offices
their own office reaches: a district clerk their district, city staff their city, never another
region's.

Objects: a person sees their own, a unit its employees' and its own record, staff those of the
offices they serve, the administrator everything. An object outside the caller's reach is answered
404 by the use cases, as if it did not exist.
"""

from __future__ import annotations

import uuid

from shared.access import POLICY, Handles
from shared.auth.principal import Principal, Role
from shared.directory import Office, office_by_code
from shared.errors import Forbidden, Invalid
from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.domain.enrollment import Enrollment
from svc_registration.domain.unit import Unit

# ----------------------------------------------------------------------------------------- offices


def case_office(code: str, actor: Principal, field: str = "office_code") -> Office:
    """The office a new case is filed at: it exists, holds cases, and the clerk's office reaches it or
    forwards to it. A clerk below the city gets the same answer for any office not theirs, known or not."""
    office = office_by_code(code)
    within = actor.role is not Role.staff or POLICY.serves(actor, code) or _forwards_to(actor, code)
    if office is None or not office.holds_cases:
        if not within and not actor.is_city_staff:
            raise _other_office(code, field)
        raise Invalid(
            "unknown_office",
            "经办机构不存在",
            f"经办机构代码 {code} 不在本市医保经办机构目录中",
            errors=[{"field": field, "message": "请选择参保地医保分中心"}],
        )
    if not within:
        raise _other_office(code, field)
    return office


def _forwards_to(actor: Principal, code: str) -> bool:
    """A township or village clerk files at the office that holds its cases."""
    holder = POLICY.holding_office(actor.office_code or "")
    return holder is not None and holder.code == code and holder.code != actor.office_code


def _other_office(code: str, field: str = "office_code") -> Forbidden:
    return Forbidden(
        "other_office",
        "只能受理本经办机构的业务",
        f"经办机构 {code} 不由您所在的经办机构管辖",
        errors=[{"field": field, "message": "不是本经办机构"}],
    )


def serves(actor: Principal, office: Office) -> bool:
    return POLICY.serves(actor, office.code)


def serves_code(actor: Principal, code: str) -> bool:
    """Staff whose office reaches this office (an office since removed is its own clerks' and its city's)."""
    return POLICY.serves(actor, code)


def in_clerks_city(actor: Principal, code: str) -> bool:
    """Items the catalogue marks 全市通办 are handled by staff of any office of the person's city, not of another."""
    return POLICY.same_region(actor, code)


# ----------------------------------------------------------------------------------------- objects


def handles(enrollment: Enrollment) -> Handles:
    return Handles(office=enrollment.office_code, person=enrollment.person_id, unit=enrollment.unit_code)


def may_see(actor: Principal, enrollment: Enrollment) -> bool:
    return POLICY.reaches(actor, handles(enrollment))


def may_see_unit(actor: Principal, unit: Unit) -> bool:
    return POLICY.reaches(actor, Handles(office=unit.office_code, unit=unit.code))


def may_rest_on(actor: Principal, enrollment: Enrollment) -> bool:
    """A registration may rest on this coverage: the caller sees it, or is the hospital registering its
    patient (which learns only that the coverage exists)."""
    return may_see(actor, enrollment) or actor.role is Role.facility


def require_own_identity(actor: Principal, person_id: uuid.UUID) -> None:
    """An insured person enrolls themselves only (staff file for anyone of their office)."""
    if actor.role is Role.insured and actor.person_id != person_id:
        raise Forbidden("not_own_identity", "只能为本人办理参保登记")


def require_own_unit(actor: Principal, code: str) -> None:
    """A unit registers itself only (staff register any unit at the counter)."""
    if actor.role is Role.unit and actor.unit_id != code:
        raise Forbidden("not_own_unit", "只能为本单位办理参保登记")


def may_see_benefit(actor: Principal, registration: BenefitRegistration) -> bool:
    return POLICY.reaches(actor, Handles(office=registration.office_code, person=registration.person_id))


def benefit_listing_scope(
    actor: Principal, person_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, frozenset[str] | None]:
    """The (person, offices) a list of benefit registrations is limited to (None: any): an insured
    person their own (asking for another's is refused), staff the offices their office reaches, the
    administrator every office."""
    if actor.role is Role.insured:
        return person_acted_for(actor, person_id), None
    return person_id, POLICY.staff_scope(actor).codes


def may_see_list(actor: Principal, office_code: str) -> bool:
    """A department's list of the enrollment drive: staff of the office it was uploaded for."""
    return serves_code(actor, office_code)


def may_end_enrollment_of_the_dead(actor: Principal, enrollment: Enrollment) -> bool:
    """A deaths list ends only the enrollments of offices the uploading clerk serves: another district's are its own."""
    return serves_code(actor, enrollment.office_code)


def may_reach_person(
    actor: Principal, person_id: uuid.UUID, enrollments: list[Enrollment], person_office: str | None
) -> bool:
    """The person is within the caller's reach: themselves, an employee of the unit, a person of the clerk's office."""
    objects = [handles(e) for e in enrollments] + [Handles(office=person_office, person=person_id)]
    if actor.role is Role.insured:  # a person reaches themselves, enrolled or not
        return POLICY.is_self(actor, person_id)
    return POLICY.reaches_any(actor, objects)


def person_acted_for(actor: Principal, person_id: uuid.UUID | None) -> uuid.UUID:
    """Whom a benefit registration is for: an insured person only themselves; others name the person."""
    if actor.role is Role.insured:
        if person_id not in (None, actor.person_id) or actor.person_id is None:
            raise Forbidden("not_own_identity", "只能为本人办理")
        return actor.person_id
    if person_id is None:
        raise Invalid(
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "body.person_id", "message": "经办人员代办时必须提供参保人"}],
        )
    return person_id


def own_facility(actor: Principal, code: str, field_name: str) -> None:
    """A hospital registers its own patients only (online registration by the facility, 联网登记)."""
    if actor.role is Role.facility and actor.facility_id != code:
        raise Forbidden(
            "not_own_facility",
            "只能为本机构的就医人员办理登记",
            errors=[{"field": field_name, "message": "须为本机构"}],
        )


def may_see_notice(actor: Principal, payer_kind: str, payer_code: str, office_code: str) -> bool:
    """A contribution notice: the unit its own, a flexible worker their own, staff of its office."""
    if actor.role is Role.unit:
        return payer_kind == "unit" and actor.unit_id == payer_code
    if actor.role is Role.insured:
        return payer_kind == "person" and actor.person_id is not None and actor.person_id.hex == payer_code
    return serves_code(actor, office_code) or actor.role is Role.admin


def may_see_account(
    actor: Principal, person_id: uuid.UUID, enrollments: list[Enrollment], person_office: str | None
) -> bool:
    """A personal account: the person their own, staff of an office holding the person; not the unit."""
    if actor.role is Role.unit:
        return False
    return may_reach_person(actor, person_id, enrollments, person_office)
