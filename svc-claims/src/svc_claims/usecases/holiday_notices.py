"""Holiday notices administered as data: an admin drafts a year's notice (the State Council's arrangement of
bridging days and adjusted working weekends), a second admin reviews and publishes it, and every service's
calendar loads it (``calendar.notice_published``; see ``shared.holiday_notices``). Published notices never
change; a correction is a later notice of the same year with the next number, and the latest wins.
"""

from __future__ import annotations

import uuid

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.events import new_envelope
from shared.holiday_notices import announcement, notice_table
from svc_claims.domain.publication import require_admin, require_publishable
from svc_claims.repository import holiday_notices as store
from svc_claims.repository.holiday_notices import HolidayNotice

# How often the published notices are announced again, so a process started since learns them.
ANNOUNCE_EVERY_S = 3600.0


WHAT = "节假日安排通知"


async def draft(uow: UnitOfWork, actor: Principal, document: object) -> HolidayNotice:
    """A new draft from a notice document, validated whole (every error at once)."""
    require_admin(actor, WHAT)
    table = notice_table(document)
    notice_id = await store.insert_draft(
        uow.session, year=table.year, source=table.source, document=table.model_dump(mode="json"),
        by=actor.subject, at=uow.clock.now(),
    )  # fmt: skip
    return await _found(uow, notice_id)


async def publish(
    uow: UnitOfWork, actor: Principal, notice_id: uuid.UUID, *, note: str | None
) -> HolidayNotice:
    """The second admin's review and publication (never the drafter's), announced to every service."""
    require_admin(actor, WHAT)
    found = await _found(uow, notice_id, for_update=True)
    require_publishable(found, actor, noun="通知", status_noun="通知")
    table = notice_table(found.document)  # the stored draft still validates (rules change between releases)
    await store.lock_year(uow.session, found.year)
    number = await store.next_number(uow.session, found.year)
    await store.mark_published(
        uow.session, notice_id, version=number, by=actor.subject, note=note, at=uow.clock.now()
    )
    uow.emit(new_envelope(announcement(notice_id, table, number, actor.subject), uow.clock))
    return await _found(uow, notice_id)


async def listed(
    uow: UnitOfWork, actor: Principal, *, year: int | None, status: str | None
) -> list[HolidayNotice]:
    """Published notices for anyone signed in; drafts for admins only."""
    if actor.role is not Role.admin:
        status = "published"
    return await store.listed(uow.session, year=year, status=status)


async def visible(uow: UnitOfWork, actor: Principal, notice_id: uuid.UUID) -> HolidayNotice:
    found = await _found(uow, notice_id)
    if found.status != "published" and actor.role is not Role.admin:
        raise NotFound("节假日安排通知")
    return found


async def latest_published(uow: UnitOfWork) -> list[HolidayNotice]:
    """The latest published notice of each year (public: the notices are public documents)."""
    return await store.latest_published(uow.session)


async def announce_published(uow: UnitOfWork) -> int:
    """The latest published notice of each year into this process's calendar and announced to every service
    again (at start and periodically: a process started since the publication learns it); how many."""
    latest = await store.latest_published(uow.session)
    for notice in latest:
        table = notice_table(notice.document)
        assert notice.version is not None and notice.published_by is not None  # published
        default_calendar().load_notice(table, notice.version)
        uow.emit(new_envelope(announcement(notice.id, table, notice.version, notice.published_by), uow.clock))
    return len(latest)


def load_into_calendar(notice: HolidayNotice) -> None:
    """A notice this process just published, into its own calendar at once (the announcement follows)."""
    if notice.version is not None:
        default_calendar().load_notice(notice_table(notice.document), notice.version)


async def _found(uow: UnitOfWork, notice_id: uuid.UUID, *, for_update: bool = False) -> HolidayNotice:
    found = await store.get(uow.session, notice_id, for_update=for_update)
    if found is None:
        raise NotFound("节假日安排通知")
    return found
