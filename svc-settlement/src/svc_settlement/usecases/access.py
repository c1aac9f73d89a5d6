"""Who may see and act on what: one function per question, used by every use case. An object outside the caller's
reach answers exactly as an unknown one (404, before any other check)."""

from __future__ import annotations

from shared.auth import Principal, Role
from shared.errors import NotFound
from svc_settlement.repository import Repository


async def facility_for_staff(repo: Repository, code: str, actor: Principal) -> dict:
    """The facility, when the staff member's office handles it. Another office's facility answers exactly as an
    unknown one (404, before any other check): its existence is not told."""
    facility = await repo.facility(code)
    if facility is None or not actor.serves_office(facility["office_code"]):
        raise NotFound("定点医药机构")
    return facility


def offices_in_scope(actor: Principal) -> list[str] | None:
    """Staff see their own office's facilities; city staff every office (None = no restriction)."""
    if actor.is_city_staff:
        return None
    return [actor.office_code or "-"]


async def may_see_facility(repo: Repository, actor: Principal, facility_code: str) -> bool:
    if actor.role is Role.facility:
        return actor.facility_id == facility_code
    facility = await repo.facility(facility_code)
    return facility is not None and actor.serves_office(facility["office_code"])


def may_see_clearing(actor: Principal, row: dict) -> bool:
    if actor.role is Role.facility:
        return actor.facility_id == row["facility_code"]
    return actor.serves_office(row["office_code"])
