"""Who may see and act on claims' objects: the service's seam to the platform's access policy
(``shared.access``), asked with each object's handles (office, person, unit).

A person's records, a reimbursement and a benefit payment are seen by the person, the unit of an
employee, staff of an office that reaches the office handling the person (a district clerk their
district, city staff their city's offices) and admins; anyone else
gets 404, before any other check, so an object out of reach cannot be told from one that does not
exist. Staff of the person's office handle an application; city-level staff approve it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from shared.access import POLICY, Handles
from shared.auth.principal import Principal, Role
from shared.errors import Forbidden, NotFound
from svc_claims.domain.eligibility import Coverage


def may_see_person(actor: Principal, person_id: uuid.UUID, coverages: Sequence[Coverage]) -> bool:
    """The person, the unit of an employee, staff reaching an office that handles one of their coverages."""
    if actor.role is Role.insured:  # a person reaches themselves, covered or not
        return POLICY.is_self(actor, person_id)
    handles = [Handles(office=c.office_code, person=person_id, unit=c.unit_code) for c in coverages]
    return actor.role is Role.admin or POLICY.reaches_any(actor, handles)


def require_visible_person(
    actor: Principal, person_id: uuid.UUID, coverages: Sequence[Coverage], *, units: bool = True
) -> None:
    """The person, their unit (when `units`), staff of an office that handles one of their coverages,
    city staff, admin; anyone else: 404."""
    if not coverages and actor.role is not Role.insured:
        raise NotFound("参保人")
    if (actor.role is Role.unit and not units) or not may_see_person(actor, person_id, coverages):
        raise NotFound("参保人")


def require_filer_reach(
    actor: Principal, coverages: Sequence[Coverage], *, unknown_person: bool = True
) -> None:
    """A unit files for its employees, staff for their office's people (city staff: their own city); else 404.
    With `unknown_person`, staff may file for a person with no coverage on record (refused later as not
    eligible, with the reason)."""
    if actor.role is Role.unit and not any(c.unit_code == actor.unit_id for c in coverages):
        raise NotFound("参保人")
    staff_out_of_reach = actor.role is Role.staff and not any(
        actor.serves_office(c.office_code) for c in coverages
    )
    if staff_out_of_reach and (coverages or not unknown_person):
        raise NotFound("参保人")


def require_own_filing(actor: Principal, person_id: uuid.UUID, refusal: str = "只能为本人申请") -> None:
    """An insured person files only for themselves."""
    if actor.role is Role.insured and actor.person_id != person_id:
        raise Forbidden("not_own_claim", refusal)


def may_see_application(
    actor: Principal, *, person_id: uuid.UUID, office_code: str, unit_code: str | None
) -> bool:
    """A reimbursement or benefit payment: the person's, their unit's, their office's (city: all)."""
    return POLICY.reaches(actor, Handles(office=office_code, person=person_id, unit=unit_code))


@dataclass(frozen=True, slots=True)
class ListingScope:
    """The applications an actor's list holds: a person's own (``person_id``), a unit's employees'
    (``unit_code``), or those handled by the offices in ``offices`` (None: every office, for admins;
    an empty set: none)."""

    person_id: uuid.UUID | None = None
    unit_code: str | None = None
    offices: frozenset[str] | None = frozenset()


def listing_scope(actor: Principal) -> ListingScope:
    """What an actor's list of applications is limited to, asked of the platform's policy: staff list
    the offices their office reaches (a district clerk their district, city staff their own city's
    offices, never another region's); ops, facilities and peers list nothing."""
    if actor.role is Role.insured and actor.person_id is not None:
        return ListingScope(person_id=actor.person_id, offices=None)
    if actor.role is Role.unit and actor.unit_id is not None:
        return ListingScope(unit_code=actor.unit_id, offices=None)
    return ListingScope(offices=POLICY.staff_scope(actor).codes)


def require_office_staff(actor: Principal, office_code: str, *, city: bool = False) -> None:
    """Staff of the person's office handle an application; city-level staff approve it."""
    if actor.role is not Role.staff or not actor.serves_office(office_code):
        raise Forbidden("staff_only", "只有参保地经办机构人员可以办理")
    if city and not actor.is_city_staff:
        raise Forbidden("city_level_required", "核准须由市级经办机构办理")
