"""Transfer cases as stored: the aggregate whole as a document, its key columns beside it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, false, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import UnitOfWork
from shared.documents import DocumentStore
from shared.errors import Conflict
from svc_transfer.domain.access import Scope
from svc_transfer.domain.transfer import Side, Status, Transfer
from svc_transfer.models import transfers


def _key_columns(case: Transfer) -> dict[str, Any]:
    # The certificate a case holds is set when it is written first (cases that shared a certificate
    # before uq_transfers_outgoing_certificate existed keep holding none): see `add`.
    return {
        "id": case.id,
        "side": case.side.value,
        "transfer_ref": case.transfer_ref,
        "peer_office": case.peer_office,
        "office_code": case.office_code,
        "person_id": case.person_id,
        "unit_id": case.unit_id,
        "status": case.status.value,
        "version": case.version,
        "closed": case.closed,
    }


CASES = DocumentStore(transfers, Transfer, _key_columns)


async def add(session: AsyncSession, case: Transfer) -> None:
    """A new case; a second transfer out of one certificate is refused by the database's constraint."""
    row = {
        **_key_columns(case),
        "certificate_number": case.certificate.number,
        "document": CASES.adapter.dump_python(case, mode="json"),
    }
    try:
        await session.execute(insert(transfers).values(row))
    except IntegrityError as exc:
        if "uq_transfers_outgoing_certificate" not in str(exc.orig):
            raise
        raise Conflict("already_transferred", "该参保凭证已办理转出", "同一参保凭证只能办理一次转出") from exc


async def save(uow: UnitOfWork, case: Transfer, *, loaded_at_version: int) -> None:
    await CASES.save(uow, case, loaded_at_version=loaded_at_version)


async def _one(session: AsyncSession, *where: ColumnElement[bool], lock: bool = False) -> Transfer | None:
    query = select(transfers.c.document).where(*where)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return CASES.load(row[0]) if row else None


async def get(uow: UnitOfWork, case_id: uuid.UUID, *, lock: bool = False) -> Transfer | None:
    return await CASES.get(uow, case_id, lock=lock)


async def outgoing_by_ref(session: AsyncSession, transfer_ref: uuid.UUID) -> Transfer | None:
    return await _one(
        session, transfers.c.side == Side.outgoing.value, transfers.c.transfer_ref == transfer_ref
    )


async def transfer_out_of(session: AsyncSession, number: str) -> Transfer | None:
    """The transfer out that holds a certificate (one at most: uq_transfers_outgoing_certificate)."""
    return await _one(
        session,
        transfers.c.side == Side.outgoing.value,
        transfers.c.certificate_number == number,
        transfers.c.status != Status.rejected.value,
    )


async def open_outgoing_of(session: AsyncSession, person_id: uuid.UUID) -> Transfer | None:
    return await _one(
        session,
        transfers.c.side == Side.outgoing.value,
        transfers.c.closed.is_(False),
        transfers.c.person_id == person_id,
    )


async def exchanged_with(session: AsyncSession, transfer_ref: uuid.UUID, peer: str) -> Transfer | None:
    """The case a peer asks about (either side)."""
    return await _one(session, transfers.c.transfer_ref == transfer_ref, transfers.c.peer_office == peer)


async def side_exchanged_with(
    session: AsyncSession, side: Side, transfer_ref: uuid.UUID, peer: str
) -> Transfer | None:
    """The case of one side that an exchange with a peer belongs to, locked."""
    return await _one(
        session,
        transfers.c.side == side.value,
        transfers.c.transfer_ref == transfer_ref,
        transfers.c.peer_office == peer,
        lock=True,
    )


def _scope_filter(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.nothing:
        return [false()]
    conditions: list[ColumnElement[bool]] = []
    if scope.person_id is not None:
        conditions.append(transfers.c.person_id == scope.person_id)
    if scope.unit_id is not None:
        conditions.append(transfers.c.unit_id == scope.unit_id)
    if scope.office_code is not None:
        conditions.append(transfers.c.office_code == scope.office_code)
    if scope.office_prefix is not None:
        conditions.append(transfers.c.office_code.startswith(scope.office_prefix, autoescape=True))
    return conditions


async def page(session: AsyncSession, scope: Scope, *, offset: int, limit: int) -> tuple[list[Transfer], int]:
    return await CASES.find(
        session, *_scope_filter(scope), order_by=[transfers.c.updated_at.desc()], offset=offset, limit=limit
    )


async def open_in(session: AsyncSession, scope: Scope) -> list[Transfer]:
    found, _ = await CASES.find(session, transfers.c.closed.is_(False), *_scope_filter(scope))
    return found


async def claim_open_page(session: AsyncSession, after: uuid.UUID | None, batch: int) -> list[Transfer]:
    """The next open cases after `after`, locked; those another scanner holds are skipped."""
    query = (
        select(transfers.c.document)
        .where(transfers.c.closed.is_(False))
        .order_by(transfers.c.id)
        .limit(batch)
    )
    if after is not None:
        query = query.where(transfers.c.id > after)
    return [CASES.load(r[0]) for r in await session.execute(query.with_for_update(skip_locked=True))]
