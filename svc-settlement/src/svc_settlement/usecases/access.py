"""Who may see and act on what: the service's seam to the platform's access policy (``shared.access``),
one function per question, used by every use case; it only maps facilities and clearings to their
handles (office, facility). An object outside the caller's reach answers exactly as an unknown one
(404, before any other check)."""

from __future__ import annotations

from shared.access import POLICY, Handles
from shared.auth import Principal, Role
from shared.errors import NotFound
from svc_settlement.repository import Repository


async def facility_for_staff(repo: Repository, code: str, actor: Principal) -> dict:
    """The facility, when the staff member's office reaches it. Another office's facility answers exactly as
    an unknown one (404, before any other check): its existence is not told."""
    facility = await repo.facility(code)
    if facility is None or not POLICY.serves(actor, facility["office_code"]):
        raise NotFound("定点医药机构")
    return facility


def offices_in_scope(actor: Principal) -> list[str] | None:
    """Staff see the facilities of their office and the offices below it (city staff: their city's);
    nobody else lists by office (None = no restriction, never given here)."""
    codes = POLICY.staff_scope(actor).codes if actor.role is Role.staff else None
    return sorted(codes) if codes else ["-"]


async def may_see_facility(repo: Repository, actor: Principal, facility_code: str) -> bool:
    if actor.role is Role.facility:
        return POLICY.is_own_facility(actor, facility_code)
    facility = await repo.facility(facility_code)
    return facility is not None and POLICY.serves(actor, facility["office_code"])


def may_see_clearing(actor: Principal, row: dict) -> bool:
    return actor.role is not Role.admin and POLICY.reaches(
        actor, Handles(office=row["office_code"], facility=row["facility_code"])
    )
