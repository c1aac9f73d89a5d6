"""参保凭证 (outgoing office): issued once a coverage here stopped, shown, reissued when lost."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.directory import office_by_code
from shared.errors import Conflict, DomainError, NotFound
from shared.events import Envelope, new_envelope
from shared.events.catalog import TransferCertificateIssuedV1
from shared.identity import IdType, InvalidIdentifier, facts_for
from svc_transfer.domain.access import may_see_certificate, serves
from svc_transfer.domain.certificate import (
    BALANCE_NOT_ON_RECORD,
    CoverageSpan,
    IssuedCertificate,
    Verification,
    balance_as_of,
    coverage_history,
    new_verification_code,
    normal_code,
    verification_of,
)
from svc_transfer.domain.transfer import Period, Person
from svc_transfer.interop.exchange import Interop
from svc_transfer.repository import accounts, certificates, coverages
from svc_transfer.usecases.people import person_id


async def issue_certificate(
    uow: UnitOfWork, actor: Principal, *, interop: Interop, person: Person, note: str | None, arrears: Any
) -> IssuedCertificate:
    """参保凭证: only once the person's coverage here was stopped (中止参保), stating what the records say.

    Coverage periods come from registration's events; the personal-account balance is the account's as
    registration booked it (its account events); a person with no account on record (residents, or no
    entry yet) gets a certificate that says so instead of a figure from the counter. Arrears are told from the collection system by the clerk (a warning to
    the person; they move no money). One certificate per stopped coverage: a lost one is reissued."""
    pid = person_id(interop, person)
    reachable = [
        row for row in await coverages.coverages_of(uow.session, pid) if serves(actor, row.office_code)
    ]
    if not reachable:  # unknown here, or covered at an office the clerk does not serve: the same answer
        raise NotInsuredHere("本地无该人员的参保记录")
    today = uow.clock.today()
    if await coverages.active_coverage(uow.session, pid, today):
        raise Conflict(
            "coverage_not_ended", "参保关系尚未中止", "请先由参保单位办理停保（中止参保）后再开具参保凭证"
        )
    stopped = max((r for r in reachable if r.status == "stopped"), key=lambda r: r.stopped_on, default=None)
    if stopped is None:
        raise NotInsuredHere("本地无该人员的中止参保记录")
    existing = await certificates.current_number_for(uow.session, pid, stopped.stopped_on)
    if existing is not None:
        raise Conflict(
            "certificate_already_issued",
            "该参保关系已出具参保凭证",
            f"凭证编号 {existing}；遗失的请办理补办（同一编号）",
            number=existing,
        )
    office = office_by_code(stopped.office_code)
    phones = office.phones["consultation"] if office else ()
    account = await accounts.of_person(uow.session, pid)
    certificate = IssuedCertificate(
        number=await certificates.next_number(uow.session, interop.settings.office_code, today.year),
        office_code=stopped.office_code,  # stamped with the office that holds the coverage
        person_id=pid,
        person=person,
        scheme=stopped.scheme,
        coverage_ended_on=stopped.stopped_on,
        history=await _history_on_record(uow, pid, stopped.stopped_on),
        account_balance=account.balance if account else Decimal("0.00"),
        arrears=arrears,
        issued_on=today,
        account_balance_stated=account is not None,
        account_balance_note=balance_as_of(account.booked_on) if account else BALANCE_NOT_ON_RECORD,
        note=note,
        sex=_sex_on_record(reachable, person),
        clerk=actor.name or actor.subject,
        office_name=office.name if office else interop.settings.office_name,
        office_address=office.address if office else None,
        office_phone="、".join(phones) or None,
        verification_code=new_verification_code(),
    )
    await certificates.save(uow.session, certificate, insert_new=True)
    uow.emit(certificate_issued(certificate, uow, reissue=False))
    return certificate


def _sex_on_record(rows: list[Any], person: Person) -> str | None:
    """As registration's record has it; for records that predate it, what the ID number encodes."""
    told = next((r.sex for r in rows if r.sex), None)
    if told is not None:
        return str(told)
    try:
        facts = facts_for(IdType(person.id_type), person.id_number)
    except (ValueError, InvalidIdentifier):
        return None
    return facts.sex if facts else None


async def verify_certificate(uow: UnitOfWork, *, code: str) -> Verification:
    """The public check of a verification code: who issued the certificate, when, whether it is valid.
    An unknown (forged, mistyped) code is simply not found."""
    certificate = await certificates.by_verification_code(uow.session, normal_code(code))
    if certificate is None:
        raise NotFound("参保凭证核验码")
    return verification_of(certificate)


class NotInsuredHere(NotFound):
    """No coverage here the clerk may certify: unknown, or at an office they do not serve (one answer)."""

    def __init__(self, title: str):
        DomainError.__init__(
            self, "not_insured_here", title, "本机构只能为在本地参保并已中止参保的人员开具参保凭证"
        )


async def _history_on_record(uow: UnitOfWork, pid: uuid.UUID, ended_on: date) -> tuple[Period, ...]:
    """Covered stretches up to the stop, after whatever an earlier certificate already moved away."""
    moved = await certificates.last_transferred_end(uow.session, pid)
    spans = []
    for row in await coverages.coverages_of(uow.session, pid):
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


async def visible_certificate(
    uow: UnitOfWork, actor: Principal, *, number: str, for_update: bool = False
) -> IssuedCertificate:
    certificate = await certificates.get(uow.session, number, for_update=for_update)
    if certificate is None or not may_see_certificate(actor, certificate):
        raise NotFound("参保凭证")
    return certificate


async def my_certificates(uow: UnitOfWork, actor: Principal) -> list[IssuedCertificate]:
    return await certificates.of_person(uow.session, actor.person_id)


async def reissue_certificate(uow: UnitOfWork, actor: Principal, *, number: str) -> IssuedCertificate:
    """补办: a lost certificate is issued again with the same number and content; the reissue is recorded."""
    certificate = (await visible_certificate(uow, actor, number=number, for_update=True)).reissue(
        actor.subject, uow.clock.now()
    )
    await certificates.save(uow.session, certificate)
    uow.emit(certificate_issued(certificate, uow, reissue=True))
    return certificate
