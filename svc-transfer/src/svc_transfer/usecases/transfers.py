"""Transfer cases: the person applies, the office accepts and drives the exchange, everyone follows it.

Incoming side (转入地): apply, accept or refuse, send the letter, complete (or confirm held funds).
Outgoing side (转出地): apply online where one leaves, send the table with the funds. Either side:
re-send a message the peer refused, and learn of one that could not be delivered.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from shared.auth import Principal
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import new_envelope
from shared.events.catalog import TransferCompletedV1, TransferTransferredOutV1
from svc_transfer.domain.access import listing_scope, may_act, may_apply_at, may_apply_for, may_see
from svc_transfer.domain.profiles import PROFILES
from svc_transfer.domain.transfer import (
    Certificate,
    Period,
    Person,
    Side,
    Status,
    Step,
    Transfer,
    new_incoming,
    new_outgoing,
)
from svc_transfer.interop.exchange import Interop, requeue
from svc_transfer.interop.protocol import MessageType
from svc_transfer.repository import certificates, coverages, transfers
from svc_transfer.usecases.certificates import visible_certificate
from svc_transfer.usecases.people import person_body, person_id

PERIODS = TypeAdapter(tuple[Period, ...])

REFUSAL_REASONS = {
    "not_enrolled_here": "本地未参保：请先在本市参加基本医疗保险后再申请转入",
    "coverage_not_ended": "转出地参保关系尚未中止",
    "materials_incomplete": "申请材料不全",
    "certificate_invalid": "参保凭证无效",
}


# --------------------------------------------------------------------------- following cases


async def visible(
    uow: UnitOfWork, actor: Principal, *, case_id: uuid.UUID, for_update: bool = False
) -> Transfer:
    case = await transfers.get(uow, case_id, lock=for_update)
    if case is None or not may_see(actor, case):
        raise NotFound("转移接续业务")
    return case


async def for_staff(uow: UnitOfWork, actor: Principal, *, case_id: uuid.UUID) -> Transfer:
    """The case locked for a step: seen first (404 otherwise), then only staff may act on it."""
    case = await visible(uow, actor, case_id=case_id, for_update=True)
    if not may_act(actor):
        raise Forbidden("forbidden", "无权执行此操作", "此操作只能由经办机构工作人员办理")
    return case


async def cases_of(uow: UnitOfWork, actor: Principal, *, page: int, size: int) -> tuple[list[Transfer], int]:
    return await transfers.page(uow.session, listing_scope(actor), offset=(page - 1) * size, limit=size)


async def worklist(
    uow: UnitOfWork, actor: Principal, *, overdue_only: bool
) -> list[tuple[Transfer, Step | None]]:
    """Open cases of the staff member's offices with their current step, most urgent first."""
    calendar, today = default_calendar(), uow.clock.today()
    items = []
    for case in await transfers.open_in(uow.session, listing_scope(actor)):
        step, whole = case.open_step(), case.whole_limit()
        late = [s for s in (step, whole) if s is not None and s.overdue(calendar, today)]
        if overdue_only and not late:
            continue
        items.append((case, step))
    return sorted(items, key=lambda item: item[1].due(calendar).date if item[1] else date.max)


# --------------------------------------------------------------------------- incoming side (转入地)


async def apply(
    uow: UnitOfWork,
    actor: Principal,
    *,
    interop: Interop,
    person: Person,
    certificate: Certificate,
    unit_id: str | None,
    proxy_name: str | None,
) -> Transfer:
    """The person (or a proxy, or the counter) applies with the certificate; the office then decides."""
    pid = person_id(interop, person)
    if not may_apply_for(actor, pid):
        raise Invalid(
            "not_own_identity",
            "只能为本人申请",
            "证件号码与登录人不一致；代办请到窗口办理",
            errors=[{"field": "person.id_number", "message": "与登录人不一致"}],
        )
    profile = "army"
    if not certificate.from_army:
        peer = interop.peers.require(certificate.issuing_office)
        if not peer.profile.exchanges_messages:
            raise Invalid(
                "no_transfer_needed",
                "省内转移无需办理转移接续",
                f"{peer.name}与本机构之间不交换联系函：新单位办理增员时直接接续",
            )
        profile = peer.profile.code
    coverage = await coverages.active_coverage(uow.session, pid, uow.clock.today())
    if coverage is not None and not may_apply_at(actor, coverage.office_code):
        raise NotFound("参保记录")  # covered at an office this clerk does not serve
    if coverage is None:
        raise Invalid(
            "not_enrolled_here",
            "申请人尚未在本地参保",
            "转入申请的受理条件是已在本地参加基本医疗保险：请先办理参保登记（审核通过后即可申请）",
        )
    case = new_incoming(
        person_id=pid,
        person=person,
        certificate=certificate,
        office_code=coverage.office_code,
        profile=profile,
        by=actor.subject,
        at=uow.clock.now(),
        unit_id=unit_id,
        proxy_name=proxy_name,
    )
    await transfers.add(uow.session, case)
    return case


async def accept(
    uow: UnitOfWork, actor: Principal, *, interop: Interop, case_id: uuid.UUID, version: int
) -> Transfer:
    case = await for_staff(uow, actor, case_id=case_id)
    today = uow.clock.today()
    if case.status is Status.submitted:
        enrolled = await coverages.active_coverage(uow.session, case.person_id, today) is not None
        _check_acceptable(case, enrolled, today)
    accepted = case.accept(PROFILES.get(case.profile), today, actor.subject, uow.clock.now(), version)
    if accepted.status is Status.letter_sent:  # no letter in this procedure: the request leaves now
        await _queue_letter(uow, interop, accepted)
    await transfers.save(uow, accepted, loaded_at_version=case.version)
    return accepted


def _check_acceptable(case: Transfer, enrolled_here: bool, today: date) -> None:
    if not enrolled_here:
        raise Invalid(
            "not_enrolled_here",
            "申请人尚未在本地参保",
            "受理条件：申请人已在本地参加基本医疗保险；请先办理参保或作不予受理",
        )
    if case.certificate.coverage_ended_on > today:
        raise Invalid("coverage_not_ended", "转出地参保关系尚未中止", "参保凭证载明的中止日期晚于今天")


async def refuse(
    uow: UnitOfWork, actor: Principal, *, case_id: uuid.UUID, version: int, reason_code: str, note: str | None
) -> Transfer:
    case = await for_staff(uow, actor, case_id=case_id)
    reason = REFUSAL_REASONS[reason_code] + (f"（{note}）" if note else "")
    refused = case.refuse(reason_code, reason, actor.subject, uow.clock.now(), version)
    await transfers.save(uow, refused, loaded_at_version=case.version)
    return refused


async def send_letter(
    uow: UnitOfWork, actor: Principal, *, interop: Interop, case_id: uuid.UUID, version: int
) -> Transfer:
    case = await for_staff(uow, actor, case_id=case_id)
    sent = case.send_letter(uow.clock.today(), actor.subject, uow.clock.now(), version)
    await _queue_letter(uow, interop, sent)
    await transfers.save(uow, sent, loaded_at_version=case.version)
    return sent


async def _queue_letter(uow: UnitOfWork, interop: Interop, case: Transfer) -> None:
    assert case.peer_office is not None
    body = {
        "person": person_body(case.person),
        "certificate_number": case.certificate.number,
        "receiving_office": case.office_code,
        "receiving_office_name": interop.settings.office_name,
        "letter_date": uow.clock.today().isoformat(),
    }
    await interop.queue(uow, case.peer_office, MessageType.letter, case.transfer_ref, body)


async def complete(uow: UnitOfWork, actor: Principal, *, case_id: uuid.UUID, version: int) -> Transfer:
    case = await for_staff(uow, actor, case_id=case_id)
    today = uow.clock.today()
    completed = case.complete(today, actor.subject, uow.clock.now(), version)
    await transfers.save(uow, completed, loaded_at_version=case.version)
    months = (
        completed.table.contribution_months if completed.table else completed.certificate.contribution_months
    )
    balance = completed.credited_balance  # the table's figure: funds were checked against it
    uow.emit(
        new_envelope(
            TransferCompletedV1(
                transfer_id=completed.id,
                person_id=completed.person_id,
                office_code=completed.office_code,
                from_office=completed.peer_office,
                contribution_months=months,
                account_balance=balance,
                completed_on=today,
            ),
            uow.clock,
        )
    )
    return completed


async def confirm_funds(
    uow: UnitOfWork,
    actor: Principal,
    *,
    case_id: uuid.UUID,
    version: int,
    amount_received: Decimal,
    note: str,
) -> Transfer:
    """Staff record the amount the bank statement shows for a held case; it must be the table's."""
    case = await for_staff(uow, actor, case_id=case_id)
    confirmed = case.confirm_funds(
        amount_received, note, uow.clock.today(), actor.subject, uow.clock.now(), version
    )
    await transfers.save(uow, confirmed, loaded_at_version=case.version)
    return confirmed


# --------------------------------------------------------------------------- delivery to peers


async def resend(
    uow: UnitOfWork, actor: Principal, *, case_id: uuid.UUID, version: int, note: str
) -> Transfer:
    """Staff corrected what made the peer refuse (its address, our data) and send the message again."""
    case = await for_staff(uow, actor, case_id=case_id)
    resent = case.resend(actor.subject, uow.clock.now(), version, note)
    await requeue(uow, case.transfer_ref)
    await transfers.save(uow, resent, loaded_at_version=case.version)
    return resent


async def flag_undelivered(uow: UnitOfWork, row: Any, error: str) -> None:
    """A message refused for good or given up on: its case shows it to staff (worklist, overdue alert)."""
    side = Side.incoming if row.type == MessageType.letter.value else Side.outgoing
    case = await transfers.side_exchanged_with(uow.session, side, row.transfer_ref, row.peer)
    if case is not None:
        flagged = case.delivery_refused(row.id, row.type, error, uow.clock.today(), uow.clock.now())
        await transfers.save(uow, flagged, loaded_at_version=case.version)


# --------------------------------------------------------------------------- outgoing side (转出地)


async def apply_outgoing(
    uow: UnitOfWork, actor: Principal, *, interop: Interop, number: str, destination: str
) -> Transfer:
    """Online procedure: the person applies where they leave; this office sends the table within its limit."""
    certificate = await visible_certificate(uow, actor, number=number, for_update=True)
    peer = interop.peers.require(destination)
    if not peer.profile.exchanges_messages:
        raise Invalid(
            "no_transfer_needed", "省内转移无需办理转移接续", f"{peer.name}：新单位办理增员时直接接续"
        )
    if peer.profile.has_letter:
        raise Invalid(
            "apply_at_incoming_office",
            "请向转入地经办机构申请",
            f"与{peer.name}之间按“{peer.profile.name}”办理：由转入地受理并发出联系函",
        )
    if (
        certificate.status != "issued"
        or await transfers.transfer_out_of(uow.session, certificate.number)
        or await transfers.open_outgoing_of(uow.session, certificate.person_id)
    ):
        raise Conflict("transfer_in_progress", "已有办理中的转移业务", "该参保凭证已转出或正在办理转出")
    facts = Certificate(
        number=certificate.number,
        issuing_office=interop.settings.office_code,
        coverage_ended_on=certificate.coverage_ended_on,
        contribution_months=certificate.contribution_months,
        account_balance=certificate.account_balance,
    )
    case = new_outgoing(
        transfer_ref=uuid.uuid4(),
        person_id=certificate.person_id,
        person=certificate.person,
        certificate=facts,
        peer_office=destination,
        profile=peer.profile,
        today=uow.clock.today(),
        at=uow.clock.now(),
        applied_by=actor.subject,
        office_code=certificate.office_code,
    )
    await transfers.add(uow.session, case)
    return case


async def send_table(
    uow: UnitOfWork,
    actor: Principal,
    *,
    interop: Interop,
    case_id: uuid.UUID,
    version: int,
    fund_reference: str,
) -> Transfer:
    """信息表 and the fund transfer, in one act; the person's coverage here is marked transferred out."""
    case = await for_staff(uow, actor, case_id=case_id)
    certificate = await certificates.get(uow.session, case.certificate.number, for_update=True)
    assert certificate is not None and case.peer_office is not None
    today = uow.clock.today()
    sent = case.send_table(today, actor.subject, uow.clock.now(), version)
    if certificate.status == "transferred":  # one certificate, one transfer out
        raise Conflict(
            "already_transferred", "该参保凭证已办理转出", f"参保凭证 {certificate.number} 的资金已划转"
        )
    table = {
        "certificate_number": certificate.number,
        "person": person_body(certificate.person),
        "contribution_months": certificate.contribution_months,
        "history": PERIODS.dump_python(certificate.history, mode="json"),
        "account_balance": f"{certificate.account_balance:.2f}",
        "coverage_ended_on": certificate.coverage_ended_on.isoformat(),
    }
    await interop.queue(uow, case.peer_office, MessageType.information_table, case.transfer_ref, table)
    funds = {
        "amount": f"{certificate.account_balance:.2f}",
        "reference": fund_reference,
        "transferred_on": today.isoformat(),
    }
    await interop.queue(uow, case.peer_office, MessageType.fund_transfer, case.transfer_ref, funds)
    await certificates.save(uow.session, certificate.transferred())
    await transfers.save(uow, sent, loaded_at_version=case.version)
    uow.emit(
        new_envelope(
            TransferTransferredOutV1(
                transfer_ref=case.transfer_ref,
                person_id=case.person_id,
                office_code=case.office_code,
                to_office=case.peer_office,
                certificate_number=certificate.number,
                transferred_on=today,
            ),
            uow.clock,
        )
    )
    return sent
