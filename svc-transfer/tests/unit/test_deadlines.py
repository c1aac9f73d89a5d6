"""Due dates of the transfer steps on the official calendar (day 0 = the triggering day)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.calendar import NamedDay, WorkingCalendar, YearTable
from shared.errors import Conflict
from svc_transfer.domain.profiles import PROFILES
from svc_transfer.domain.transfer import (
    Certificate,
    Funds,
    InformationTable,
    Person,
    Status,
    StepName,
    new_incoming,
)

AT = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
SEEDS = PROFILES["seeds_5_10_5"]


def incoming(**certificate) -> object:
    facts = {
        "number": "1302002026000001",
        "issuing_office": "130200",
        "coverage_ended_on": date(2026, 8, 31),
        "contribution_months": 96,
        "account_balance": Decimal("5321.40"),
        **certificate,
    }
    return new_incoming(
        person_id=uuid.uuid4(),
        person=Person("resident_id", "120101199003071235", "张三"),
        certificate=Certificate(**facts),
        office_code="120101",
        profile="seeds_5_10_5",
        by="clerk",
        at=AT,
    )


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()  # library years only: no operator table for 2027


def test_acceptance_on_28_september_puts_the_letter_due_on_saturday_10_october(calendar):
    case = incoming().accept(SEEDS, date(2026, 9, 28), "clerk", AT, version=1)
    letter = case.step(StepName.send_letter)
    due = letter.due(calendar)
    # 09-29 (1), 09-30 (2), National Day 10-01…10-07 off, 10-08 (3), 10-09 (4), Sat 10-10 adjusted working day (5).
    assert due == type(due)(date(2026, 10, 10), False)
    assert not letter.overdue(calendar, date(2026, 10, 10))
    assert letter.overdue(calendar, date(2026, 10, 11))


def test_each_profile_gives_its_own_limits(calendar):
    national = incoming().accept(PROFILES["national_2016"], date(2026, 9, 28), "clerk", AT, version=1)
    assert national.step(StepName.send_letter).days == 15
    online = incoming().accept(PROFILES["national_2021_online"], date(2026, 9, 28), "clerk", AT, version=1)
    assert online.status is Status.letter_sent and online.steps == ()  # no letter: the request leaves at once


def test_completion_clock_starts_when_the_later_of_table_and_funds_arrives(calendar):
    case = (
        incoming()
        .accept(SEEDS, date(2026, 12, 1), "clerk", AT, version=1)
        .send_letter(date(2026, 12, 2), "clerk", AT, 2)
    )
    table = InformationTable(96, (), Decimal("5321.40"), date(2026, 8, 31))
    case = case.receive_table(table, SEEDS, date(2026, 12, 14), AT)
    assert case.status is Status.letter_sent and case.step(StepName.complete) is None
    case = case.receive_funds(
        Funds(Decimal("5321.40"), "BANK-1", date(2026, 12, 15)), SEEDS, date(2026, 12, 16), AT
    )
    complete = case.step(StepName.complete)
    assert case.status is Status.awaiting_completion and complete.started_on == date(2026, 12, 16)
    assert complete.due(calendar).date == date(2026, 12, 23)


def test_steps_into_2027_are_provisional_until_the_table_is_loaded(calendar):
    # Letter received Mon 2027-02-01; 10 working days. Without a 2027 table weekends and the statutory
    # Spring Festival (02-05 … 02-08) are off: 02-02 … 02-04, 02-09 … 02-12, 02-15 … 02-17.
    outgoing_start = date(2027, 2, 1)
    provisional = calendar.add_working_days(outgoing_start, 10)
    assert provisional.provisional and provisional.date == date(2027, 2, 17)
    # A Spring Festival table (illustrative test data, not the State Council's announcement).
    calendar.load_year(
        YearTable(
            year=2027,
            source="test data",
            holidays=[NamedDay(date=date(2027, 2, d), name="春节") for d in range(5, 12)],
            workdays=[NamedDay(date=date(2027, 2, 20), name="春节")],
        )
    )
    exact = calendar.add_working_days(outgoing_start, 10)
    # 02-02,03,04 (3), festival 05–11 off, 02-12 (4), 15,16,17,18,19 (9), Sat 02-20 adjusted (10).
    assert not exact.provisional and exact.date == date(2027, 2, 20)


def test_a_step_from_december_into_an_unpublished_year_is_provisional(calendar):
    case = incoming().accept(SEEDS, date(2026, 12, 28), "clerk", AT, version=1)
    due = case.step(StepName.send_letter).due(calendar)
    assert due.provisional and due.date == date(
        2027, 1, 5
    )  # 12-29 … 12-31, 01-01 off by statute, 01-04, 01-05


def test_arrears_are_told_but_do_not_block():
    case = incoming(arrears=Decimal("320.00"))
    assert case.warnings and "320.00" in case.warnings[0]
    assert case.accept(SEEDS, date(2026, 9, 28), "clerk", AT, version=1).status is Status.accepted


def test_army_certificate_needs_no_peer_and_is_completed_here(calendar):
    case = incoming(army_kind="军人退役医疗保险个人账户转移凭证", issuing_office="army")
    assert case.peer_office is None
    accepted = case.accept(None, date(2026, 9, 28), "clerk", AT, version=1)
    assert accepted.status is Status.awaiting_completion
    assert accepted.step(StepName.complete).due(calendar).date == date(2026, 10, 10)


def test_wrong_version_and_wrong_state_are_refused():
    case = incoming()
    with pytest.raises(Conflict) as stale:
        case.accept(SEEDS, date(2026, 9, 28), "clerk", AT, version=2)
    assert (stale.value.status, stale.value.code) == (409, "version_conflict")
    with pytest.raises(Conflict) as early:
        case.complete(date(2026, 9, 28), "clerk", AT, version=1)
    assert (early.value.status, early.value.code) == (409, "invalid_transition")
