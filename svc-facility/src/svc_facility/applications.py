"""Applications for designation: persistence of the aggregate and the use cases of its flow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.directory import catalogue_item
from shared.errors import Problem, not_found
from shared.events import new_envelope
from shared.events.catalog import FacilityReplyOverdueV1
from shared.ops import DeadlineCounts, overdue_seconds
from svc_facility.domain.application import Application, Status, new_application
from svc_facility.domain.deadline import ClockStatus
from svc_facility.domain.eligibility import ApplicantFacts
from svc_facility.domain.kinds import CODE_PREFIX
from svc_facility.domain.registry import RegistryRecord, announcement
from svc_facility.models import applications, registry
from svc_facility.repository import Repository

# The aggregate is stored whole as JSON; pydantic maps the domain dataclasses both ways.
DOCUMENT = TypeAdapter(Application)
OPEN_STATUSES = [s.value for s in Status if s not in (Status.designated, Status.refused, Status.withdrawn, Status.suspended, Status.terminated)]


async def save(uow: UnitOfWork, app: Application) -> None:
    values = {
        "id": app.id,
        "applicant_id": app.applicant_id,
        "kind": app.kind.value,
        "name": app.name,
        "office_code": app.office_code,
        "status": app.status.value,
        "version": app.version,
        "received_on": app.received_on,
        "document": DOCUMENT.dump_python(app, mode="json"),
        "concluded": app.status.value not in OPEN_STATUSES,
    }
    await uow.session.execute(
        insert(applications).values(values).on_conflict_do_update(index_elements=["id"], set_={**values, "updated_at": func.now()})
    )


def _load(document: dict) -> Application:
    return DOCUMENT.validate_python(document)


async def _get(uow: UnitOfWork, application_id: uuid.UUID, for_update: bool = False) -> Application | None:
    query = select(applications.c.document).where(applications.c.id == application_id)
    row = (await uow.session.execute(query.with_for_update() if for_update else query)).first()
    return _load(row[0]) if row else None


def may_see(actor: Principal, app: Application) -> bool:
    if actor.role is Role.facility:
        return actor.subject == app.applicant_id
    if actor.role is Role.staff:
        return actor.serves_office(app.office_code)
    return actor.role is Role.admin


def may_decide(actor: Principal, app: Application) -> bool:
    """Only staff of the applicant's district office decide (the city centre oversees, it does not decide)."""
    return actor.role is Role.staff and actor.office_code == app.office_code


async def visible(uow: UnitOfWork, application_id: uuid.UUID, actor: Principal, for_update: bool = False) -> Application:
    app = await _get(uow, application_id, for_update)
    if app is None or not may_see(actor, app):
        raise not_found("定点申请")
    return app


async def submit(
    uow: UnitOfWork, actor: Principal, name: str, district_code: str, office_code: str, facts: ApplicantFacts, materials: Sequence[str]
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
    await save(uow, app)
    return app


async def act(uow: UnitOfWork, application_id: uuid.UUID, actor: Principal, action: str, version: int, **arguments: Any) -> Application:
    """Apply one step of the flow (the domain checks the transition and the version)."""
    app = await visible(uow, application_id, actor, for_update=True)
    applicant_actions = {"supplement", "withdraw"}
    allowed = actor.subject == app.applicant_id if action in applicant_actions else may_decide(actor, app)
    if not allowed:
        who = "申请机构本身" if action in applicant_actions else "申请机构所属区分中心的经办人员"
        raise Problem(403, "forbidden", "无权执行此操作", f"此操作只能由{who}办理")
    if action == "accept":
        await _require_physical_hospital(uow, app)
    step = getattr(app, action)
    changed: Application = step(**arguments, by=actor.subject, at=uow.clock.now(), expected_version=version)
    await save(uow, changed)
    return changed


async def _require_physical_hospital(uow: UnitOfWork, app: Application) -> None:
    """An internet hospital is designated through its physical hospital, which must itself be designated."""
    code = app.facts.physical_hospital_code
    if code is None:
        return
    hospital = await Repository(uow.session).get_record(code)
    if hospital is None or hospital.status != "designated" or hospital.kind != "medical_institution":
        raise Problem(
            422, "physical_hospital_not_designated", "依托的实体医疗机构不是定点医疗机构",
            f"互联网医院须依托本市定点医疗机构申请，{code} 不在定点名录中或已暂停、解除",
            errors=[{"field": "facts.physical_hospital_code", "message": "须为定点医疗机构"}],
        )  # fmt: skip


async def sign_agreement(
    uow: UnitOfWork, application_id: uuid.UUID, actor: Principal, version: int, level: int | None, programmes: Sequence[str], **agreement: Any
) -> tuple[Application, RegistryRecord]:
    """The agreement makes the applicant a designated institution: it enters the registry and is announced."""
    app = await act(uow, application_id, actor, "sign_agreement", version, **agreement)
    assert app.agreement is not None
    record = RegistryRecord(
        code=await _next_code(uow, CODE_PREFIX[app.kind] + app.district_code),
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


async def _next_code(uow: UnitOfWork, prefix: str) -> str:
    highest = (await uow.session.execute(select(func.max(registry.c.code)).where(registry.c.code.like(f"{prefix}%")))).scalar()
    number = int(highest[len(prefix):]) + 1 if highest else 1
    return f"{prefix}{number:05d}"


async def listed(uow: UnitOfWork, actor: Principal, status: str | None, page: int, size: int) -> tuple[list[Application], int]:
    conditions = []
    if actor.role is Role.facility:
        conditions.append(applications.c.applicant_id == actor.subject)
    elif actor.role is Role.staff and not actor.is_city_staff:
        conditions.append(applications.c.office_code == actor.office_code)
    elif actor.role not in (Role.staff, Role.admin):
        return [], 0
    if status:
        conditions.append(applications.c.status == status)
    total = (await uow.session.execute(select(func.count()).select_from(applications).where(*conditions))).scalar_one()
    rows = await uow.session.execute(
        select(applications.c.document).where(*conditions).order_by(applications.c.received_on.desc()).offset((page - 1) * size).limit(size)
    )
    return [_load(r[0]) for r in rows], total


# The whole item's legal limit comes from the service catalogue (seed 002, items 31 and 32).
CATALOGUE_ITEMS = {"medical_institution": "tj-2021-31", "retail_pharmacy": "tj-2021-32"}


def item_months(kind: str) -> int | None:
    item = catalogue_item(CATALOGUE_ITEMS[kind]) if kind in CATALOGUE_ITEMS else None
    return item.time_limit.value if item is not None and item.time_limit.kind == "months" else None


def clock_of(app: Application, today: date) -> ClockStatus:
    return app.clock(today, default_calendar(), item_months(app.kind))


async def announce_overdue_replies(uow: UnitOfWork, after: uuid.UUID | None = None, batch: int = 200) -> tuple[int, uuid.UUID | None]:
    """One page of the scan: raise facility.reply_overdue once per application and limit.

    Rows are claimed with SKIP LOCKED, so replicas scanning at once never raise an alert twice.
    Returns the alerts raised and the id to continue after (None when the scan is complete).
    """
    conditions = [applications.c.concluded.is_(False)]
    if after is not None:
        conditions.append(applications.c.id > after)
    rows = (
        await uow.session.execute(
            select(applications.c.id, applications.c.document, applications.c.overdue_notices)
            .where(*conditions)
            .order_by(applications.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    today, raised = uow.clock.today(), 0
    for row in rows:
        app = _load(row.document)
        clock = clock_of(app, today)
        due = {"reply_20_working_days": (clock.overdue, clock.due_date), "item_3_months": (clock.item_overdue, clock.item_due_date)}
        fresh = [limit for limit, (late, _) in due.items() if late and limit not in row.overdue_notices]
        for limit in fresh:
            due_date = due[limit][1]
            uow.emit(
                new_envelope(
                    FacilityReplyOverdueV1(
                        application_id=app.id, office_code=app.office_code, limit=limit, due_date=due_date, overdue_since=due_date
                    ),
                    uow.clock,
                )
            )
        if fresh:
            await uow.session.execute(
                update(applications).where(applications.c.id == row.id).values(overdue_notices=[*row.overdue_notices, *fresh])
            )
            raised += len(fresh)
    return raised, (rows[-1].id if len(rows) == batch else None)


# The ops page calls a reply "at risk" in its last working days, while the office can still answer
# in time, and the whole item in its last calendar days (the item limit is counted in months).
AT_RISK_WORKING_DAYS = 3
AT_RISK_ITEM_DAYS = 10


async def reply_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The deadline probe of the ops page (shared.ops): open applications near or past a limit.

    Overdue: the reply is still owed past its 20 working days, or the item is past its 3 months —
    the same limits `announce_overdue_replies` raises alerts for. Counted once per application.
    """
    rows = await uow.session.execute(select(applications.c.document).where(applications.c.concluded.is_(False)))
    today, at_risk, overdue, oldest_due = uow.clock.today(), 0, 0, None
    for (document,) in rows:
        app = _load(document)
        clock = clock_of(app, today)
        reply_owed = app.reply_decided_on is None
        late = [due for past, due in ((clock.overdue and reply_owed, clock.due_date), (clock.item_overdue, clock.item_due_date)) if past]
        if late:
            overdue += 1
            oldest_due = min([*late, oldest_due] if oldest_due else late)
        elif (reply_owed and not clock.paused and clock.working_days_left <= AT_RISK_WORKING_DAYS) or (
            (clock.item_due_date - today).days <= AT_RISK_ITEM_DAYS
        ):
            at_risk += 1
    return DeadlineCounts(at_risk, overdue, overdue_seconds(oldest_due, uow.clock) if oldest_due else None)
