"""The personal account (个人账户) and its one-time withdrawal (一次性支取), files 000/003/004.

The balance is the sum of the account's history: credits (monthly allocations, a balance brought by a
transfer-in) and debits (payments, a withdrawal). Registration books that history (its account ledger); claims
mirrors it entry by entry from registration's account events, so the withdrawal pays the balance registration
holds and no entry is counted twice. A withdrawal pays the whole balance, once the
employee insurance has ended, for one of the seeds' reasons:

- death: to the legal heirs, with a commitment letter (承诺书) on the heirs;
- emigration (出国（境）定居);
- an employee with under 15 contribution years whose pension account was settled;
- transfer out of the pooling region.

It is paid within 15 working days of acceptance, to the person's account or, with a commitment
letter, to the proxy's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from shared.money import to_money

PAYMENT_DAYS = 15  # working days from acceptance to payment
PENSION_YEARS = 15


class WithdrawalError(ValueError):
    """The withdrawal is not allowed (reason not met, nothing to pay …): a 422 or 409 at the API."""


class EntryKind(StrEnum):
    allocation = "allocation"  # 划入
    transfer_in = "transfer_in"  # 转入余额
    payment = "payment"  # 支付（门诊、药店）
    withdrawal = "withdrawal"  # 一次性支取


CREDITS = frozenset({EntryKind.allocation, EntryKind.transfer_in})


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    amount: Decimal  # always positive; the kind says which way it goes
    on: date
    reference: str


class Reason(StrEnum):
    death = "death"
    emigration = "emigration"
    under_15_years = "under_15_years"
    transfer_out = "transfer_out"


@dataclass(frozen=True)
class Circumstances:
    """What the withdrawal is checked against (from the projection of registration's events)."""

    employee_insurance_ended: bool
    died: bool = False
    emigrated: bool = False
    transferred_out: bool = False
    contribution_years: int = 0
    pension_account_settled: bool = False
    heirs_commitment: bool = False  # 法定继承人承诺书
    proxy_commitment: bool = False  # paid to a proxy's account: their commitment letter


# Registration keeps the account (its ledger is the one source); claims mirrors each entry it announces, by
# the entry's reference, under claims' own name for the kind.
REGISTRATION_KINDS = {
    "contribution": EntryKind.allocation,
    "transfer_in": EntryKind.transfer_in,
    "retiree_allocation": EntryKind.allocation,
    "withdrawal": EntryKind.withdrawal,
}


def withdrawal_key(entries: Iterable[Entry]) -> str:
    """The natural key a withdrawal is held under: the next withdrawal of this person. It stays the same while a
    filing is open (a second filing is refused, however much is credited meanwhile) and moves on once the
    payment booked its withdrawal, so money credited after a paid withdrawal can be withdrawn again."""
    paid = sum(1 for e in entries if e.kind is EntryKind.withdrawal)
    return f"account_withdrawal:{paid + 1}"


def balance(entries: Iterable[Entry]) -> Decimal:
    total = sum((e.amount if e.kind in CREDITS else -e.amount for e in entries), Decimal("0.00"))
    return to_money(total)


def withdrawable(entries: Iterable[Entry], reason: Reason, facts: Circumstances, to_proxy: bool) -> Decimal:
    """The amount a withdrawal for `reason` pays: the whole balance, if every condition holds."""
    if not facts.employee_insurance_ended:
        raise WithdrawalError("职工医保参保关系尚未终止，不能一次性支取个人账户")
    unmet = _unmet(reason, facts)
    if unmet:
        raise WithdrawalError(unmet)
    if to_proxy and not facts.proxy_commitment:
        raise WithdrawalError("支付至代办人账户须提供代办人承诺书")
    amount = balance(entries)
    if amount <= 0:
        raise WithdrawalError("个人账户无余额可支取")
    return amount


def _unmet(reason: Reason, facts: Circumstances) -> str | None:
    if reason is Reason.death:
        if not facts.died:
            return "未收到参保人死亡的登记"
        return None if facts.heirs_commitment else "死亡支取须由法定继承人提供承诺书"
    if reason is Reason.emigration:
        return None if facts.emigrated else "未收到参保人出国（境）定居终止参保的登记"
    if reason is Reason.transfer_out:
        return None if facts.transferred_out else "参保关系尚未转出统筹区"
    if facts.contribution_years >= PENSION_YEARS:
        return f"缴费年限已满{PENSION_YEARS}年，不属于一次性支取情形"
    return None if facts.pension_account_settled else "须先办理基本养老保险个人账户一次性结算"
