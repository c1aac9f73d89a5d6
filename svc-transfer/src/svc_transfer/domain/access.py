"""Who may see and act on transfer cases and certificates (the service's one seam for the access policy)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from svc_transfer.domain.certificate import IssuedCertificate
from svc_transfer.domain.transfer import Transfer


def serves(actor: Principal, office_code: str) -> bool:
    """Staff of that office, or city staff of the city it belongs to (a municipality's districts share
    its first two digits, a prefecture city's its first four): never another city's offices."""
    if actor.role is not Role.staff or actor.office_code is None:
        return False
    if actor.office_code == office_code:
        return True
    return actor.is_city_staff and office_code.startswith(city_prefix(actor.office_code))


def city_prefix(city: str) -> str:
    return city[:2] if city.endswith("0000") else city[:4]


def may_see(actor: Principal, case: Transfer) -> bool:
    """The person, their unit, staff serving the case's office, an administrator; nobody else (ops,
    facilities and peers see no case: a peer follows its exchange through status_query)."""
    if actor.role is Role.insured:
        return actor.person_id is not None and actor.person_id == case.person_id
    if actor.role is Role.unit:
        return case.unit_id is not None and actor.unit_id == case.unit_id
    if actor.role is Role.staff:
        return serves(actor, case.office_code)
    return actor.role is Role.admin


def may_act(actor: Principal) -> bool:
    """Only staff of an office take the steps of a case (whoever else follows it only reads it)."""
    return actor.role is Role.staff


def may_see_certificate(actor: Principal, certificate: IssuedCertificate) -> bool:
    """The person it was issued to, or staff serving the office that issued it."""
    if actor.role is Role.insured:
        return actor.person_id == certificate.person_id
    return serves(actor, certificate.office_code)


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
            return Scope(office_prefix=city_prefix(actor.office_code))
        return Scope(office_code=actor.office_code)
    if actor.role is Role.admin:
        return EVERYTHING
    return Scope(nothing=True)
