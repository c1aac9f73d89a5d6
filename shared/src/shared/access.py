"""The platform's one access policy: who reaches which object.

Every service asks the same questions through its own access module (its seam), which only maps
its objects to the four things an object is reached by (``Handles``): the office that handles it,
the person it is about, the unit (employer) and the facility it belongs to. The answers are here,
once:

- an insured person reaches their own objects (self);
- a unit reaches its own objects and its employees';
- a facility reaches itself (its own settlements, patients' registrations it made);
- staff reach the objects of their office and of every office below it in the office directory
  (city → county/district → township/street → village/community): a district clerk their
  district, city staff their whole city, never another region's offices;
- a peer office reaches only its own exchanges (it follows them through the interop protocol);
- ops reach health and metrics, never personal data;
- the administrator reaches everything.

An object outside the caller's reach is answered exactly as an unknown one (404), before any other
check: the use cases ask ``reaches`` first. What each office level may do with a case (accept,
decide, only forward) is the directory's (``shared.directory.LEVEL_POWERS``); where a case filed
at a township or village is held is ``AccessPolicy.holding_office``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.directory import HOLDS_CASES, CatalogueItem, Office, office_by_code

# The office levels that accept an item of the service catalogue, by its 实施层级 as the seeds write it.
# A 乡、村 item is accepted by the township, or by a village station its township entrusts (受委托村级).
ACCEPTING_LEVELS: dict[str, frozenset[str]] = {
    "市级": frozenset({"city"}),
    "区级": frozenset({"district"}),
    "市、县区": frozenset({"city", "district"}),
    "区、街道（乡镇）分层级": frozenset({"district", "township"}),
    "乡、村": frozenset({"township", "village"}),
}


def accepting_levels(item: CatalogueItem) -> frozenset[str]:
    """Which levels of office accept the item (none for a level text the table does not know: such an
    item is not accepted anywhere until it is added, rather than everywhere)."""
    return ACCEPTING_LEVELS.get(item.level, frozenset())


def may_accept(office: Office, item: CatalogueItem) -> bool:
    """The office accepts the item at its counter: its level is one the catalogue names for the item.
    Where the case is then held and decided is ``AccessPolicy.holding_office``."""
    return office.level in accepting_levels(item)


@dataclass(frozen=True, slots=True)
class Handles:
    """What an object is reached by. None: the object has no such handle (a unit's record names no
    person, a facility's application no unit)."""

    office: str | None = None
    person: uuid.UUID | None = None
    unit: str | None = None
    facility: str | None = None


@dataclass(frozen=True, slots=True)
class OfficeScope:
    """The offices a caller's lists are limited to: ``codes`` None is every office, an empty set none."""

    codes: frozenset[str] | None

    @property
    def everything(self) -> bool:
        return self.codes is None

    def admits(self, office_code: str) -> bool:
        return self.codes is None or office_code in self.codes


EVERY_OFFICE = OfficeScope(None)
NO_OFFICE = OfficeScope(frozenset())


class AccessPolicy:
    """The rules, as small functions over a principal and an object's handles. ``office_of`` is the
    deployment's office directory (a test hands in its own)."""

    def __init__(self, office_of: Callable[[str], Office | None] = office_by_code) -> None:
        self._office_of = office_of

    # ------------------------------------------------------------------------------- who is who

    @staticmethod
    def is_self(actor: Principal, person: uuid.UUID | None) -> bool:
        return actor.role is Role.insured and person is not None and actor.person_id == person

    @staticmethod
    def is_own_unit(actor: Principal, unit: str | None) -> bool:
        return actor.role is Role.unit and unit is not None and actor.unit_id == unit

    @staticmethod
    def is_own_facility(actor: Principal, facility: str | None) -> bool:
        return actor.role is Role.facility and facility is not None and actor.facility_id == facility

    @staticmethod
    def is_peer(actor: Principal, peer_office: str | None) -> bool:
        """A peer office's own exchange: the peer's token names the office it speaks for."""
        return actor.role is Role.peer_office and peer_office is not None and actor.office_code == peer_office

    @staticmethod
    def sees_personal_data(actor: Principal) -> bool:
        """Ops watch health and metrics only; a peer office sees only what the protocol hands it."""
        return actor.role not in (Role.ops, Role.peer_office)

    # ----------------------------------------------------------------------------------- offices

    def office_chain(self, code: str) -> tuple[str, ...]:
        """The office and every office above it, nearest first (an office the directory does not list
        is its own chain)."""
        chain = [code]
        office = self._office_of(code)
        while office is not None and office.parent_code is not None and office.parent_code not in chain:
            chain.append(office.parent_code)
            office = self._office_of(office.parent_code)
        return tuple(chain)

    def serves(self, actor: Principal, office_code: str | None) -> bool:
        """Staff reach their own office and the offices below it: a district clerk their district's
        objects, city staff their city's. An office the directory no longer lists is its own clerks'
        only, unless its division code places it under the city of city staff (a removed district's
        objects stay with the city)."""
        if actor.role is not Role.staff or actor.office_code is None or office_code is None:
            return False
        if actor.office_code in self.office_chain(office_code):
            return True
        return self._office_of(office_code) is None and self._city_by_division(actor, office_code)

    def _city_by_division(self, actor: Principal, office_code: str) -> bool:
        own = self._office_of(actor.office_code or "")
        if own is None or own.level != "city":
            return False
        return office_code.startswith(division_prefix(own.code))

    def staff_scope(self, actor: Principal) -> OfficeScope:
        """The offices staff list objects of: their office and the offices below it."""
        if actor.role is Role.admin:
            return EVERY_OFFICE
        if actor.role is not Role.staff or actor.office_code is None:
            return NO_OFFICE
        return OfficeScope(self.offices_within(actor.office_code))

    def offices_within(self, code: str) -> frozenset[str]:
        """The office and every office under it in the directory."""
        return frozenset({code} | {o for o in self._all_codes() if code in self.office_chain(o)})

    def _all_codes(self) -> tuple[str, ...]:
        from shared.directory import load_offices

        return tuple(o.code for o in load_offices())

    def holding_office(self, code: str) -> Office | None:
        """Where a case filed at this office is held and decided: the office itself when it holds
        cases (city, district), else the nearest office above it that does (a township or village
        accepts and forwards). None: the directory does not list it."""
        office = self._office_of(code)
        while office is not None and office.level not in HOLDS_CASES:
            office = self._office_of(office.parent_code) if office.parent_code else None
        return office

    def same_region(self, actor: Principal, office_code: str) -> bool:
        """Items the catalogue marks 全市通办: staff of any office of the same city."""
        own, office = self._office_of(actor.office_code or ""), self._office_of(office_code)
        return (
            actor.role is Role.staff
            and own is not None
            and office is not None
            and own.region == office.region
        )

    # ----------------------------------------------------------------------------------- objects

    def reaches(self, actor: Principal, obj: Handles) -> bool:
        """The caller may see the object: it is theirs, their unit's or facility's, in their office's
        reach, or they administer the platform."""
        return (
            actor.role is Role.admin
            or self.is_self(actor, obj.person)
            or self.is_own_unit(actor, obj.unit)
            or self.is_own_facility(actor, obj.facility)
            or self.serves(actor, obj.office)
        )

    def reaches_any(self, actor: Principal, objects: list[Handles]) -> bool:
        return any(self.reaches(actor, o) for o in objects)

    def may_decide(self, actor: Principal, office_code: str) -> bool:
        """Decisions on a case are taken by staff of the office holding it or of an office above it
        (a township clerk accepts and forwards, never decides)."""
        own = self._office_of(actor.office_code or "")
        return self.serves(actor, office_code) and (own is None or own.level in HOLDS_CASES)


def division_prefix(city_code: str) -> str:
    """The leading digits a city's division codes share: a municipality's first two, a prefecture
    city's first four."""
    return city_code[:2] if city_code.endswith("0000") else city_code[:4]


POLICY = AccessPolicy()
"""The deployment's policy, over the office directory the deployment ships."""
