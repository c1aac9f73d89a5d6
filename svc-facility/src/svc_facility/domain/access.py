"""Who may see and act on a facility's applications and registry records: the service's seam to the
platform's access policy (``shared.access``). It only maps its objects to their handles."""

from __future__ import annotations

from shared.access import POLICY, Handles
from shared.auth.principal import Principal, Role
from svc_facility.domain.application import Application

APPLICANT_ACTIONS = frozenset({"supplement", "withdraw"})


def is_applicant(actor: Principal, app: Application) -> bool:
    """The applying institution's account (it has no facility code until it is designated)."""
    return actor.role is Role.facility and actor.subject == app.applicant_id


def may_see(actor: Principal, app: Application) -> bool:
    return is_applicant(actor, app) or POLICY.reaches(actor, Handles(office=app.office_code))


def may_act(actor: Principal, app: Application, action: str) -> bool:
    """The applicant supplements and withdraws; only staff of its district office decide (the city oversees)."""
    if action in APPLICANT_ACTIONS:
        return actor.subject == app.applicant_id
    return (
        actor.role is Role.staff
        and actor.office_code == app.office_code
        and POLICY.may_decide(actor, app.office_code)
    )


def who_may(action: str) -> str:
    return "申请机构本身" if action in APPLICANT_ACTIONS else "申请机构所属区分中心的经办人员"


def may_change_record(actor: Principal, office_code: str) -> bool:
    """A registry record is changed by staff of its office or an office above it."""
    return POLICY.serves(actor, office_code)


def listing_scope(actor: Principal) -> tuple[str | None, frozenset[str] | None] | None:
    """The (applicant, offices) an actor's list of applications is limited to (None: any), or None
    when they may list none."""
    if actor.role is Role.facility:
        return actor.subject, None
    scope = POLICY.staff_scope(actor)
    if actor.role in (Role.staff, Role.admin) and scope.codes != frozenset():
        return None, scope.codes
    return None
