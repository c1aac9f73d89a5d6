"""Benefit payments computed by rule (待遇支付): maternity (resident amounts, the employee allowance)
and the personal account's one-time withdrawal. Unlike a manual reimbursement there are no receipts
to review: the amount is computed when filed and explained line by line; the office accepts, the
city approves, the payment is made — within 20 working days of acceptance for maternity, 15 for a
withdrawal (seed 000).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.calendar import WorkingCalendar
from svc_claims.domain.reimbursement import REJECTION_REASONS, PaymentLimit, Status, Step, check_move


class PaymentKind(StrEnum):
    maternity_resident = "maternity_resident"  # 居民生育医疗费
    maternity_allowance = "maternity_allowance"  # 职工生育津贴
    maternity_employee = "maternity_employee"  # 职工垫付的生育医疗费（可与生育津贴一并申报）
    account_withdrawal = "account_withdrawal"  # 个人账户一次性支取


LIMIT_WORKING_DAYS: Mapping[PaymentKind, int] = {
    PaymentKind.maternity_resident: 20,
    PaymentKind.maternity_allowance: 20,
    PaymentKind.maternity_employee: 20,
    PaymentKind.account_withdrawal: 15,
}

ALLOWED: Mapping[Status, frozenset[Status]] = {
    Status.filed: frozenset({Status.accepted, Status.rejected}),
    Status.accepted: frozenset({Status.approved, Status.rejected}),
    Status.approved: frozenset({Status.paid}),
    Status.paid: frozenset(),
    Status.rejected: frozenset(),
}
OPEN = frozenset({Status.accepted, Status.approved})


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    base: Decimal
    amount: Decimal
    rule: str


@dataclass(frozen=True)
class BenefitPayment(PaymentLimit):
    id: uuid.UUID
    kind: PaymentKind
    person_id: uuid.UUID
    office_code: str
    unit_code: str | None
    amount: Decimal
    lines: tuple[Line, ...]
    basis: dict[str, Any]  # what it was computed from (items, wage and days, reason …)
    bank_account: str
    status: Status
    version: int
    steps: tuple[Step, ...]
    accepted_on: date | None = None
    due_on: date | None = None
    rejection: str | None = None
    overdue_announced: bool = False
    due_provisional: bool = False  # the due date touches a year whose holidays are not published yet
    sample: bool = (
        False  # computed from sample tables (values not in the documents): never paid in production
    )

    def _move(self, to: Status, version: int, by: str, at: datetime, note: str, **changes) -> BenefitPayment:  # type: ignore[no-untyped-def]
        check_move(self.status, self.version, to, version, ALLOWED)
        return replace(
            self, status=to, version=self.version + 1, steps=(*self.steps, Step(to, by, at, note)), **changes
        )

    @property
    def limit_working_days(self) -> int:
        return LIMIT_WORKING_DAYS[self.kind]

    def accept(
        self, version: int, by: str, at: datetime, today: date, calendar: WorkingCalendar
    ) -> BenefitPayment:
        return self._move(Status.accepted, version, by, at, "受理", **self.due_from(today, calendar))

    def approve(self, version: int, by: str, at: datetime) -> BenefitPayment:
        return self._move(Status.approved, version, by, at, "市级核准，生成支付单")

    def pay(self, version: int, by: str, at: datetime, reference: str) -> BenefitPayment:
        return self._move(Status.paid, version, by, at, f"已支付（{reference}）")

    def reject(self, reason: str, note: str | None, version: int, by: str, at: datetime) -> BenefitPayment:
        return self._move(
            Status.rejected,
            version,
            by,
            at,
            REJECTION_REASONS[reason] + (f"：{note}" if note else ""),
            rejection=reason,
        )


def new_payment(kind: PaymentKind, person_id: uuid.UUID, office_code: str, unit_code: str | None, lines: tuple[Line, ...],
                basis: dict[str, Any], bank_account: str, by: str, at: datetime, sample: bool = False) -> BenefitPayment:  # fmt: skip
    return BenefitPayment(
        id=uuid.uuid4(), kind=kind, person_id=person_id, office_code=office_code, unit_code=unit_code,
        amount=sum((line.amount for line in lines), Decimal("0.00")), lines=lines, basis=basis, bank_account=bank_account,
        status=Status.filed, version=1, steps=(Step(Status.filed, by, at, "申请"),), sample=sample,
    )  # fmt: skip
