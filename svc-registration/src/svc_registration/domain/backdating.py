"""Coverage is not backdated on a caller's word (issue 19: no coverage without its contribution).

Contributions are collected by the tax bureau, month by month for employees and flexible workers and
once a year for residents; this service does not see them. What it can hold to is the seeds'
calendar of payment:

- an employee is covered from the day the unit enrolls them, and the unit's contribution notice
  (征缴单) is made for the current month; a flexible worker from the day after payment. A start (or
  payment) in the current month is the ordinary case; an earlier one claims months whose
  contribution the office has not seen;
- a resident pays for a coverage year from 1 Sep of the year before, late until 30 June of the
  year itself (seed 001 三(一)); the benefit period then follows from the payment date
  (domain.benefit_period). A coverage year that has already ended can no longer be paid for.

Anything earlier is a late record (补登): only staff of the office make it, with the reason and the
numbers of the contribution papers (the tax bureau's payment certificates for the months claimed),
and the enrollment keeps them. Without them the request is refused with `backdated_coverage`,
naming the earliest date accepted without papers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.errors import DomainError, Forbidden, Invalid


@dataclass(frozen=True)
class LateRecord:
    """补登: why the coverage starts before the current contribution month, and the papers that show it paid."""

    reason: str
    receipts: tuple[str, ...]  # numbers of the tax bureau's payment certificates (完税证明/缴费凭证)
    by: str = ""
    at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "receipts": list(self.receipts),
            "by": self.by,
            "at": self.at.isoformat() if self.at else None,
        }


def current_month_start(today: date) -> date:
    return today.replace(day=1)


def working_start_is_backdated(start: date, today: date) -> bool:
    """An employee's start, a flexible worker's payment, a resumed coverage: before the current month."""
    return start < current_month_start(today)


def resident_year_is_backdated(coverage_year: int, today: date) -> bool:
    """A resident year already over: its payment window closed on 30 June of that year."""
    return coverage_year < today.year


def refuse_backdated(field: str, earliest: str, detail: str) -> Invalid:
    return Invalid("backdated_coverage", "不能追溯参保", detail + "；确已缴费的，请到经办机构窗口凭缴费凭证办理补登（late_record：原因和缴费凭证号）",
        errors=[{"field": field, "message": f"无缴费凭证时不得早于 {earliest}"}], earliest_without_papers=earliest,
    )  # fmt: skip


def require_paid_or_recorded(
    backdated: bool, late: LateRecord | None, staff_of_office: bool, problem: DomainError
) -> LateRecord | None:
    """The late record is kept only when it was needed; it is staff's to make."""
    if late is not None and not staff_of_office:
        raise Forbidden(
            "late_record_by_staff", "补登须由经办机构工作人员办理", "请携带缴费凭证到参保地经办机构窗口办理"
        )
    if not backdated:
        return None
    if late is None:
        raise problem
    return late
