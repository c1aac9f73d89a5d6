"""Transfer use cases: one transaction each. HTTP routes, message receipt and jobs all call these."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import Envelope, new_envelope
from shared.events.catalog import (
    RegistrationApprovedV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
    TransferCertificateIssuedV1,
    TransferCompletedV1,
    TransferOverdueV1,
    TransferTransferredOutV1,
)
from shared.events.consumer import OutOfOrder
from shared.identity import IdType, person_id_for
from shared.ops import DeadlineCounts, overdue_seconds
from svc_transfer.domain.certificate import (
    BALANCE_NOT_ON_RECORD,
    CoverageSpan,
    IssuedCertificate,
    LetterRefusal,
    check_letter,
    coverage_history,
)
from svc_transfer.domain.profiles import PROFILES
from svc_transfer.domain.transfer import (
    Certificate,
    Funds,
    InformationTable,
    Period,
    Person,
    Side,
    Status,
    StepName,
    Transfer,
    new_incoming,
    new_outgoing,
    opened_by_table,
    rejected_letter,
)
from svc_transfer.interop.exchange import Interop, requeue
from svc_transfer.interop.protocol import FundsBody, LetterBody, Message, MessageType, TableBody
from svc_transfer.models import certificates, coverages, transfers

CASE = TypeAdapter(Transfer)
CERTIFICATE = TypeAdapter(IssuedCertificate)
PERIODS = TypeAdapter(tuple[Period, ...])

REFUSAL_REASONS = {
    "not_enrolled_here": "本地未参保：请先在本市参加基本医疗保险后再申请转入",
    "coverage_not_ended": "转出地参保关系尚未中止",
    "materials_incomplete": "申请材料不全",
    "certificate_invalid": "参保凭证无效",
}


def serves(actor: Principal, office_code: str) -> bool:
    """Staff of that office, or city staff of the city it belongs to (a municipality's districts share
    its first two digits, a prefecture city's its first four): never another city's offices."""
    if actor.role is not Role.staff or actor.office_code is None:
        return False
    if actor.office_code == office_code:
        return True
    return actor.is_city_staff and office_code.startswith(_city_prefix(actor.office_code))


def _city_prefix(city: str) -> str:
    return city[:2] if city.endswith("0000") else city[:4]


def person_id(interop: Interop, person: Person) -> uuid.UUID:
    return person_id_for(IdType(person.id_type), person.id_number, interop.settings.person_id_key.encode())


# --------------------------------------------------------------------------- projection of registration


async def record_approved(uow: UnitOfWork, envelope: Envelope, event: RegistrationApprovedV1) -> None:
    values = {
        "person_id": event.person_id,
        "office_code": event.office_code,
        "scheme": event.scheme,
        "status": "active",
        "benefit_start": event.benefit_start,
        "benefit_end": event.benefit_end,
        "unit_code": event.unit_code,
    }
    # A stop that arrived first recorded the enrollment without its start: the approval supplies it
    # (the certificate's periods are drawn from here), the stop still wins the status.
    await uow.session.execute(
        insert(coverages)
        .values(enrollment_id=event.enrollment_id, **values)
        .on_conflict_do_update(
            index_elements=["enrollment_id"],
            set_={"benefit_start": event.benefit_start, "unit_code": event.unit_code},
        )
    )


async def record_stopped(uow: UnitOfWork, envelope: Envelope, event: RegistrationStoppedV1) -> None:
    values = {
        "person_id": event.person_id,
        "office_code": event.office_code,
        "scheme": event.scheme,
        "status": "stopped",
        "stopped_on": event.stopped_on,
        "benefit_start": event.stopped_on,
        "benefit_end": event.stopped_on,
    }
    # Stopping is final for an enrollment: it wins whichever of the two events arrives first.
    await uow.session.execute(
        insert(coverages)
        .values(enrollment_id=event.enrollment_id, **values)
        .on_conflict_do_update(
            index_elements=["enrollment_id"], set_={"status": "stopped", "stopped_on": event.stopped_on}
        )
    )


async def record_ended(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationSuspendedV1 | RegistrationTerminatedV1
) -> None:
    """中断 / 终止: the coverage here ends on its last covered day (an approval arriving later keeps it)."""
    ended = await uow.session.execute(
        update(coverages)
        .where(coverages.c.enrollment_id == event.enrollment_id)
        .values(benefit_end=func.least(coverages.c.benefit_end, event.last_covered_day))
        .returning(coverages.c.enrollment_id)
    )
    if ended.first() is None:
        raise OutOfOrder(f"enrollment {event.enrollment_id} not recorded yet")


async def active_coverage(uow: UnitOfWork, person: uuid.UUID, today: date) -> Any:
    query = select(coverages).where(
        coverages.c.person_id == person,
        coverages.c.status == "active",
        or_(coverages.c.benefit_end.is_(None), coverages.c.benefit_end >= today),
    )
    return (await uow.session.execute(query.order_by(coverages.c.benefit_start))).first()


async def stopped_coverage(uow: UnitOfWork, person: uuid.UUID) -> Any:
    query = select(coverages).where(coverages.c.person_id == person, coverages.c.status == "stopped")
    return (await uow.session.execute(query.order_by(coverages.c.stopped_on.desc()))).first()


# --------------------------------------------------------------------------- certificates (outgoing office)


async def issue_certificate(
    uow: UnitOfWork, interop: Interop, actor: Principal, person: Person, note: str | None, arrears: Any
) -> IssuedCertificate:
    """参保凭证: only once the person's coverage here was stopped (中止参保), stating what the records say.

    Coverage periods come from registration's events; the personal-account balance has no record here
    yet (employee accounts are not kept by any service), so the certificate says so instead of taking
    a figure from the counter. Arrears are told from the collection system by the clerk (a warning to
    the person; they move no money). One certificate per stopped coverage: a lost one is reissued."""
    pid = person_id(interop, person)
    reachable = [row for row in await _coverages_of(uow, pid) if serves(actor, row.office_code)]
    if not reachable:  # unknown here, or covered at an office the clerk does not serve: the same answer
        raise Problem(
            404,
            "not_insured_here",
            "本地无该人员的参保记录",
            "本机构只能为在本地参保并已中止参保的人员开具参保凭证",
        )
    today = uow.clock.today()
    if await active_coverage(uow, pid, today):
        raise Problem(
            409,
            "coverage_not_ended",
            "参保关系尚未中止",
            "请先由参保单位办理停保（中止参保）后再开具参保凭证",
        )
    stopped = max((r for r in reachable if r.status == "stopped"), key=lambda r: r.stopped_on, default=None)
    if stopped is None:
        raise Problem(
            404,
            "not_insured_here",
            "本地无该人员的中止参保记录",
            "本机构只能为在本地参保并已中止参保的人员开具参保凭证",
        )
    existing = await uow.session.scalar(
        select(certificates.c.number)
        .where(
            certificates.c.person_id == pid,
            certificates.c.coverage_ended_on == stopped.stopped_on,
            certificates.c.status != "superseded",
        )
        .with_for_update()
    )
    if existing is not None:
        raise Problem(
            409,
            "certificate_already_issued",
            "该参保关系已出具参保凭证",
            f"凭证编号 {existing}；遗失的请办理补办（同一编号）",
            number=existing,
        )
    number = await _next_certificate_number(uow, interop.settings.office_code, today.year)
    certificate = IssuedCertificate(
        number=number,
        office_code=stopped.office_code,  # stamped with the office that holds the coverage
        person_id=pid,
        person=person,
        scheme=stopped.scheme,
        coverage_ended_on=stopped.stopped_on,
        history=await _history_on_record(uow, pid, stopped.stopped_on),
        account_balance=Decimal("0.00"),
        arrears=arrears,
        issued_on=today,
        account_balance_stated=False,
        account_balance_note=BALANCE_NOT_ON_RECORD,
        note=note,
    )
    await _save_certificate(uow, certificate, insert_new=True)
    uow.emit(certificate_issued(certificate, uow, reissue=False))
    return certificate


async def _coverages_of(uow: UnitOfWork, pid: uuid.UUID) -> list[Any]:
    query = select(coverages).where(coverages.c.person_id == pid).with_for_update()
    return list((await uow.session.execute(query.order_by(coverages.c.benefit_start))).all())


async def _history_on_record(uow: UnitOfWork, pid: uuid.UUID, ended_on: date) -> tuple[Period, ...]:
    """Covered stretches up to the stop, after whatever an earlier certificate already moved away."""
    moved = await uow.session.scalar(
        select(func.max(certificates.c.coverage_ended_on)).where(
            certificates.c.person_id == pid, certificates.c.status == "transferred"
        )
    )
    spans = []
    for row in await _coverages_of(uow, pid):
        last = min(d for d in (row.stopped_on, row.benefit_end, ended_on) if d is not None)
        first = row.benefit_start if moved is None else max(row.benefit_start, moved + timedelta(days=1))
        if first <= last:
            spans.append(CoverageSpan(first, last, row.unit_code))
    return coverage_history(spans)


def certificate_issued(c: IssuedCertificate, uow: UnitOfWork, reissue: bool) -> Envelope:
    """Registration shows the certificate on the person's record; any service may learn of it."""
    return new_envelope(TransferCertificateIssuedV1(
        number=c.number, person_id=c.person_id, office_code=c.office_code, scheme=c.scheme, issued_on=c.issued_on,
        coverage_ended_on=c.coverage_ended_on, contribution_months=c.contribution_months, account_balance=c.account_balance,
        arrears=c.arrears, reissue=reissue,
    ), uow.clock)  # fmt: skip


async def _next_certificate_number(uow: UnitOfWork, office: str, year: int) -> str:
    prefix = f"{office}{year}"
    count = await uow.session.scalar(select(func.count()).where(certificates.c.number.like(f"{prefix}%")))
    return f"{prefix}{(count or 0) + 1:06d}"


async def _save_certificate(
    uow: UnitOfWork, certificate: IssuedCertificate, insert_new: bool = False
) -> None:
    values = {
        "person_id": certificate.person_id,
        "office_code": certificate.office_code,
        "status": certificate.status,
        "issued_on": certificate.issued_on,
        "coverage_ended_on": certificate.coverage_ended_on,
        "document": CERTIFICATE.dump_python(certificate, mode="json"),
    }
    statement = insert(certificates).values(number=certificate.number, **values)
    if not insert_new:
        statement = statement.on_conflict_do_update(index_elements=["number"], set_=values)
    await uow.session.execute(statement)


async def get_certificate(uow: UnitOfWork, number: str, for_update: bool = False) -> IssuedCertificate | None:
    query = select(certificates.c.document).where(certificates.c.number == number)
    row = (await uow.session.execute(query.with_for_update() if for_update else query)).first()
    return CERTIFICATE.validate_python(row[0]) if row else None


async def visible_certificate(
    uow: UnitOfWork, number: str, actor: Principal, for_update: bool = False
) -> IssuedCertificate:
    certificate = await get_certificate(uow, number, for_update)
    if certificate is None or not (
        actor.person_id == certificate.person_id
        if actor.role is Role.insured
        else serves(actor, certificate.office_code)
    ):
        raise not_found("参保凭证")
    return certificate


async def my_certificates(uow: UnitOfWork, actor: Principal) -> list[IssuedCertificate]:
    rows = await uow.session.execute(
        select(certificates.c.document)
        .where(certificates.c.person_id == actor.person_id)
        .order_by(certificates.c.issued_on.desc())
    )
    return [CERTIFICATE.validate_python(r[0]) for r in rows]


async def reissue_certificate(uow: UnitOfWork, number: str, actor: Principal) -> IssuedCertificate:
    """补办: a lost certificate is issued again with the same number and content; the reissue is recorded."""
    certificate = (await visible_certificate(uow, number, actor, for_update=True)).reissue(
        actor.subject, uow.clock.now()
    )
    await _save_certificate(uow, certificate)
    uow.emit(certificate_issued(certificate, uow, reissue=True))
    return certificate


# --------------------------------------------------------------------------- cases: storage and access


async def save(uow: UnitOfWork, case: Transfer, insert_new: bool = False) -> None:
    values = {
        "side": case.side.value,
        "transfer_ref": case.transfer_ref,
        "peer_office": case.peer_office,
        "office_code": case.office_code,
        "person_id": case.person_id,
        "unit_id": case.unit_id,
        "certificate_number": case.certificate.number,
        "status": case.status.value,
        "version": case.version,
        "closed": case.closed,
        "document": CASE.dump_python(case, mode="json"),
    }
    statement = insert(transfers).values(id=case.id, **values)
    if not insert_new:
        # The certificate a case holds is set when it is written first (cases that shared a
        # certificate before uq_transfers_outgoing_certificate existed keep holding none).
        kept = {k: v for k, v in values.items() if k != "certificate_number"}
        statement = statement.on_conflict_do_update(
            index_elements=["id"], set_={**kept, "updated_at": func.now()}
        )
    try:
        await uow.session.execute(statement)
    except IntegrityError as exc:
        if "uq_transfers_outgoing_certificate" not in str(exc.orig):
            raise
        raise Problem(
            409, "already_transferred", "该参保凭证已办理转出", "同一参保凭证只能办理一次转出"
        ) from exc


async def _load(uow: UnitOfWork, *where: Any, for_update: bool = False) -> Transfer | None:
    query = select(transfers.c.document).where(*where)
    row = (await uow.session.execute(query.with_for_update() if for_update else query)).first()
    return CASE.validate_python(row[0]) if row else None


def may_see(actor: Principal, case: Transfer) -> bool:
    """The person, their unit, staff serving the case's office, an administrator; nobody else (ops,
    facilities and peers see no case: a peer follows its exchange through status_query)."""
    if actor.role is Role.insured:
        return actor.person_id is not None and actor.person_id == case.person_id
    if actor.role is Role.unit:
        return case.unit_id is not None and actor.unit_id == case.unit_id
    if actor.role is Role.staff:
        return serves(actor, case.office_code)
    return actor.role is Role.admin


async def visible(
    uow: UnitOfWork, case_id: uuid.UUID, actor: Principal, for_update: bool = False
) -> Transfer:
    case = await _load(uow, transfers.c.id == case_id, for_update=for_update)
    if case is None or not may_see(actor, case):
        raise not_found("转移接续业务")
    return case


async def for_staff(uow: UnitOfWork, case_id: uuid.UUID, actor: Principal) -> Transfer:
    case = await visible(uow, case_id, actor, for_update=True)
    if actor.role is not Role.staff:
        raise Problem(403, "forbidden", "无权执行此操作", "此操作只能由经办机构工作人员办理")
    return case


async def cases_of(uow: UnitOfWork, actor: Principal, page: int, size: int) -> tuple[list[Transfer], int]:
    where = _scope(actor)
    total = await uow.session.scalar(select(func.count()).select_from(transfers).where(*where)) or 0
    rows = await uow.session.execute(
        select(transfers.c.document)
        .where(*where)
        .order_by(transfers.c.updated_at.desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    return [CASE.validate_python(r[0]) for r in rows], total


def _scope(actor: Principal) -> list[Any]:
    """The cases a caller may list, as a filter (the same rule as may_see; nothing for anyone else)."""
    if actor.role is Role.insured and actor.person_id is not None:
        return [transfers.c.person_id == actor.person_id]
    if actor.role is Role.unit and actor.unit_id is not None:
        return [transfers.c.unit_id == actor.unit_id]
    if actor.role is Role.staff and actor.office_code is not None:
        if actor.is_city_staff:
            return [transfers.c.office_code.startswith(_city_prefix(actor.office_code), autoescape=True)]
        return [transfers.c.office_code == actor.office_code]
    if actor.role is Role.admin:
        return []
    return [false()]


# --------------------------------------------------------------------------- incoming side (转入地)


async def apply(
    uow: UnitOfWork,
    interop: Interop,
    actor: Principal,
    person: Person,
    certificate: Certificate,
    unit_id: str | None,
    proxy_name: str | None,
) -> Transfer:
    """The person (or a proxy, or the counter) applies with the certificate; the office then decides."""
    pid = person_id(interop, person)
    if actor.role is Role.insured and actor.person_id != pid:
        raise Problem(
            422,
            "not_own_identity",
            "只能为本人申请",
            "证件号码与登录人不一致；代办请到窗口办理",
            errors=[{"field": "person.id_number", "message": "与登录人不一致"}],
        )
    profile = "army"
    if not certificate.from_army:
        peer = interop.peers.require(certificate.issuing_office)
        if not peer.profile.exchanges_messages:
            raise Problem(
                422,
                "no_transfer_needed",
                "省内转移无需办理转移接续",
                f"{peer.name}与本机构之间不交换联系函：新单位办理增员时直接接续",
            )
        profile = peer.profile.code
    coverage = await active_coverage(uow, pid, uow.clock.today())
    if coverage is not None and actor.role is Role.staff and not serves(actor, coverage.office_code):
        raise not_found("参保记录")  # covered at an office this clerk does not serve
    if coverage is None:
        raise Problem(
            422,
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
    await save(uow, case, insert_new=True)
    return case


async def accept(
    uow: UnitOfWork, interop: Interop, case_id: uuid.UUID, actor: Principal, version: int
) -> Transfer:
    case = await for_staff(uow, case_id, actor)
    today = uow.clock.today()
    if case.status is Status.submitted:
        _check_acceptable(case, await active_coverage(uow, case.person_id, today) is not None, today)
    accepted = case.accept(PROFILES.get(case.profile), today, actor.subject, uow.clock.now(), version)  # type: ignore[arg-type]
    if accepted.status is Status.letter_sent:  # no letter in this procedure: the request leaves now
        await _queue_letter(uow, interop, accepted)
    await save(uow, accepted)
    return accepted


def _check_acceptable(case: Transfer, enrolled_here: bool, today: date) -> None:
    if not enrolled_here:
        raise Problem(
            422,
            "not_enrolled_here",
            "申请人尚未在本地参保",
            "受理条件：申请人已在本地参加基本医疗保险；请先办理参保或作不予受理",
        )
    if case.certificate.coverage_ended_on > today:
        raise Problem(422, "coverage_not_ended", "转出地参保关系尚未中止", "参保凭证载明的中止日期晚于今天")


async def refuse(
    uow: UnitOfWork, case_id: uuid.UUID, actor: Principal, version: int, reason_code: str, note: str | None
) -> Transfer:
    case = await for_staff(uow, case_id, actor)
    reason = REFUSAL_REASONS[reason_code] + (f"（{note}）" if note else "")
    refused = case.refuse(reason_code, reason, actor.subject, uow.clock.now(), version)
    await save(uow, refused)
    return refused


async def send_letter(
    uow: UnitOfWork, interop: Interop, case_id: uuid.UUID, actor: Principal, version: int
) -> Transfer:
    case = await for_staff(uow, case_id, actor)
    sent = case.send_letter(uow.clock.today(), actor.subject, uow.clock.now(), version)
    await _queue_letter(uow, interop, sent)
    await save(uow, sent)
    return sent


async def _queue_letter(uow: UnitOfWork, interop: Interop, case: Transfer) -> None:
    assert case.peer_office is not None
    body = {
        "person": _person_body(case.person),
        "certificate_number": case.certificate.number,
        "receiving_office": case.office_code,
        "receiving_office_name": interop.settings.office_name,
        "letter_date": uow.clock.today().isoformat(),
    }
    await interop.queue(uow, case.peer_office, MessageType.letter, case.transfer_ref, body)


def _person_body(person: Person) -> dict[str, str]:
    return {"id_type": person.id_type, "id_number": person.id_number, "name": person.name}


async def complete(uow: UnitOfWork, case_id: uuid.UUID, actor: Principal, version: int) -> Transfer:
    case = await for_staff(uow, case_id, actor)
    today = uow.clock.today()
    completed = case.complete(today, actor.subject, uow.clock.now(), version)
    await save(uow, completed)
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
    uow: UnitOfWork, case_id: uuid.UUID, actor: Principal, version: int, amount_received: Decimal, note: str
) -> Transfer:
    """Staff record the amount the bank statement shows for a held case; it must be the table's."""
    case = await for_staff(uow, case_id, actor)
    confirmed = case.confirm_funds(
        amount_received, note, uow.clock.today(), actor.subject, uow.clock.now(), version
    )
    await save(uow, confirmed)
    return confirmed


async def resend(uow: UnitOfWork, case_id: uuid.UUID, actor: Principal, version: int, note: str) -> Transfer:
    """Staff corrected what made the peer refuse (its address, our data) and send the message again."""
    case = await for_staff(uow, case_id, actor)
    resent = case.resend(actor.subject, uow.clock.now(), version, note)
    await requeue(uow, case.transfer_ref)
    await save(uow, resent)
    return resent


async def flag_undelivered(uow: UnitOfWork, row: Any, error: str) -> None:
    """A message refused for good or given up on: its case shows it to staff (worklist, overdue alert)."""
    side = Side.incoming if row.type == MessageType.letter.value else Side.outgoing
    case = await _load(
        uow,
        transfers.c.side == side.value,
        transfers.c.transfer_ref == row.transfer_ref,
        transfers.c.peer_office == row.peer,
        for_update=True,
    )
    if case is not None:
        await save(uow, case.delivery_refused(row.id, row.type, error, uow.clock.today(), uow.clock.now()))


# --------------------------------------------------------------------------- outgoing side (转出地)


async def send_table(
    uow: UnitOfWork, interop: Interop, case_id: uuid.UUID, actor: Principal, version: int, fund_reference: str
) -> Transfer:
    """信息表 and the fund transfer, in one act; the person's coverage here is marked transferred out."""
    case = await for_staff(uow, case_id, actor)
    certificate = await get_certificate(uow, case.certificate.number, for_update=True)
    assert certificate is not None and case.peer_office is not None
    today = uow.clock.today()
    sent = case.send_table(today, actor.subject, uow.clock.now(), version)
    if certificate.status == "transferred":  # one certificate, one transfer out
        raise Problem(
            409, "already_transferred", "该参保凭证已办理转出", f"参保凭证 {certificate.number} 的资金已划转"
        )
    table = {
        "certificate_number": certificate.number,
        "person": _person_body(certificate.person),
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
    await _save_certificate(uow, certificate.transferred())
    await save(uow, sent)
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


# --------------------------------------------------------------------------- messages from peers


def message_handler(interop: Interop):  # type: ignore[no-untyped-def]
    """What each message type does here; the exchange calls it once per message."""

    async def handle(uow: UnitOfWork, message: Message) -> dict[str, Any]:
        match message.type:
            case MessageType.letter:
                return await _on_letter(uow, interop, message)
            case MessageType.information_table | MessageType.fund_transfer:
                return await _on_table_or_funds(uow, interop, message)
            case MessageType.rejection:
                return await _on_rejection(uow, message)
            case MessageType.status_query:
                return await _on_status_query(uow, message)
        raise Problem(422, "unsupported_message", "不支持的报文类型", message.type.value)

    return handle


async def _on_letter(uow: UnitOfWork, interop: Interop, message: Message) -> dict[str, Any]:
    existing = await _load(
        uow, transfers.c.side == Side.outgoing.value, transfers.c.transfer_ref == message.transfer_ref
    )
    if existing is not None:
        return {"status": existing.status.value}
    body = LetterBody.model_validate(message.body)  # checked on receipt; fields we do not know are ignored
    person = Person(body.person.id_type.value, body.person.id_number, body.person.name)
    pid = person_id(interop, person)
    # The certificate row is locked: letters for one certificate are answered one after the other.
    certificate = await get_certificate(uow, body.certificate_number, for_update=True)
    peer = interop.peers.require(message.sender)
    facts = Certificate(
        number=body.certificate_number,
        issuing_office=interop.settings.office_code,
        coverage_ended_on=certificate.coverage_ended_on if certificate else uow.clock.today(),
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
        today=uow.clock.today(),
        at=uow.clock.now(),
        office_code=certificate.office_code if certificate else None,
    )
    try:
        check_letter(
            certificate,
            person.id_number,
            await active_coverage(uow, pid, uow.clock.today()) is not None,
            claimed=certificate is not None and await _transfer_out_of(uow, certificate.number) is not None,
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
    await save(uow, case, insert_new=True)
    return {"status": case.status.value}


async def _transfer_out_of(uow: UnitOfWork, number: str) -> Transfer | None:
    """The transfer out that holds a certificate (one at most: uq_transfers_outgoing_certificate)."""
    return await _load(
        uow,
        transfers.c.side == Side.outgoing.value,
        transfers.c.certificate_number == number,
        transfers.c.status != Status.rejected.value,
    )


async def _on_table_or_funds(uow: UnitOfWork, interop: Interop, message: Message) -> dict[str, Any]:
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
        case = case.receive_table(table, profile, today, at)
    else:
        notice = FundsBody.model_validate(message.body)
        funds = Funds(amount=notice.amount, reference=notice.reference, transferred_on=notice.transferred_on)
        case = case.receive_funds(funds, profile, today, at)
    await save(uow, case)
    return {"status": case.status.value}


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
        raise Problem(
            422,
            "table_mismatch",
            "信息表与转移业务不符",
            "信息表所列人员或参保凭证编号与本机构受理的业务不一致，不予接收",
            errors=[{"field": f"body.{field}", "message": "与业务不符"} for field in mismatched],
        )


async def _on_rejection(uow: UnitOfWork, message: Message) -> dict[str, Any]:
    case = await _incoming_for(uow, message)
    rejected = case.rejected_by(
        str(message.body["reason_code"]), str(message.body["reason"]), uow.clock.now()
    )
    await save(uow, rejected)
    return {"status": rejected.status.value}


async def _opened_by_table(uow: UnitOfWork, interop: Interop, message: Message) -> Transfer:
    """Online procedure: the person applied at the outgoing office, whose table is the first we hear."""
    peer = interop.peers.require(message.sender)
    if message.type is not MessageType.information_table or peer.profile.has_letter:
        raise Problem(
            422,
            "unknown_transfer",
            "本机构无此转移业务",
            f"未找到由本机构受理、转出地为 {message.sender} 的转移业务",
        )
    body = TableBody.model_validate(message.body)
    person = Person(body.person.id_type.value, body.person.id_number, body.person.name)
    pid = person_id(interop, person)
    coverage = await active_coverage(uow, pid, uow.clock.today())
    if coverage is None:
        raise Problem(
            422, "not_enrolled_here", "该人员尚未在本地参保", "转入地无该人员的有效参保记录，无法接续"
        )
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
    await save(uow, opened, insert_new=True)
    return opened


async def apply_outgoing(
    uow: UnitOfWork, interop: Interop, actor: Principal, number: str, destination: str
) -> Transfer:
    """Online procedure: the person applies where they leave; this office sends the table within its limit."""
    certificate = await visible_certificate(uow, number, actor, for_update=True)
    peer = interop.peers.require(destination)
    if not peer.profile.exchanges_messages:
        raise Problem(
            422, "no_transfer_needed", "省内转移无需办理转移接续", f"{peer.name}：新单位办理增员时直接接续"
        )
    if peer.profile.has_letter:
        raise Problem(
            422,
            "apply_at_incoming_office",
            "请向转入地经办机构申请",
            f"与{peer.name}之间按“{peer.profile.name}”办理：由转入地受理并发出联系函",
        )
    if (
        certificate.status != "issued"
        or await _transfer_out_of(uow, certificate.number)
        or await _load(
            uow,
            transfers.c.side == Side.outgoing.value,
            transfers.c.closed.is_(False),
            transfers.c.person_id == certificate.person_id,
        )
    ):
        raise Problem(409, "transfer_in_progress", "已有办理中的转移业务", "该参保凭证已转出或正在办理转出")
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
    await save(uow, case, insert_new=True)
    return case


async def _on_status_query(uow: UnitOfWork, message: Message) -> dict[str, Any]:
    case = await _load(
        uow, transfers.c.transfer_ref == message.transfer_ref, transfers.c.peer_office == message.sender
    )
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
    case = await _load(
        uow,
        transfers.c.side == Side.incoming.value,
        transfers.c.transfer_ref == message.transfer_ref,
        transfers.c.peer_office == message.sender,
        for_update=True,
    )
    if case is None and not missing_ok:
        raise Problem(
            422,
            "unknown_transfer",
            "本机构无此转移业务",
            f"未找到由本机构受理、转出地为 {message.sender} 的转移业务",
        )
    return case


# --------------------------------------------------------------------------- deadlines


async def open_cases(
    uow: UnitOfWork, after: uuid.UUID | None, limit: int = 200, office: str | None = None
) -> list[Transfer]:
    query = (
        select(transfers.c.document)
        .where(transfers.c.closed.is_(False))
        .order_by(transfers.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(transfers.c.id > after)
    if office is not None:
        query = query.where(transfers.c.office_code == office)
    return [
        CASE.validate_python(r[0]) for r in await uow.session.execute(query.with_for_update(skip_locked=True))
    ]


async def announce_overdue_steps(uow: UnitOfWork, after: uuid.UUID | None) -> tuple[int, uuid.UUID | None]:
    """Raise `transfer.overdue` once for each step past its due date (rows locked: one replica each)."""
    calendar, today, announced = default_calendar(), uow.clock.today(), 0
    cases = await open_cases(uow, after)
    for case in cases:
        step = case.open_step()
        if step is None or step.overdue_announced or not step.overdue(calendar, today):
            continue
        due = step.due(calendar)
        uow.emit(
            new_envelope(
                TransferOverdueV1(
                    transfer_id=case.id,
                    transfer_ref=case.transfer_ref,
                    side=case.side.value,
                    office_code=case.office_code,
                    peer_office=case.peer_office,
                    step=_event_step(case, step.name),
                    due_date=due.date,
                    provisional=due.provisional,
                ),
                uow.clock,
            )
        )
        await save(uow, case.announce_overdue(step.name))
        announced += 1
    return announced, (cases[-1].id if len(cases) == 200 else None)


def _event_step(case: Transfer, name: StepName) -> str:
    """The event names the three timed steps of the procedure: checking funds belongs to completion,
    a message to re-send to the step that sent it."""
    if name is StepName.check_funds:
        return StepName.complete.value
    if name is StepName.resend:
        return StepName.send_letter.value if case.side is Side.incoming else StepName.send_table.value
    return name.value


async def worklist(uow: UnitOfWork, actor: Principal, overdue_only: bool) -> list[tuple[Transfer, Any]]:
    """Open cases of the staff member's offices with their current step, most urgent first."""
    calendar, today = default_calendar(), uow.clock.today()
    query = select(transfers.c.document).where(transfers.c.closed.is_(False), *_scope(actor))
    items = []
    for row in await uow.session.execute(query):
        case = CASE.validate_python(row[0])
        step, whole = case.open_step(), case.whole_limit()
        late = [s for s in (step, whole) if s is not None and s.overdue(calendar, today)]
        if overdue_only and not late:
            continue
        items.append((case, step))
    return sorted(items, key=lambda item: item[1].due(calendar).date if item[1] else date.max)


AT_RISK_WORKING_DAYS = 2  # a step due within this many working days shows as at risk on the ops page


async def step_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's deadline probe: open steps near or past their limit (no personal data)."""
    return await _deadlines(uow, Transfer.open_step)


async def whole_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's probe of the whole transfer's 20-working-day limit, beside the steps'."""
    return await _deadlines(uow, Transfer.whole_limit)


async def _deadlines(uow: UnitOfWork, limit_of: Any) -> DeadlineCounts:
    calendar, today = default_calendar(), uow.clock.today()
    soon = calendar.add_working_days(today, AT_RISK_WORKING_DAYS).date
    rows = await uow.session.execute(select(transfers.c.document).where(transfers.c.closed.is_(False)))
    at_risk, overdue, oldest_due = 0, 0, None
    for (document,) in rows:
        step = limit_of(CASE.validate_python(document))
        if step is None:
            continue
        due = step.due(calendar).date
        if due < today:
            overdue, oldest_due = overdue + 1, min(due, oldest_due or due)
        elif due <= soon:
            at_risk += 1
    return DeadlineCounts(at_risk, overdue, overdue_seconds(oldest_due, uow.clock) if oldest_due else None)
