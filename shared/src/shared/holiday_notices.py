"""The State Council's yearly holiday notice, from the admin who publishes it to every service's calendar.

svc-claims owns the notices (drafted by one admin, published by another, immutable once published) and
announces each published one with ``calendar.notice_published`` — at publication and again periodically,
so a process started since still learns it — and at once when a process asks (``calendar.notices_requested``,
sent by every process when it starts listening). Every service subscribes with ``SUBSCRIPTION`` (its durable queue:
a service that was down gets it when it returns), and every process also listens on a queue of its own
(``LISTENER``, run by ``shared.service`` for every service): replicas share their service's queue, so
without it one replica of each service would learn the notice and the others not. Either loads the year
into the process-wide calendar (``shared.calendar.default_calendar``), where a year
without a notice counts weekends and the statutory holidays only, provisionally. Each service's own
path for provisional due dates then recomputes them (claims' periodic job; facility and transfer when a
clock is read), exactly as for an operator's file.

``notice_table`` is the one validation of a notice document, for the API and the command line: every
error is listed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from pydantic import ValidationError

from shared.calendar import LIBRARY_YEARS, SUPPORTED_YEARS, NamedDay, YearTable, default_calendar
from shared.db import UnitOfWork
from shared.errors import Invalid
from shared.events.catalog import CalendarDay, CalendarNoticePublishedV1, CalendarNoticesRequestedV1
from shared.events.consumer import Subscription
from shared.events.envelope import Envelope, new_envelope
from shared.events.registry import event_spec, payload_of
from shared.events.relay import message_for
from shared.events.topology import declare_exchange

if TYPE_CHECKING:
    from shared.service import ServiceRuntime

log = logging.getLogger(__name__)


class NoticeInvalid(Invalid):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(
            "invalid_holiday_notice", "节假日安排通知不合规", f"共 {len(errors)} 处错误", errors=errors
        )


def notice_problems(document: object) -> list[dict[str, Any]]:
    """Every error of a notice document ({"field", "message"} each); empty when it can be drafted."""
    if not isinstance(document, dict):
        return [{"field": "", "message": "节假日安排通知必须是 JSON 对象"}]
    problems = _year_problems(document.get("year"))
    if not str(document.get("source") or "").strip():
        problems.append({"field": "source", "message": "须写明通知的文号（如 国办发明电〔2026〕7号）"})
    try:
        YearTable.model_validate(document)
    except ValidationError as exc:
        problems += [problem for error in exc.errors() for problem in _problems_of(error)]
    return problems


def notice_table(document: object) -> YearTable:
    """The year's table of a notice document, or NoticeInvalid listing all its errors."""
    problems = notice_problems(document)
    if problems:
        raise NoticeInvalid(problems)
    return YearTable.model_validate(document)


def _year_problems(year: object) -> list[dict[str, Any]]:
    if not isinstance(year, int) or isinstance(year, bool):
        return []  # the model says what is wrong with it
    first, last = SUPPORTED_YEARS.start, SUPPORTED_YEARS.stop - 1
    if year not in SUPPORTED_YEARS:
        return [{"field": "year", "message": f"工作日历支持 {first}–{last} 年"}]
    if year in LIBRARY_YEARS:
        return [{"field": "year", "message": f"{year} 年的节假日安排已内置（{LIBRARY_YEARS.start}–{LIBRARY_YEARS.stop - 1}），不能另行发布"}]  # fmt: skip
    return []


def _problems_of(error: Any) -> list[dict[str, Any]]:
    field = ".".join(str(part) for part in error["loc"])
    if field or "error" not in error.get("ctx", {}):
        return [{"field": field, "message": error["msg"]}]
    # The table's consistency check lists its problems together: one entry each.
    return [{"field": "", "message": message} for message in str(error["ctx"]["error"]).split("; ")]


# --------------------------------------------------------------------------- the announcement


def announcement(
    notice_id: Any, table: YearTable, version: int, published_by: str
) -> CalendarNoticePublishedV1:
    return CalendarNoticePublishedV1(
        notice_id=notice_id, year=table.year, version=version, source=table.source, published_by=published_by,
        holidays=[CalendarDay(date=d.date, name=d.name) for d in table.holidays],
        workdays=[CalendarDay(date=d.date, name=d.name) for d in table.workdays],
    )  # fmt: skip


def table_of(notice: CalendarNoticePublishedV1) -> YearTable:
    return YearTable(
        year=notice.year, source=notice.source,
        holidays=[NamedDay(date=d.date, name=d.name) for d in notice.holidays],
        workdays=[NamedDay(date=d.date, name=d.name) for d in notice.workdays],
    )  # fmt: skip


async def load_published_notice(
    uow: UnitOfWork, envelope: Envelope, notice: CalendarNoticePublishedV1
) -> None:
    """A published notice into this process's calendar (a later notice of the year is kept if loaded)."""
    default_calendar().load_notice(table_of(notice), notice.version)


SUBSCRIPTION = Subscription(CalendarNoticePublishedV1, load_published_notice)


# --------------------------------------------------------------------------- every process, not one per service


async def listen_in_this_process(runtime: ServiceRuntime) -> None:
    """A queue of this process's own (exclusive, gone with it) bound to ``calendar.notice_published``: every
    replica loads every announcement. Returns when the service stops or the channel is lost (then it is run
    again, like any periodic job, and declares a fresh queue)."""
    broker = runtime.broker
    if not broker.is_connected:
        return
    try:
        channel = await broker.channel()
    except CONNECTION_EXCEPTIONS:
        return  # the broker went meanwhile: the broker's own WARNING says so; the next run listens again
    try:
        exchange = await declare_exchange(channel, broker.namespace)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=event_spec(CalendarNoticePublishedV1).event_type)
        await queue.consume(_load_announcement, no_ack=True)  # loading is idempotent: nothing to retry
        await _ask_for_the_published_notices(runtime)
        while not runtime.stop.is_set() and not channel.is_closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.stop.wait(), timeout=1.0)
    except CONNECTION_EXCEPTIONS as exc:
        # A broker outage is not an error of this listener (one WARNING per outage, from the broker).
        log.info("holiday notice listener: channel lost (%s); listening again shortly", type(exc).__name__)
    finally:
        if not channel.is_closed:
            with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                await channel.close()


async def _ask_for_the_published_notices(runtime: ServiceRuntime) -> None:
    """This process listens from now on: ask the owner to announce the published notices again, so a process
    that started after a publication loads it at once (sent directly, not through the outbox: if it is lost,
    the owner's hourly announcement still comes)."""
    request = new_envelope(CalendarNoticesRequestedV1(service=runtime.service), runtime.clock)
    failures = await runtime.broker.publish_events(
        [message_for(request.event_type, request.model_dump(mode="json"))]
    )
    if any(failures):
        log.warning("could not ask for the published holiday notices: %s", failures)


async def _load_announcement(message: AbstractIncomingMessage) -> None:
    try:
        notice = payload_of(Envelope.model_validate_json(message.body), CalendarNoticePublishedV1)
        default_calendar().load_notice(table_of(notice), notice.version)
    except Exception:  # a bad message must not stop the listener; the durable subscription dead-letters it
        log.exception("could not load an announced holiday notice")


async def _listener(runtime: ServiceRuntime) -> None:
    await listen_in_this_process(runtime)


_listener.interval_s = 5.0  # type: ignore[attr-defined]  # how soon it listens again after a lost channel
LISTENER = _listener
