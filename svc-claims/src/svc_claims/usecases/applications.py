"""What reimbursements and benefit payments share: an application the person's office handles step by step
(accept → approve → pay, or reject), stored whole as a document, paid within a limit of working days.

``Applications`` is one table of them: how they are stored, which statuses are still open (the payment
limit runs), the facts their events carry, and the three moves every step of the flow makes — find the
application the actor may see (404 otherwise), check the actor may handle it, save it at the version
it was loaded at — plus acceptance (受理), which is the same step for both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Protocol, Self, TypeVar

from shared.auth import Principal
from shared.calendar import WorkingCalendar, default_calendar
from shared.db import UnitOfWork
from shared.documents import DocumentStore
from shared.errors import NotFound
from shared.events import new_envelope
from shared.events.catalog import ClaimsAcceptedV1
from svc_claims.domain.access import may_see_application, require_office_staff
from svc_claims.domain.reimbursement import Status


class Application(Protocol):
    @property
    def person_id(self) -> uuid.UUID: ...
    @property
    def office_code(self) -> str: ...
    @property
    def unit_code(self) -> str | None: ...
    @property
    def version(self) -> int: ...
    @property
    def accepted_on(self) -> date | None: ...
    @property
    def due_on(self) -> date | None: ...
    def accept(self, version: int, by: str, at: datetime, today: date, calendar: WorkingCalendar) -> Self: ...


A = TypeVar("A", bound=Application)


@dataclass(frozen=True)
class Applications(Generic[A]):
    """One table of applications. The documents also have ``due_on``, ``due_provisional``, ``status``,
    ``overdue_announced`` and ``with_due_recomputed(calendar)`` (the deadline scans use them)."""

    store: DocumentStore[A]
    open_statuses: frozenset[Status]
    fact: Callable[[A], dict[str, Any]]
    claimed: Callable[[A], Decimal]  # the amount claims.accepted announces
    what: str  # its name in a 404 answer

    @property
    def open(self) -> list[str]:
        return [s.value for s in self.open_statuses]

    async def visible(
        self, uow: UnitOfWork, actor: Principal, application_id: uuid.UUID, *, lock: bool = False
    ) -> A:
        """The application, if the actor may see it (else 404, the same answer as for none)."""
        found = await self.store.get(uow, application_id, lock=lock)
        if found is None or not may_see_application(
            actor, person_id=found.person_id, office_code=found.office_code, unit_code=found.unit_code
        ):
            raise NotFound(self.what)
        return found

    async def handled(
        self, uow: UnitOfWork, actor: Principal, application_id: uuid.UUID, *, city: bool = False
    ) -> A:
        """The application a step of the office's flow acts on: locked, and the actor is staff who may
        handle it (city-level staff, with `city`)."""
        found = await self.visible(uow, actor, application_id, lock=True)
        require_office_staff(actor, found.office_code, city=city)
        return found

    async def saved(self, uow: UnitOfWork, before: A, after: A) -> A:
        """`after` stored in place of `before`, unless someone saved it since it was loaded."""
        await self.store.save(uow, after, loaded_at_version=before.version)
        return after

    async def accept(
        self, uow: UnitOfWork, actor: Principal, application_id: uuid.UUID, *, version: int
    ) -> A:
        """受理 by staff of the person's office: the payment limit runs from today (claims.accepted)."""
        found = await self.handled(uow, actor, application_id)
        now, today = uow.clock.now(), uow.clock.today()
        accepted = await self.saved(
            uow, found, found.accept(version, actor.subject, now, today, default_calendar())
        )
        uow.emit(new_envelope(ClaimsAcceptedV1(**self.fact(accepted), accepted_on=accepted.accepted_on, due_on=accepted.due_on,
                                               claimed=self.claimed(accepted)), uow.clock))  # fmt: skip
        return accepted
