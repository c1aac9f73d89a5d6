"""What reimbursements and benefit payments share: an application the person's office handles step by step
(accept → approve → pay, or reject), stored whole as a document, paid within a limit of working days.

``Applications`` is one table of them: how they are stored, which statuses are still open (the payment
limit runs), the facts their events carry, and the three moves every step of the flow makes — find the
application the actor may see (404 otherwise), check the actor may handle it, save it at the version
it was loaded at.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.documents import DocumentStore
from shared.errors import NotFound
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


A = TypeVar("A", bound=Application)


@dataclass(frozen=True)
class Applications(Generic[A]):
    """One table of applications. The documents also have ``due_on``, ``due_provisional``, ``status``,
    ``overdue_announced`` and ``with_due_recomputed(calendar)`` (the deadline scans use them)."""

    store: DocumentStore[A]
    open_statuses: frozenset[Status]
    fact: Callable[[A], dict[str, Any]]
    what: str  # its name in a 404 answer

    @property
    def open(self) -> list[str]:
        return [s.value for s in self.open_statuses]

    async def visible(
        self, uow: UnitOfWork, actor: Principal, application_id: uuid.UUID, *, lock: bool = False
    ) -> A:
        """The application, if the actor may see it (else 404, the same answer as for none)."""
        found = await self.store.get(uow.session, application_id, lock=lock)
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
        await self.store.save(uow.session, after, loaded_at_version=before.version)
        return after
