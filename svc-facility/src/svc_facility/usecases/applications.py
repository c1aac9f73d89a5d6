"""Applications for designation: the use cases of the flow, from filing to the agreement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from shared.auth import Principal
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.directory import catalogue_item
from shared.errors import Forbidden, Invalid, NotFound
from shared.events import new_envelope
from shared.events.catalog import FacilityReplyOverdueV1
from shared.ops import DeadlineCounts, overdue_seconds
from svc_facility.domain.access import listing_scope, may_act, may_see, who_may
from svc_facility.domain.application import Application, new_application
from svc_facility.domain.deadline import ClockStatus
from svc_facility.domain.eligibility import ApplicantFacts
from svc_facility.domain.kinds import CODE_PREFIX
from svc_facility.domain.registry import RegistryRecord, announcement
from svc_facility.repository import applications as stored
from svc_facility.repository.registry import Repository


async def visible(
    uow: UnitOfWork, actor: Principal, application_id: uuid.UUID, *, lock: bool = False
) -> Application:
    app = await stored.APPLICATIONS.get(uow, application_id, lock=lock)
    if app is None or not may_see(actor, app):
        raise NotFound("定点申请")
    return app


async def submit(
    uow: UnitOfWork,
    actor: Principal,
    *,
    name: str,
    district_code: str,
    office_code: str,
    facts: ApplicantFacts,
    materials: Sequence[str],
) -> Application:
    app = new_application(
        applicant_id=actor.subject,
        name=name,
        district_code=district_code,
        office_code=office_code,
        facts=facts,
        materials=materials,
        received_on=uow.clock.today(),
        by=actor.subject,
        at=uow.clock.now(),
    )
    await stored.APPLICATIONS.add(uow, app)
    return app


async def act(
    uow: UnitOfWork,
    actor: Principal,
    application_id: uuid.UUID,
    *,
    action: str,
    version: int,
    **arguments: Any,
) -> Application:
    """Apply one step of the flow (the domain checks the transition and the version)."""
    app = await visible(uow, actor, application_id, lock=True)
    if not may_act(actor, app, action):
        raise Forbidden("forbidden", "无权执行此操作", f"此操作只能由{who_may(action)}办理")
    if action == "accept":
        await _require_physical_hospital(uow, app)
    step = getattr(app, action)
    changed: Application = step(**arguments, by=actor.subject, at=uow.clock.now(), expected_version=version)
    await stored.APPLICATIONS.save(uow, changed, loaded_at_version=app.version)
    return changed


async def _require_physical_hospital(uow: UnitOfWork, app: Application) -> None:
    """An internet hospital is designated through its physical hospital, which must itself be designated."""
    code = app.facts.physical_hospital_code
    if code is None:
        return
    hospital = await Repository(uow.session).get_record(code)
    if hospital is None or hospital.status != "designated" or hospital.kind != "medical_institution":
        raise Invalid(
            "physical_hospital_not_designated", "依托的实体医疗机构不是定点医疗机构",
            f"互联网医院须依托本市定点医疗机构申请，{code} 不在定点名录中或已暂停、解除",
            errors=[{"field": "facts.physical_hospital_code", "message": "须为定点医疗机构"}],
        )  # fmt: skip


async def sign_agreement(
    uow: UnitOfWork,
    actor: Principal,
    application_id: uuid.UUID,
    *,
    version: int,
    level: int | None,
    programmes: Sequence[str],
    **agreement: Any,
) -> tuple[Application, RegistryRecord]:
    """The agreement makes the applicant a designated institution: it enters the registry and is announced."""
    app = await act(uow, actor, application_id, action="sign_agreement", version=version, **agreement)
    assert app.agreement is not None
    record = RegistryRecord(
        code=await stored.next_registry_code(uow.session, CODE_PREFIX[app.kind] + app.district_code),
        name=app.name,
        kind=app.kind.value,
        institution_type=app.institution_type.value if app.institution_type else None,
        level=level,
        district_code=app.district_code,
        office_code=app.office_code,
        programmes=tuple(programmes),
        physical_hospital_code=app.facts.physical_hospital_code,
        agreement_number=app.agreement.number,
        agreement_valid_from=app.agreement.valid_from,
        agreement_valid_to=app.agreement.valid_to,
        status="designated",
        version=1,
    )
    await Repository(uow.session).add_record(record)
    uow.emit(new_envelope(announcement(record, first_time=True), uow.clock))
    return app, record


async def listed(
    uow: UnitOfWork, actor: Principal, *, status: str | None, page: int, size: int
) -> tuple[list[Application], int]:
    scope = listing_scope(actor)
    if scope is None:  # a person, a unit, ops or a peer never has an application to list
        raise Forbidden("forbidden", "无权查看定点申请", "定点申请只对申请机构和经办机构开放")
    applicant_id, office_codes = scope
    return await stored.page(
        uow.session,
        applicant_id=applicant_id,
        office_codes=office_codes,
        status=status,
        offset=(page - 1) * size,
        limit=size,
    )


# The whole item's legal limit comes from the service catalogue (seed 002, items 31 and 32).
CATALOGUE_ITEMS = {"medical_institution": "tj-2021-31", "retail_pharmacy": "tj-2021-32"}


def item_months(kind: str) -> int | None:
    item = catalogue_item(CATALOGUE_ITEMS[kind]) if kind in CATALOGUE_ITEMS else None
    return item.time_limit.value if item is not None and item.time_limit.kind == "months" else None


def clock_of(app: Application, today: date) -> ClockStatus:
    return app.clock(today, default_calendar(), item_months(app.kind))


async def announce_overdue_replies(
    uow: UnitOfWork, after: uuid.UUID | None = None, batch: int = 200
) -> uuid.UUID | None:
    """One page of the scan: raise facility.reply_overdue once per application and limit.

    Rows are claimed with SKIP LOCKED, so replicas scanning at once never raise an alert twice.
    Returns the id to continue after (None when the scan is complete).
    """
    rows = await stored.claim_open_page(uow.session, after, batch)
    today = uow.clock.today()
    for row in rows:
        app = stored.APPLICATIONS.load(row.document)
        clock = clock_of(app, today)
        due = {
            "reply_20_working_days": (clock.overdue, clock.due_date),
            "item_3_months": (clock.item_overdue, clock.item_due_date),
        }
        fresh = [limit for limit, (late, _) in due.items() if late and limit not in row.overdue_notices]
        for limit in fresh:
            due_date = due[limit][1]
            overdue = FacilityReplyOverdueV1(
                application_id=app.id,
                office_code=app.office_code,
                limit=limit,
                due_date=due_date,
                overdue_since=due_date,
            )
            uow.emit(new_envelope(overdue, uow.clock))
        if fresh:
            await stored.note_overdue_notices(uow.session, row.id, [*row.overdue_notices, *fresh])
    return rows[-1].id if len(rows) == batch else None


# The ops page calls a reply "at risk" in its last working days, while the office can still answer
# in time, and the whole item in its last calendar days (the item limit is counted in months).
AT_RISK_WORKING_DAYS = 3
AT_RISK_ITEM_DAYS = 10


async def reply_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The deadline probe of the ops page (shared.ops): open applications near or past a limit.

    Overdue: the reply is still owed past its 20 working days, or the item is past its 3 months —
    the same limits `announce_overdue_replies` raises alerts for. Counted once per application.
    """
    today, at_risk, overdue, oldest_due = uow.clock.today(), 0, 0, None
    for app in await stored.open_applications(uow.session):
        clock = clock_of(app, today)
        reply_owed = app.reply_decided_on is None
        late = [
            due
            for past, due in (
                (clock.overdue and reply_owed, clock.due_date),
                (clock.item_overdue, clock.item_due_date),
            )
            if past
        ]
        if late:
            overdue += 1
            oldest_due = min([*late, oldest_due] if oldest_due else late)
        elif (reply_owed and not clock.paused and clock.working_days_left <= AT_RISK_WORKING_DAYS) or (
            (clock.item_due_date - today).days <= AT_RISK_ITEM_DAYS
        ):
            at_risk += 1
    return DeadlineCounts(at_risk, overdue, overdue_seconds(oldest_due, uow.clock) if oldest_due else None)
