"""The 参保凭证 this office issues to a person leaving (files 000, 003, 004; 人社厅发〔2016〕94号 第四条).

Issued after the unit stops contributions (中止参保): contribution years and history, the
personal-account balance, arrears told. It moves money to another region, so what it states comes
from records, never from what a clerk types: the coverage periods from registration's events (the
projection this service keeps), the balance from the personal account's owner (registration's
account events, projected here). The clerk may add a
note. The office keeps it to check the incoming office's letter against, and reissues it when lost
(补办: same number and content, the reissue is recorded).

Like the paper document it names the person's sex (from the record), the issuing office with its
address and telephone (from the office directory), the handling clerk, and carries a verification
code: anyone holding the document checks it on a public page, which says who issued it, when, and
whether it is still valid, and never shows whom it names.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.months import add_months
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
    status: str = "issued"  # issued → transferred (the information table has been sent); superseded
    reissues: tuple[Entry, ...] = ()
    # False: no record states the personal-account balance yet; the certificate says so (note) and
    # states 0.00 rather than a figure nobody attests.
    account_balance_stated: bool = True
    account_balance_note: str | None = None
    note: str | None = None  # the clerk's annotation
    # What the paper document also carries (None on certificates issued before they were recorded).
    sex: str | None = None  # male | female, from the person's record; None: the record has none
    clerk: str | None = None  # who issued it (经办人)
    office_name: str | None = None  # the issuing office as the directory names it
    office_address: str | None = None
    office_phone: str | None = None
    verification_code: str | None = None  # 核验码: unguessable, checked on the public page

    @property
    def contribution_months(self) -> int:
        return sum(p.months for p in self.history)

    def reissue(self, by: str, at: datetime) -> IssuedCertificate:
        return replace(self, reissues=(*self.reissues, Entry(at, by, "reissue", "参保凭证遗失补办")))

    def transferred(self) -> IssuedCertificate:
        return replace(self, status="transferred")


BEIJING = ZoneInfo("Asia/Shanghai")
# 16 characters of 32 (80 bits): never guessed; no 0/O or 1/I to misread on paper.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 16
SEXES = {"male": "男", "female": "女"}
VALIDITY = {
    "issued": ("valid", "有效"),
    "transferred": ("used", "已用于办理转移接续（医保关系已转出）"),
    "superseded": ("superseded", "已作废（同一参保关系另有有效凭证）"),
}


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as typed or printed (grouped by hyphens or spaces, any case) in its stored form."""
    return "".join(text.split()).replace("-", "").upper()


def printed_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Verification:
    """What the public page tells of a certificate: never the person it names."""

    number: str
    office_code: str
    office_name: str | None
    issued_on: date
    validity: str  # valid | used | superseded
    validity_title: str
    reissued: int
    last_reissued_on: date | None


def verification_of(c: IssuedCertificate) -> Verification:
    validity, title = VALIDITY.get(c.status, ("superseded", "已作废"))
    return Verification(
        number=c.number,
        office_code=c.office_code,
        office_name=c.office_name,
        issued_on=c.issued_on,
        validity=validity,
        validity_title=title,
        reissued=len(c.reissues),
        last_reissued_on=c.reissues[-1].at.astimezone(BEIJING).date() if c.reissues else None,
    )


def balance_as_of(booked_on: date) -> str:
    return f"个人账户余额以本机构个人账户记录为准（截至 {booked_on.isoformat()} 记账）"


BALANCE_NOT_ON_RECORD = (
    "个人账户余额暂无记录来源（本机构无该人员的个人账户记账记录），本凭证未载明余额，以转出地个人账户记录为准"
)


@dataclass(frozen=True)
class CoverageSpan:
    """One enrollment as registration's events left it: first covered day, last covered day."""

    start: date
    end: date
    unit_code: str | None = None


def coverage_history(spans: list[CoverageSpan]) -> tuple[Period, ...]:
    """The certificate's contribution history: each covered stretch in months (inclusive), stretches
    that touch or overlap merged, so a month is never counted twice."""
    merged: list[tuple[str, str, str | None]] = []  # (first month, last month, unit)
    for span in sorted(spans, key=lambda s: s.start):
        start, end = f"{span.start:%Y-%m}", f"{span.end:%Y-%m}"
        if merged and start <= merged[-1][1]:
            start = _next_month(merged[-1][1])  # a month already counted is not counted again
        if end < start:
            continue
        if merged and start == _next_month(merged[-1][1]) and span.unit_code == merged[-1][2]:
            merged[-1] = (merged[-1][0], end, merged[-1][2])
        else:
            merged.append((start, end, span.unit_code))
    return tuple(Period(a, b, months_between(a, b), unit) for a, b, unit in merged)


def _next_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{add_months(date(year, number, 1), 1):%Y-%m}"


def check_letter(
    certificate: IssuedCertificate | None, id_number: str, covered_here_now: bool, claimed: bool = False
) -> None:
    """The outgoing office checks the person and the certificate it issued before it answers.
    `claimed`: another transfer out (another letter, or the online procedure) already holds it."""
    if certificate is None:
        raise LetterRefusal("certificate_unknown", "本机构未出具该参保凭证，请核实凭证编号")
    if certificate.person.id_number != id_number:
        raise LetterRefusal("person_mismatch", "联系函中的人员与参保凭证不符")
    if certificate.status == "superseded":  # issued twice for one coverage before that was prevented
        raise LetterRefusal(
            "certificate_unknown", "该参保凭证已作废（同一参保关系另有有效凭证），请核实凭证编号"
        )
    if certificate.status == "transferred" or claimed:
        raise LetterRefusal("already_transferred", "该参保凭证对应的医保关系已办理转出")
    if covered_here_now:
        raise LetterRefusal("coverage_not_ended", "该人员在本地的参保关系尚未中止（已重新参保）")


def months_between(start: str, end: str) -> int:
    """Inclusive count of months between 'YYYY-MM' and 'YYYY-MM' (0 when end is before start)."""
    (y1, m1), (y2, m2) = (map(int, start.split("-")), map(int, end.split("-")))
    return max(0, (y2 - y1) * 12 + (m2 - m1) + 1)
