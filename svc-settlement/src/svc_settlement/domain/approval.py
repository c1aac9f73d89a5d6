"""A clearing's way to payment: district review (审核), city approval (核准), payment order (拨付),
within 30 working days (seed 000: 不超过30个工作日完成当期费用结算)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.calendar import WorkingCalendar
from shared.errors import Conflict

PAYMENT_LIMIT_WORKING_DAYS = 30

STATUSES = {"computed": "已计算", "reviewed": "分中心已审核", "approved": "市中心已核准", "paid": "已拨付"}
# action → (from status, to status, who)
TRANSITIONS = {
    "review": ("computed", "reviewed", "district"),
    "approve": ("reviewed", "approved", "city"),
    "pay": ("approved", "paid", "city"),
}
LOCKED = frozenset({"approved", "paid"})


def next_status(current: str, action: str) -> str:
    source, target, _ = TRANSITIONS[action]
    if current != source:
        raise Conflict("invalid_transition", "当前状态不允许此操作",
                      f"清算表状态为「{STATUSES.get(current, current)}」，{action} 需要「{STATUSES[source]}」")  # fmt: skip
    return target


@dataclass(frozen=True)
class Deadline:
    starts_on: date
    due_on: date
    provisional: bool
    working_days_left: int
    overdue: bool


def payment_deadline(
    calendar: WorkingCalendar, declared_on: date, today: date, paid_on: date | None = None
) -> Deadline:
    """Day 0 is the day of the declaration (受理); payment is due by the 30th working day after it."""
    due = calendar.add_working_days(declared_on, PAYMENT_LIMIT_WORKING_DAYS)
    until = paid_on or today
    left = 0 if until >= due.date else calendar.working_days_between(until, due.date).days
    return Deadline(declared_on, due.date, due.provisional, left, until > due.date)
