"""Who may see and act on transfer cases and certificates: the service's seam to the platform's access
policy (``shared.access``), asked with each object's handles (office, person, unit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.access import POLICY, Handles, division_prefix
from shared.auth.principal import Principal, Role
from svc_transfer.domain.certificate import IssuedCertificate
from svc_transfer.domain.transfer import Transfer


def serves(actor: Principal, office_code: str) -> bool:
    """Staff whose office reaches the case's office: a district clerk their own, city staff their
    city's (also a district the directory does not list, by its division code), never another city's."""
    return POLICY.serves(actor, office_code)


def may_see(actor: Principal, case: Transfer) -> bool:
    """The person, their unit, staff serving the case's office, an administrator; nobody else (ops,
    facilities and peers see no case: a peer follows its exchange through status_query)."""
    return POLICY.reaches(actor, Handles(office=case.office_code, person=case.person_id, unit=case.unit_id))


def may_act(actor: Principal) -> bool:
    """Only staff of an office take the steps of a case (whoever else follows it only reads it)."""
    return actor.role is Role.staff


def may_see_certificate(actor: Principal, certificate: IssuedCertificate) -> bool:
    """The person it was issued to, or staff serving the office that issued it."""
    return actor.role is not Role.admin and POLICY.reaches(
        actor, Handles(office=certificate.office_code, person=certificate.person_id)
    )


def may_apply_for(actor: Principal, person_id: uuid.UUID) -> bool:
    """An insured person applies for themselves only (a proxy goes to the counter)."""
    return actor.role is not Role.insured or actor.person_id == person_id


def may_apply_at(actor: Principal, office_code: str) -> bool:
    """A clerk files an application only for a person covered at an office they serve."""
    return actor.role is not Role.staff or serves(actor, office_code)


def may_oversee_exchange(actor: Principal) -> bool:
    """The exchange with peers (its state and audit) is the city's and the administrator's to watch."""
    return not (actor.role is Role.staff and not actor.is_city_staff)


@dataclass(frozen=True)
class Scope:
    """The cases a caller may list, as a filter (the same rule as may_see)."""

    person_id: uuid.UUID | None = None
    unit_id: str | None = None
    office_code: str | None = None
    office_prefix: str | None = None
    nothing: bool = False


EVERYTHING = Scope()


def listing_scope(actor: Principal) -> Scope:
    if actor.role is Role.insured and actor.person_id is not None:
        return Scope(person_id=actor.person_id)
    if actor.role is Role.unit and actor.unit_id is not None:
        return Scope(unit_id=actor.unit_id)
    if actor.role is Role.staff and actor.office_code is not None:
        if actor.is_city_staff:
            return Scope(office_prefix=division_prefix(actor.office_code))
        return Scope(office_code=actor.office_code)
    if actor.role is Role.admin:
        return EVERYTHING
    return Scope(nothing=True)
