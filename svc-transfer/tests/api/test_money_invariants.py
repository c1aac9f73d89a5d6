"""Money invariants of transfer, as a hypothesis state machine over the service's API on real Postgres.

Outgoing (转出地): letters with fresh or repeated references for a few certificates, and staff answering
any case with the table and funds, in any order. After every step each certificate has at most one
transfer out holding it and at most one fund transfer sent.
Incoming (转入地): tables (right, for another person, with months beyond their period, with various
balances), fund notices of various amounts, repeats, staff confirming amounts and completing, in any
order. After every step the first table and the first fund notice are never replaced, a case whose
notice differs from its table is never completed without staff confirming the table's amount, and what
completion credits is exactly the table's balance."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from shared.testing.e2e import new_resident_id
from svc_transfer.interop.protocol import MessageType

pytestmark = pytest.mark.integration

T = "/api/v1/transfer"
BALANCES = ("1000.00", "999999.99", "5.00")


class Transfers(RuleBasedStateMachine):
    office = None  # set by the test

    @initialize()
    def cases(self) -> None:
        o = self.o = type(self).office
        self.certificates: dict[str, list[uuid.UUID]] = {}  # certificate → letter references
        for _ in range(2):
            id_number = new_resident_id("120101")
            o.covered(
                id_number, "120101", date(2026, 1, 1), date(2026, 12, 31), stopped_on=date(2026, 11, 30)
            )
            issued = o.client.post(
                f"{T}/certificates",
                json={"person": {"id_number": id_number, "name": "迁移人"}},
                headers=o.staff(),
            )
            assert issued.status_code == 201, issued.text
            self.certificates[issued.json()["number"]] = []
            self.person_of = getattr(self, "person_of", {}) | {issued.json()["number"]: id_number}
        self.incoming: list[dict] = []  # {id, ref, id_number, table, funds}
        for n in range(2):
            id_number = new_resident_id("130202")
            o.covered(id_number, "120101", date(2026, 1, 1), date(2026, 12, 31))
            body = {"person": {"id_number": id_number, "name": "迁移人"},
                    "certificate": {"number": f"13020020269{n}{uuid.uuid4().int % 10**4:04d}", "issuing_office": "130200",
                                    "coverage_ended_on": "2025-12-31", "contribution_months": 12, "account_balance": "1000.00"}}  # fmt: skip
            case = o.client.post(f"{T}/transfers", json=body, headers=o.staff()).json()
            for action in ("accept", "send-letter"):
                case = o.client.post(
                    f"{T}/transfers/{case['id']}/{action}",
                    json={"version": case["version"]},
                    headers=o.staff(),
                ).json()
            self.incoming.append({"id": case["id"], "ref": uuid.UUID(case["transfer_ref"]), "id_number": id_number,
                                  "number": body["certificate"]["number"], "table": None, "funds": None})  # fmt: skip

    # ------------------------------------------------------------------ outgoing

    @rule(which=st.integers(0, 1), repeat=st.booleans())
    def letter(self, which: int, repeat: bool) -> None:
        number = list(self.certificates)[which]
        refs = self.certificates[number]
        ref = refs[-1] if repeat and refs else uuid.uuid4()
        body = {"person": {"id_type": "resident_id", "id_number": self.person_of[number], "name": "迁移人"},
                "certificate_number": number, "receiving_office": "130202", "letter_date": "2026-12-01"}  # fmt: skip
        assert self.o.send(MessageType.letter, ref, body).status_code == 200
        refs.append(ref)

    @rule(which=st.integers(0, 1), pick=st.integers(0, 5))
    def answer_with_table_and_funds(self, which: int, pick: int) -> None:
        refs = self.certificates[list(self.certificates)[which]]
        if not refs:
            return
        ref = str(refs[pick % len(refs)])
        items = self.o.client.get(f"{T}/transfers", params={"size": 100}, headers=self.o.staff()).json()[
            "items"
        ]
        case = next((c for c in items if c["side"] == "outgoing" and c["transfer_ref"] == ref), None)
        if case is not None:
            answer = self.o.client.post(f"{T}/transfers/{case['id']}/send-table",
                                        json={"version": case["version"], "fund_reference": f"BANK-{ref[:8]}"}, headers=self.o.staff())  # fmt: skip
            assert answer.status_code in (200, 409), answer.text

    @invariant()
    def one_transfer_out_per_certificate(self) -> None:
        if not hasattr(self, "certificates"):
            return
        for number, refs in self.certificates.items():
            funds = [r for r in self.o.outbox(type="fund_transfer") if r.transfer_ref in refs]
            holding = self.o.work(lambda uow, n=number: _holding(uow, n))
            assert len(funds) <= 1 and holding <= 1, (number, len(funds), holding)

    # ------------------------------------------------------------------ incoming

    @rule(
        which=st.integers(0, 1),
        balance=st.sampled_from(BALANCES),
        kind=st.sampled_from(("right", "stranger", "99 months")),
    )
    def table(self, which: int, balance: str, kind: str) -> None:
        case = self.incoming[which]
        person = new_resident_id("130203") if kind == "stranger" else case["id_number"]
        months = 99 if kind == "99 months" else 12
        body = {"certificate_number": case["number"], "person": {"id_type": "resident_id", "id_number": person, "name": "迁移人"},
                "contribution_months": months, "history": [{"start": "2025-01", "end": "2025-12", "months": months}],
                "account_balance": balance, "coverage_ended_on": "2025-12-31"}  # fmt: skip
        answer = self.o.send(MessageType.information_table, case["ref"], body)
        if answer.status_code == 200:
            assert kind == "right" and case["table"] is None, answer.text
            case["table"] = balance
        else:
            assert answer.status_code in (409, 422), answer.text

    @rule(which=st.integers(0, 1), amount=st.sampled_from(BALANCES))
    def funds(self, which: int, amount: str) -> None:
        case = self.incoming[which]
        body = {"amount": amount, "reference": f"TS-{uuid.uuid4().hex[:8]}", "transferred_on": "2026-12-01"}
        answer = self.o.send(MessageType.fund_transfer, case["ref"], body)
        if answer.status_code == 200:
            assert case["funds"] is None, answer.text
            case["funds"] = amount
        else:
            assert answer.status_code in (409, 422), answer.text

    @rule(which=st.integers(0, 1), amount=st.sampled_from(BALANCES))
    def staff_confirm_the_bank_statement(self, which: int, amount: str) -> None:
        current = self._case(which)
        self.o.client.post(f"{T}/transfers/{current['id']}/confirm-funds",
                           json={"version": current["version"], "amount_received": amount, "note": "银行到账核对"}, headers=self.o.staff())  # fmt: skip

    @rule(which=st.integers(0, 1))
    def staff_complete(self, which: int) -> None:
        current = self._case(which)
        self.o.client.post(
            f"{T}/transfers/{current['id']}/complete",
            json={"version": current["version"]},
            headers=self.o.staff(),
        )

    @invariant()
    def credited_is_what_the_table_attests(self) -> None:
        for which, model in enumerate(getattr(self, "incoming", [])):
            current = self._case(which)
            assert (current["table"] or {}).get("account_balance") == model["table"]  # never replaced
            assert (current["funds"] or {}).get("amount") == model["funds"]
            if current["status"] in ("awaiting_completion", "completed") and model["funds"] != model["table"]:
                confirmed = [h for h in current["history"] if h["action"] == "confirm_funds"]
                assert confirmed and confirmed[-1]["note"].startswith(f"到账 {model['table']} 元")
            if current["status"] == "funds_held":
                assert model["funds"] != model["table"]
            if current["status"] == "completed":
                assert self.o.work(lambda uow, i=current["id"]: _credited(uow, i)) == [model["table"]]

    def _case(self, which: int) -> dict:
        return self.o.client.get(f"{T}/transfers/{self.incoming[which]['id']}", headers=self.o.staff()).json()


async def _holding(uow, number: str) -> int:  # type: ignore[no-untyped-def]
    query = text(
        "SELECT count(*) FROM transfers WHERE side = 'outgoing' AND status <> 'rejected' AND certificate_number = :n"
    )
    return (await uow.session.execute(query, {"n": number})).scalar_one()


async def _credited(uow, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    query = text("SELECT envelope->'payload'->>'account_balance' FROM outbox WHERE event_type = 'transfer.completed' "
                 "AND envelope->'payload'->>'transfer_id' = :id")  # fmt: skip
    return [r[0] for r in await uow.session.execute(query, {"id": case_id})]


def test_transfer_money_invariants_hold_over_random_sequences(office) -> None:  # type: ignore[no-untyped-def]
    Transfers.office = office
    run_state_machine_as_test(
        Transfers,
        settings=settings(max_examples=12, stateful_step_count=10, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )  # fmt: skip
