"""The incoming office (转入地): what it credits is what the outgoing office attested in the table of
this case, the funds must agree with it, and nothing a peer sends later replaces it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import text

from shared.testing.e2e import new_resident_id as new_person
from svc_transfer.interop.protocol import MessageType

TRANSFERS = "/api/v1/transfer/transfers"
NUMBER = "1302002026000077"


def incoming_case(office) -> tuple[dict, str]:
    """A person covered here applies with Tangshan's certificate; the office accepts and sends the letter."""
    id_number = new_person("130202")
    office.covered(id_number, "120101", date(2026, 1, 1), date(2026, 12, 31))
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "certificate": {"number": NUMBER, "issuing_office": "130200", "coverage_ended_on": "2025-12-31",
                        "contribution_months": 12, "account_balance": "1000.00"},
    }  # fmt: skip
    case = office.client.post(TRANSFERS, json=body, headers=office.staff())
    assert case.status_code == 201, case.text
    case = act(office, case.json(), "accept")
    return act(office, case, "send-letter"), id_number


def act(office, case: dict, action: str, expect: int = 200, **extra) -> dict:  # type: ignore[no-untyped-def]
    answer = office.client.post(
        f"{TRANSFERS}/{case['id']}/{action}",
        json={"version": case["version"], **extra},
        headers=office.staff(),
    )
    assert answer.status_code == expect, answer.text
    return answer.json()


def fetch(office, case: dict) -> dict:
    return office.client.get(f"{TRANSFERS}/{case['id']}", headers=office.staff()).json()


def table(
    id_number: str, number: str = NUMBER, months: int = 12, balance: str = "1000.00", history=None
) -> dict:  # type: ignore[no-untyped-def]
    return {
        "certificate_number": number,
        "person": {"id_type": "resident_id", "id_number": id_number, "name": "迁移人"},
        "contribution_months": months,
        "history": history if history is not None else [{"start": "2025-01", "end": "2025-12", "months": 12}],
        "account_balance": balance,
        "coverage_ended_on": "2025-12-31",
    }


def funds(amount: str, reference: str = "TS-BANK-1") -> dict:
    return {"amount": amount, "reference": reference, "transferred_on": "2026-12-01"}


def ref(case: dict) -> uuid.UUID:
    return uuid.UUID(case["transfer_ref"])


def test_a_table_naming_another_person_or_certificate_is_refused_and_changes_nothing(office) -> None:
    case, id_number = incoming_case(office)
    stranger = office.send(MessageType.information_table, ref(case), table(new_person("130203")))
    wrong_number = office.send(
        MessageType.information_table, ref(case), table(id_number, number="1302002026000078")
    )
    for answer in (stranger, wrong_number):
        assert answer.status_code == 422 and answer.json()["code"] == "table_mismatch", answer.text
    assert office.send(MessageType.fund_transfer, ref(case), funds("1000.00")).status_code == 200
    after = fetch(office, case)
    assert after["table"] is None and after["status"] == "letter_sent"


def test_months_beyond_the_period_are_refused(office) -> None:
    case, id_number = incoming_case(office)
    for body in (
        table(id_number, months=99),  # 99 months claimed for one 12-month period
        table(id_number, months=99, history=[{"start": "2025-01", "end": "2025-12", "months": 99}]),
        table(id_number, months=24, history=[{"start": "2025-01", "end": "2025-12", "months": 12},
                                             {"start": "2025-06", "end": "2026-05", "months": 12}]),  # overlap
        table(id_number, months=12, history=[{"start": "2026-01", "end": "2026-12", "months": 12}]),  # after the end
    ):  # fmt: skip
        answer = office.send(MessageType.information_table, ref(case), body)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_message_body", answer.text
    assert fetch(office, case)["table"] is None


def test_a_fund_notice_that_differs_from_the_table_is_held_for_staff_and_never_credited(office) -> None:
    case, id_number = incoming_case(office)
    assert office.send(MessageType.information_table, ref(case), table(id_number)).status_code == 200
    assert office.send(MessageType.fund_transfer, ref(case), funds("999999.99")).status_code == 200
    held = fetch(office, case)
    assert held["status"] == "funds_held", held
    assert held["steps"][-1]["step"] == "check_funds" and held["steps"][-1]["done_on"] is None
    assert any("999999.99" in w and "1000.00" in w for w in held["warnings"])
    act(office, held, "complete", expect=409)  # nothing is credited while the amounts disagree
    worklist = office.client.get(f"{TRANSFERS}/worklist", headers=office.staff()).json()["items"]
    assert next(i for i in worklist if i["id"] == case["id"])["step"]["step"] == "check_funds"
    # The bank statement shows a different amount again: still held.
    act(office, held, "confirm-funds", expect=422, amount_received="999999.99", note="银行到账核对")
    confirmed = act(
        office, held, "confirm-funds", amount_received="1000.00", note="银行到账 1000.00 元，与信息表一致"
    )
    assert confirmed["status"] == "awaiting_completion" and confirmed["steps"][-1]["step"] == "complete"
    completed = act(office, confirmed, "complete")
    assert completed["status"] == "completed"
    credited = office.work(lambda uow: _completed_balance(uow, case["id"]))
    assert credited == "1000.00"  # the table's amount, never the notice's


def test_a_second_fund_notice_never_replaces_the_first(office) -> None:
    case, id_number = incoming_case(office)
    assert office.send(MessageType.fund_transfer, ref(case), funds("1000.00", "TS-BANK-A")).status_code == 200
    again = office.send(MessageType.fund_transfer, ref(case), funds("5.00", "TS-BANK-B"))
    assert again.status_code == 422 and again.json()["code"] == "funds_already_received", again.text
    assert office.send(MessageType.information_table, ref(case), table(id_number)).status_code == 200
    after = fetch(office, case)
    assert after["funds"]["amount"] == "1000.00" and after["funds"]["reference"] == "TS-BANK-A"
    assert after["status"] == "awaiting_completion"
    second_table = office.send(MessageType.information_table, ref(case), table(id_number, balance="9.00"))
    assert second_table.status_code == 422 and second_table.json()["code"] == "table_already_received"
    assert fetch(office, case)["table"]["account_balance"] == "1000.00"


def test_funds_that_arrive_before_a_differing_table_are_held_too(office) -> None:
    case, id_number = incoming_case(office)
    assert office.send(MessageType.fund_transfer, ref(case), funds("1500.00")).status_code == 200
    assert office.send(MessageType.information_table, ref(case), table(id_number)).status_code == 200
    assert fetch(office, case)["status"] == "funds_held"


async def _completed_balance(uow, case_id: str) -> str:  # type: ignore[no-untyped-def]
    row = await uow.session.execute(
        text("SELECT envelope->'payload'->>'account_balance' FROM outbox WHERE event_type = 'transfer.completed' "
             "AND envelope->'payload'->>'transfer_id' = :id"),
        {"id": case_id},
    )  # fmt: skip
    return row.scalar_one()


def test_the_whole_transfers_twenty_working_days_are_tracked_beside_the_steps(office) -> None:  # type: ignore[no-untyped-def]
    from shared.calendar import default_calendar

    case, id_number = incoming_case(office)
    whole = fetch(office, case)["whole_limit"]
    accepted = date.fromisoformat(case["accepted_on"])
    assert whole["step"] == "whole_transfer" and whole["started_on"] == case["accepted_on"]
    assert whole["due_on"] == default_calendar().add_working_days(accepted, 20).date.isoformat()
    # Table and funds arrive; the case is not completed before the 20 working days run out.
    assert office.send(MessageType.information_table, ref(case), table(id_number)).status_code == 200
    assert office.send(MessageType.fund_transfer, ref(case), funds("1000.00")).status_code == 200
    late = date.fromisoformat(whole["due_on"]) + timedelta(days=1)
    office.harness.business_date(late.isoformat())
    try:
        overdue = office.client.get(
            f"{TRANSFERS}/worklist", params={"overdue": "true"}, headers=office.staff()
        )
        item = next(i for i in overdue.json()["items"] if i["id"] == case["id"])
        assert item["whole_limit"]["overdue"] is True
    finally:
        office.harness.business_date(None)


def test_a_table_that_departs_from_the_certificate_the_person_brought_is_shown_to_staff(office) -> None:  # type: ignore[no-untyped-def]
    case, id_number = incoming_case(office)  # the person's certificate: 12 months, 1000.00
    history = [{"start": "2025-07", "end": "2025-12", "months": 6}]
    assert (
        office.send(
            MessageType.information_table,
            ref(case),
            table(id_number, months=6, balance="400.00", history=history),
        ).status_code
        == 200
    )
    assert office.send(MessageType.fund_transfer, ref(case), funds("400.00")).status_code == 200
    after = fetch(office, case)
    assert after["status"] == "awaiting_completion"  # the attested table and funds agree: it goes on
    assert any("6 个月" in w and "12 个月" in w and "以信息表为准" in w for w in after["warnings"])
