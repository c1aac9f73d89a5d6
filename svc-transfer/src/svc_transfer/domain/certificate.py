"""The 参保凭证 this office issues to a person leaving (files 000, 003, 004; 人社厅发〔2016〕94号 第四条).

Issued after the unit stops contributions (中止参保): contribution years and history, the
personal-account balance, arrears told. The office keeps it to check the incoming office's letter
against, and reissues it when lost (补办: same number and content, the reissue is recorded).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from svc_transfer.domain.transfer import Entry, Period, Person


class LetterRefusal(Exception):
    """Why a contact letter cannot be answered with an information table."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class IssuedCertificate:
    number: str
    office_code: str
    person_id: uuid.UUID
    person: Person
    scheme: str
    coverage_ended_on: date
    history: tuple[Period, ...]
    account_balance: Decimal
    arrears: Decimal
    issued_on: date
    status: str = "issued"  # issued → transferred (the information table has been sent)
    reissues: tuple[Entry, ...] = ()

    @property
    def contribution_months(self) -> int:
        return sum(p.months for p in self.history)

    def reissue(self, by: str, at: datetime) -> IssuedCertificate:
        return replace(self, reissues=(*self.reissues, Entry(at, by, "reissue", "参保凭证遗失补办")))

    def transferred(self) -> IssuedCertificate:
        return replace(self, status="transferred")


def check_letter(certificate: IssuedCertificate | None, id_number: str, covered_here_now: bool) -> None:
    """The outgoing office checks the person and the certificate it issued before it answers."""
    if certificate is None:
        raise LetterRefusal("certificate_unknown", "本机构未出具该参保凭证，请核实凭证编号")
    if certificate.person.id_number != id_number:
        raise LetterRefusal("person_mismatch", "联系函中的人员与参保凭证不符")
    if certificate.status == "transferred":
        raise LetterRefusal("already_transferred", "该参保凭证对应的医保关系已办理转出")
    if covered_here_now:
        raise LetterRefusal("coverage_not_ended", "该人员在本地的参保关系尚未中止（已重新参保）")


def months_between(start: str, end: str) -> int:
    """Inclusive count of months between 'YYYY-MM' and 'YYYY-MM' (0 when end is before start)."""
    (y1, m1), (y2, m2) = (map(int, start.split("-")), map(int, end.split("-")))
    return max(0, (y2 - y1) * 12 + (m2 - m1) + 1)
