"""Who may see and act on a facility's application (the service's one seam for the access policy)."""

from __future__ import annotations

from shared.auth.principal import Principal, Role
from svc_facility.domain.application import Application

APPLICANT_ACTIONS = frozenset({"supplement", "withdraw"})


def may_see(actor: Principal, app: Application) -> bool:
    if actor.role is Role.facility:
        return actor.subject == app.applicant_id
    if actor.role is Role.staff:
        return actor.serves_office(app.office_code)
    return actor.role is Role.admin


def may_act(actor: Principal, app: Application, action: str) -> bool:
    """The applicant supplements and withdraws; only staff of its district office decide (the city oversees)."""
    if action in APPLICANT_ACTIONS:
        return actor.subject == app.applicant_id
    return actor.role is Role.staff and actor.office_code == app.office_code


def who_may(action: str) -> str:
    return "申请机构本身" if action in APPLICANT_ACTIONS else "申请机构所属区分中心的经办人员"


def listing_scope(actor: Principal) -> dict[str, str | None] | None:
    """The filter an actor's list of applications is limited to, or None when they may list none."""
    if actor.role is Role.facility:
        return {"applicant_id": actor.subject, "office_code": None}
    if actor.role is Role.staff and not actor.is_city_staff:
        return {"applicant_id": None, "office_code": actor.office_code}
    if actor.role in (Role.staff, Role.admin):
        return {"applicant_id": None, "office_code": None}
    return None
