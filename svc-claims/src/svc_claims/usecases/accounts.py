"""The personal account as registration books it: claims mirrors each entry registration announces
(registration.account_credited: a month's contribution credit, a transferred-in balance; account_debited: a
withdrawal claims paid), once per person and reference, so a withdrawal pays the balance registration holds.

Claims books no credit of its own (a transfer-in reaches it only through registration's credit), and the
withdrawal it pays is booked under the reference registration's debit of it carries: whichever arrives first,
the entry is there once.
"""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalog import AccountCreditedV1, AccountDebitedV1
from svc_claims.domain.account import REGISTRATION_KINDS
from svc_claims.repository.coverage import Repository


async def record_account_entry(
    uow: UnitOfWork, envelope: Envelope, event: AccountCreditedV1 | AccountDebitedV1
) -> None:
    await Repository(uow).book_account_entry(
        event.person_id, REGISTRATION_KINDS[event.kind].value, event.amount, event.booked_on, event.reference
    )
