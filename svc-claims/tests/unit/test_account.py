"""The personal account's balance from its history, and the one-time withdrawal's conditions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.events.catalog import AccountCreditedV1, AccountDebitedV1
from svc_claims.domain.account import (
    REGISTRATION_KINDS,
    Circumstances,
    Entry,
    EntryKind,
    Reason,
    WithdrawalError,
    balance,
    withdrawable,
    withdrawal_key,
)

D = Decimal
HISTORY = (
    Entry(EntryKind.transfer_in, D("5321.40"), date(2026, 3, 1), "transfer T1"),
    Entry(EntryKind.allocation, D("210.50"), date(2026, 4, 1), "2026-04"),
    Entry(EntryKind.payment, D("88.00"), date(2026, 4, 9), "pharmacy"),
)
ENDED = Circumstances(employee_insurance_ended=True)


def test_the_balance_is_the_history_summed() -> None:
    assert balance(HISTORY) == D("5443.90")
    assert balance(()) == D("0.00")


@pytest.mark.parametrize(
    ("reason", "facts"),
    [
        (Reason.death, Circumstances(True, died=True, heirs_commitment=True)),
        (Reason.emigration, Circumstances(True, emigrated=True)),
        (Reason.transfer_out, Circumstances(True, transferred_out=True)),
        (Reason.under_15_years, Circumstances(True, contribution_years=14, pension_account_settled=True)),
    ],
)
def test_each_reason_pays_the_whole_balance_when_its_conditions_hold(
    reason: Reason, facts: Circumstances
) -> None:
    assert withdrawable(HISTORY, reason, facts, to_proxy=False) == D("5443.90")


@pytest.mark.parametrize(
    ("reason", "facts", "message"),
    [
        (Reason.death, Circumstances(False, died=True, heirs_commitment=True), "尚未终止"),
        (Reason.death, Circumstances(True, died=True), "承诺书"),
        (Reason.death, Circumstances(True), "死亡"),
        (Reason.emigration, ENDED, "出国"),
        (Reason.transfer_out, ENDED, "转出"),
        (
            Reason.under_15_years,
            Circumstances(True, contribution_years=15, pension_account_settled=True),
            "已满15年",
        ),
        (Reason.under_15_years, Circumstances(True, contribution_years=3), "养老保险"),
    ],
)
def test_a_condition_not_met_is_refused_with_its_reason(
    reason: Reason, facts: Circumstances, message: str
) -> None:
    with pytest.raises(WithdrawalError, match=message):
        withdrawable(HISTORY, reason, facts, to_proxy=False)


def test_a_proxy_needs_a_commitment_and_an_empty_account_pays_nothing() -> None:
    facts = Circumstances(True, emigrated=True)
    with pytest.raises(WithdrawalError, match="代办人"):
        withdrawable(HISTORY, Reason.emigration, facts, to_proxy=True)
    assert (
        withdrawable(
            HISTORY,
            Reason.emigration,
            Circumstances(True, emigrated=True, proxy_commitment=True),
            to_proxy=True,
        )
        > 0
    )
    drained = (*HISTORY, Entry(EntryKind.withdrawal, D("5443.90"), date(2026, 5, 1), "W1"))
    with pytest.raises(WithdrawalError, match="无余额"):
        withdrawable(drained, Reason.emigration, facts, to_proxy=False)


@given(
    st.lists(
        st.tuples(st.sampled_from(list(EntryKind)), st.decimals(min_value=0, max_value=10_000, places=2)),
        max_size=30,
    )
)
def test_credits_minus_debits(entries: list[tuple[EntryKind, Decimal]]) -> None:
    history = [Entry(kind, amount, date(2026, 1, 1), "x") for kind, amount in entries]
    credits = sum((a for k, a in entries if k in (EntryKind.allocation, EntryKind.transfer_in)), D("0"))
    debits = sum((a for k, a in entries if k not in (EntryKind.allocation, EntryKind.transfer_in)), D("0"))
    assert balance(history) == credits - debits


def test_one_withdrawal_is_held_at_a_time_and_the_next_once_the_first_is_booked() -> None:
    assert withdrawal_key(HISTORY) == "account_withdrawal:1"
    credited_meanwhile = (*HISTORY, Entry(EntryKind.allocation, D("90.00"), date(2026, 5, 1), "2026-05"))
    assert (
        withdrawal_key(credited_meanwhile) == "account_withdrawal:1"
    )  # the same hold: a second filing refused
    paid = (*credited_meanwhile, Entry(EntryKind.withdrawal, D("5533.90"), date(2026, 5, 9), "withdrawal:p1"))
    assert withdrawal_key(paid) == "account_withdrawal:2" and balance(paid) == D("0.00")


def test_every_kind_registration_announces_has_a_kind_here() -> None:
    announced = set(AccountCreditedV1.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]
    announced |= set(AccountDebitedV1.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]
    assert announced == set(REGISTRATION_KINDS)
