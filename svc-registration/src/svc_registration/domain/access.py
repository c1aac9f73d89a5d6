"""Who may see and act on registration's objects: the service's one seam for the access policy.

Offices (issue 18): the office directory (`shared.directory`, from the seeds) says which offices exist:
the city centre and the district sub-centres of Tianjin, the Tangshan office, the Qinhuangdao centre
and its district offices. A case belongs to a city or district office of that directory; township and
village stations forward, they do not hold cases. Staff act for offices of their own region only: a
district clerk for their own office, city-level staff for any office of their city.

Objects: a person sees their own, a unit its employees' and its own record, staff those of the
offices they serve, the administrator everything. An object outside the caller's reach is answered
404 by the use cases, as if it did not exist.
"""

from __future__ import annotations

import uuid

from shared.auth.principal import Principal, Role
from shared.directory import Office, office_by_code
from shared.errors import Forbidden, Invalid
from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.domain.enrollment import Enrollment
from svc_registration.domain.unit import Unit

HOLDS_CASES = frozenset({"city", "district"})


# ----------------------------------------------------------------------------------------- offices


def case_office(code: str, actor: Principal, field: str = "office_code") -> Office:
    """The office a new case is filed at: it exists, holds cases, and the clerk serves it."""
    if actor.role is Role.staff and not actor.is_city_staff and actor.office_code != code:
        raise _other_office(
            code
        )  # a district clerk's answer is the same for any office not theirs, known or not
    office = office_by_code(code)
    if office is None or office.level not in HOLDS_CASES:
        raise Invalid(
            "unknown_office",
            "经办机构不存在",
            f"经办机构代码 {code} 不在本市医保经办机构目录中",
            errors=[{"field": field, "message": "请选择参保地医保分中心"}],
        )
    if actor.role is Role.staff and not serves(actor, office):
        raise _other_office(code)
    return office


def _other_office(code: str, field: str = "office_code") -> Forbidden:
    return Forbidden(
        "other_office",
        "只能受理本经办机构的业务",
        f"经办机构 {code} 不由您所在的经办机构管辖",
        errors=[{"field": field, "message": "不是本经办机构"}],
    )


def serves(actor: Principal, office: Office) -> bool:
    """A district clerk serves their office; city-level staff every office of their own city."""
    if actor.role is not Role.staff or actor.office_code is None:
        return False
    if actor.office_code == office.code:
        return True
    own = office_by_code(actor.office_code)
    return actor.is_city_staff and own is not None and own.region == office.region


def serves_code(actor: Principal, code: str) -> bool:
    """For objects already filed: the same rule by office code (an office since removed is nobody's but its own clerks')."""
    office = office_by_code(code)
    if office is None:
        return actor.role is Role.staff and actor.office_code == code
    return serves(actor, office)


def in_clerks_city(actor: Principal, code: str) -> bool:
    """Items the catalogue marks 全市通办 are handled by staff of any office of the person's city, not of another."""
    own, office = office_by_code(actor.office_code or ""), office_by_code(code)
    return actor.role is Role.staff and own is not None and office is not None and own.region == office.region


# ----------------------------------------------------------------------------------------- objects


def may_see(actor: Principal, enrollment: Enrollment) -> bool:
    if actor.role is Role.insured:
        return actor.person_id == enrollment.person_id
    if actor.role is Role.unit:
        return enrollment.unit_code is not None and actor.unit_id == enrollment.unit_code
    if actor.role is Role.staff:
        return serves_code(actor, enrollment.office_code)
    return actor.role is Role.admin


def may_see_unit(actor: Principal, unit: Unit) -> bool:
    if actor.role is Role.unit:
        return actor.unit_id == unit.code
    return serves_code(actor, unit.office_code) or actor.role is Role.admin


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
    return (
        (actor.role is Role.insured and actor.person_id == registration.person_id)
        or serves_code(actor, registration.office_code)
        or actor.role is Role.admin
    )


def benefit_listing_scope(
    actor: Principal, person_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, str | None]:
    """The (person, office) a list of benefit registrations is limited to (None: any): an insured person
    their own (asking for another's is refused), district staff their office, city staff and the
    administrator every office."""
    if actor.role is Role.insured:
        return person_acted_for(actor, person_id), None
    if actor.role is Role.staff and not actor.is_city_staff:
        return person_id, actor.office_code or ""
    return person_id, None


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
    if actor.role is Role.insured:
        return actor.person_id == person_id
    if actor.role is Role.admin:
        return True
    if any(may_see(actor, e) for e in enrollments):
        return True
    return actor.role is Role.staff and person_office is not None and serves_code(actor, person_office)


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
