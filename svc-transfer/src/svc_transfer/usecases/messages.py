"""What the messages of other regions' offices do here (interop/handlers.py dispatches them).

Each is a use case like an HTTP one: one transaction, the peer's message as the command.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.db import UnitOfWork
from shared.errors import Invalid
from svc_transfer.domain.certificate import LetterRefusal, check_letter
from svc_transfer.domain.profiles import PROFILES
from svc_transfer.domain.transfer import (
    Certificate,
    Funds,
    InformationTable,
    Period,
    Person,
    Side,
    Transfer,
    new_incoming,
    new_outgoing,
    opened_by_table,
    rejected_letter,
)
from svc_transfer.interop.exchange import Interop
from svc_transfer.interop.protocol import FundsBody, LetterBody, Message, MessageType, TableBody
from svc_transfer.repository import certificates, coverages, transfers
from svc_transfer.usecases.people import person_id


async def receive_letter(uow: UnitOfWork, message: Message, *, interop: Interop) -> dict[str, Any]:
    """联系函 (outgoing office): a case opens; a letter this office cannot act on is answered with a rejection."""
    existing = await transfers.outgoing_by_ref(uow.session, message.transfer_ref)
    if existing is not None:
        return {"status": existing.status.value}
    body = LetterBody.model_validate(message.body)  # checked on receipt; fields we do not know are ignored
    person = Person(body.person.id_type.value, body.person.id_number, body.person.name)
    pid = person_id(interop, person)
    today = uow.clock.today()
    # The certificate row is locked: letters for one certificate are answered one after the other.
    certificate = await certificates.get(uow.session, body.certificate_number, for_update=True)
    peer = interop.peers.require(message.sender)
    facts = Certificate(
        number=body.certificate_number,
        issuing_office=interop.settings.office_code,
        coverage_ended_on=certificate.coverage_ended_on if certificate else today,
        contribution_months=certificate.contribution_months if certificate else 0,
        account_balance=certificate.account_balance if certificate else Decimal("0.00"),
    )
    case = new_outgoing(
        transfer_ref=message.transfer_ref,
        person_id=pid,
        person=person,
        certificate=facts,
        peer_office=message.sender,
        profile=peer.profile,
        today=today,
        at=uow.clock.now(),
        office_code=certificate.office_code if certificate else None,
    )
    try:
        check_letter(
            certificate,
            person.id_number,
            await coverages.active_coverage(uow.session, pid, today) is not None,
            claimed=certificate is not None
            and await transfers.transfer_out_of(uow.session, certificate.number) is not None,
        )
    except LetterRefusal as refusal:
        case = rejected_letter(case, refusal.code, refusal.reason)
        await interop.queue(
            uow,
            message.sender,
            MessageType.rejection,
            message.transfer_ref,
            {"reason_code": refusal.code, "reason": refusal.reason},
        )
    await transfers.add(uow.session, case)
    return {"status": case.status.value}


async def receive_table_or_funds(uow: UnitOfWork, message: Message, *, interop: Interop) -> dict[str, Any]:
    """信息表 or 资金划转通知 (incoming office); in the online procedure the table opens the case."""
    case = await _incoming_for(uow, message, missing_ok=True) or await _opened_by_table(uow, interop, message)
    profile = PROFILES[case.profile]
    today, at = uow.clock.today(), uow.clock.now()
    if message.type is MessageType.information_table:
        body = TableBody.model_validate(message.body)
        _check_table_matches(case, body)
        table = InformationTable(
            contribution_months=body.contribution_months,
            history=tuple(Period(p.start, p.end, p.months, p.unit_name) for p in body.history),
            account_balance=body.account_balance,
            coverage_ended_on=body.coverage_ended_on,
        )
        received = case.receive_table(table, profile, today, at)
    else:
        notice = FundsBody.model_validate(message.body)
        funds = Funds(amount=notice.amount, reference=notice.reference, transferred_on=notice.transferred_on)
        received = case.receive_funds(funds, profile, today, at)
    await transfers.save(uow, received, loaded_at_version=case.version)
    return {"status": received.status.value}


def _check_table_matches(case: Transfer, body: TableBody) -> None:
    """The table must be about this case's person and certificate: it decides what is credited to whom."""
    mismatched = [
        field
        for field, same in (
            ("person.id_number", body.person.id_number == case.person.id_number),
            ("certificate_number", body.certificate_number == case.certificate.number),
        )
        if not same
    ]
    if mismatched:
        raise Invalid(
            "table_mismatch",
            "信息表与转移业务不符",
            "信息表所列人员或参保凭证编号与本机构受理的业务不一致，不予接收",
            errors=[{"field": f"body.{field}", "message": "与业务不符"} for field in mismatched],
        )


async def _opened_by_table(uow: UnitOfWork, interop: Interop, message: Message) -> Transfer:
    """Online procedure: the person applied at the outgoing office, whose table is the first we hear."""
    peer = interop.peers.require(message.sender)
    if message.type is not MessageType.information_table or peer.profile.has_letter:
        raise _unknown_transfer(message)
    body = TableBody.model_validate(message.body)
    person = Person(body.person.id_type.value, body.person.id_number, body.person.name)
    pid = person_id(interop, person)
    coverage = await coverages.active_coverage(uow.session, pid, uow.clock.today())
    if coverage is None:
        raise Invalid("not_enrolled_here", "该人员尚未在本地参保", "转入地无该人员的有效参保记录，无法接续")
    facts = Certificate(
        number=body.certificate_number,
        issuing_office=message.sender,
        coverage_ended_on=body.coverage_ended_on,
        contribution_months=body.contribution_months,
        account_balance=body.account_balance,
    )
    case = new_incoming(
        person_id=pid,
        person=person,
        certificate=facts,
        office_code=coverage.office_code,
        profile=peer.profile.code,
        by=message.sender,
        at=uow.clock.now(),
    )
    opened = opened_by_table(case, message.transfer_ref, uow.clock.now())
    await transfers.add(uow.session, opened)
    return opened


async def receive_rejection(uow: UnitOfWork, message: Message) -> dict[str, Any]:
    """The outgoing office refused our letter: the case ends with its reason."""
    case = await _incoming_for(uow, message)
    assert case is not None
    rejected = case.rejected_by(
        str(message.body["reason_code"]), str(message.body["reason"]), uow.clock.now()
    )
    await transfers.save(uow, rejected, loaded_at_version=case.version)
    return {"status": rejected.status.value}


async def answer_status_query(uow: UnitOfWork, message: Message) -> dict[str, Any]:
    """A peer follows its exchange: the case's status and steps, nothing about the person."""
    case = await transfers.exchanged_with(uow.session, message.transfer_ref, message.sender)
    if case is None:
        return {"status": "unknown"}
    return {
        "status": case.status.value,
        "steps": [
            {
                "step": s.name.value,
                "started_on": s.started_on.isoformat(),
                "done_on": s.done_on.isoformat() if s.done_on else None,
            }
            for s in case.steps
        ],
    }


async def _incoming_for(uow: UnitOfWork, message: Message, missing_ok: bool = False) -> Transfer | None:
    case = await transfers.side_exchanged_with(
        uow.session, Side.incoming, message.transfer_ref, message.sender
    )
    if case is None and not missing_ok:
        raise _unknown_transfer(message)
    return case


def _unknown_transfer(message: Message) -> Invalid:
    return Invalid(
        "unknown_transfer", "本机构无此转移业务", f"未找到由本机构受理、转出地为 {message.sender} 的转移业务"
    )
