"""Money invariants of claims, as a hypothesis state machine over the service's API on real Postgres: random
maternity filings (the mother's and the father's items, duplicates, retries with and without a key, two at
once), payments accepted, approved, paid or rejected in any order, bills settled against the year (retried,
re-sent with another amount) and the same receipts filed for manual reimbursement. After every step: a
pregnancy is paid at most one prenatal limit (660) and one delivery or termination, the father nothing of
the mother's; each receipt is paid once (settlement or reimbursement); the year counts each settled stay once
and its fund total is the sum of the settled bills; and every settlement paid exactly what a quote of the
recorded facts (the year before it, the recorded special groups) gives."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from shared.auth import Role
from shared.db import UnitOfWork
from shared.projections import record_facility_if_newer
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage, Entitlement
from svc_claims.domain.maternity import DELIVERIES, TERMINATIONS, item_sex
from svc_claims.models import facilities
from svc_claims.repository.coverage import Repository

pytestmark = pytest.mark.integration

OFFICE, HOSPITAL = "120101", "H12010100001"
VETERAN = {
    "group": "old_soldier",
    "department": "veterans_affairs",
    "document_number": "VA-1",
    "valid_from": "2021-01-01",
    "valid_to": None,
}
ITEMS = ("prenatal", "prenatal", "natural_delivery", "induced_labour", "abortion", "delivery_complication", "iud_insertion_or_removal",
         "male_sterilisation", "sterilisation_reversal")  # fmt: skip
costs = st.integers(min_value=50, max_value=4_000).map(lambda yuan: f"{yuan}.00")
in_scope = st.integers(min_value=100, max_value=30_000).map(lambda yuan: f"{yuan}.00")


class ClaimsMoney(RuleBasedStateMachine):
    harness = None
    database = None

    @initialize()
    def people(self) -> None:
        self.h, self.mother, self.father = type(self).harness, uuid.uuid4(), uuid.uuid4()
        self.receipts = [f"ZY{uuid.uuid4().hex[:8]}" for _ in range(3)]
        coverages = [Coverage(uuid.uuid4(), who, OFFICE, "resident", "adult_middle", date(2021, 1, 1), date(2021, 12, 31), sex=sex,
                              special_groups=("old_soldier",), special_group_records=(VETERAN,))
                     for who, sex in ((self.mother, "female"), (self.father, "male"))]  # fmt: skip
        pregnancy = Entitlement(
            uuid.uuid4(),
            self.mother,
            "pregnancy",
            (),
            date(2020, 10, 1),
            date(2020, 10, 1) + timedelta(weeks=42),
            "active",
            {},
        )

        async def record(uow: UnitOfWork) -> None:
            repo = Repository(uow)
            await record_facility_if_newer(uow, facilities, {"code": HOSPITAL, "name": "示例医院", "kind": "medical_institution", "level": 2,
                                                 "office_code": OFFICE, "status": "designated", "version": 1})  # fmt: skip
            for coverage in coverages:
                await repo.record_coverage(coverage, uuid.uuid4())
            await repo.record_entitlement(pregnancy, None)

        asyncio.run(in_schema(type(self).database, "claims", record, datetime(2021, 1, 1, tzinfo=UTC)))
        self.district = self.h.token(Role.staff, office_code=OFFICE, office_level="district")
        self.city = self.h.token(Role.staff, office_code="120000", office_level="city")
        self.quoted: dict[str, dict] = {}  # settlement id → what a quote of the recorded facts gave

    # ---- maternity
    @rule(mother=st.booleans(), items=st.lists(st.tuples(st.sampled_from(ITEMS), costs), min_size=1, max_size=4),
          retry=st.sampled_from(["none", "same", "keyed", "concurrent"]), day=st.sampled_from(["2021-07-01", "2021-07-02"]))  # fmt: skip
    def file_maternity(self, mother: bool, items: list[tuple[str, str]], retry: str, day: str) -> None:
        who = self.mother if mother else self.father
        body = {"person_id": str(who), "event_date": day, "facility_level": 2, "bank_account": "6222021234567890123",
                "items": [{"item": item, "cost": cost} for item, cost in items]}  # fmt: skip
        headers = {
            **self.district,
            **({"Idempotency-Key": f"m-{uuid.uuid4().hex}"} if retry == "keyed" else {}),
        }
        url = "/api/v1/claims/maternity/resident"
        if retry == "concurrent":
            answers = self.concurrently(url, body, headers)
            assert sum(a.status_code == 201 for a in answers) <= 1, [a.text for a in answers]
        else:
            first = self.h.client.post(url, json=body, headers=headers)
            assert first.status_code in (201, 409, 422), first.text
            if retry != "none":
                again = self.h.client.post(url, json=body, headers=headers)
                if retry == "keyed":
                    assert again.status_code == first.status_code and again.json().get(
                        "id"
                    ) == first.json().get("id")
                else:
                    assert again.status_code != 201, "the same maternity claim created twice"

    def concurrently(self, url: str, body: dict, headers: dict) -> list[httpx.Response]:
        async def both() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.h.client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://claims") as client:
                return list(
                    await asyncio.gather(
                        client.post(url, json=body, headers=headers),
                        client.post(url, json=body, headers=headers),
                    )
                )

        return self.h.client.portal.call(both)  # type: ignore[union-attr]

    @rule(
        pick=st.integers(min_value=0, max_value=20),
        action=st.sampled_from(["accept", "approve", "pay", "reject"]),
    )
    def move_a_payment(self, pick: int, action: str) -> None:
        """Accept, approve, pay or reject one payment, in whatever order: a move out of order is a 409."""
        payments = self.h.client.get(
            "/api/v1/claims/payments", params={"size": 100}, headers=self.city
        ).json()["items"]
        mine = [p for p in payments if p["person_id"] in (str(self.mother), str(self.father))]
        if not mine:
            return
        payment = mine[pick % len(mine)]
        body: dict = {"version": payment["version"]}
        if action == "pay":
            body["reference"] = f"BANK-{uuid.uuid4().hex[:6]}"
        if action == "reject":
            body["reason"] = "materials_doubtful"
        headers = self.city if action == "approve" else self.district
        answer = self.h.client.post(
            f"/api/v1/claims/payments/{payment['id']}/{action}", json=body, headers=headers
        )
        assert answer.status_code in (200, 409), answer.text

    # ---- bills against the year
    @rule(
        receipt=st.integers(min_value=0, max_value=2),
        amount=in_scope,
        retry=st.sampled_from(["none", "same", "other_amount"]),
    )
    def settle(self, receipt: int, amount: str, retry: str) -> None:
        facts = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2, "care_type": "inpatient",
                 "in_scope": amount, "special_groups": ["old_soldier"]}  # fmt: skip
        url = f"/api/v1/claims/persons/{self.father}/settlements"
        year = self.h.client.get(
            f"/api/v1/claims/persons/{self.father}/benefit-years/2021", headers=self.district
        ).json()
        quote = self.h.client.post(
            "/api/v1/claims/quote", json={**facts, "ytd": year}, headers=self.district
        ).json()
        body = {**facts, "facility_code": HOSPITAL, "receipt_no": self.receipts[receipt]}
        answer = self.h.client.post(url, json=body, headers=self.district)
        if answer.status_code == 201:
            self.quoted[answer.json()["id"]] = quote
            assert not quote["sample"]
        else:
            assert answer.status_code in (200, 409, 422), answer.text
            assert answer.status_code != 422 or (
                answer.json()["code"] == "sample_policy_data" and quote["sample"]
            )
        if retry == "same":
            assert self.h.client.post(url, json=body, headers=self.district).status_code in (200, 409, 422)
        elif retry == "other_amount" and answer.status_code in (201, 409):
            # The receipt is settled (now or before): another amount for it is refused. A bill refused
            # for sample policy data settled nothing, so another amount would be a first settlement.
            other = self.h.client.post(url, json={**body, "in_scope": "99.00"}, headers=self.district)
            assert other.status_code in (409, 422), other.text

    @rule(receipt=st.integers(min_value=0, max_value=2))
    def file_the_same_receipt_by_hand(self, receipt: int) -> None:
        number = self.receipts[receipt]
        claim = {"person_id": str(self.father), "care_type": "inpatient", "facility_code": HOSPITAL, "service_from": "2021-05-01",
                 "service_to": "2021-05-10", "channel": "counter", "bank_account": "6222021234567890123",
                 "receipts": [{"number": number, "issued_on": "2021-05-10", "amount": "800.00", "in_scope": "800.00", "out_of_scope": "0.00"}],
                 "materials": ["receipts", "itemised_bill", "diagnosis"]}  # fmt: skip
        answer = self.h.client.post("/api/v1/claims/reimbursements", json=claim, headers=self.district)
        assert answer.status_code in (201, 409), answer.text
        if (
            answer.status_code == 201
        ):  # out of order first, then the whole way: the approval settles the receipt
            c = answer.json()
            early = self.h.client.post(
                f"/api/v1/claims/reimbursements/{c['id']}/approve", json={"version": 1}, headers=self.city
            )
            assert early.status_code == 409
            c = self.h.client.post(
                f"/api/v1/claims/reimbursements/{c['id']}/accept", json={"version": 1}, headers=self.district
            ).json()
            lines = [{"receipt": number, "outcome": "accepted", "accepted_in_scope": "800.00"}]
            c = self.h.client.post(
                f"/api/v1/claims/reimbursements/{c['id']}/review",
                json={"version": 2, "lines": lines},
                headers=self.district,
            ).json()
            year = self.h.client.get(
                f"/api/v1/claims/persons/{self.father}/benefit-years/2021", headers=self.district
            ).json()
            approved = self.h.client.post(
                f"/api/v1/claims/reimbursements/{c['id']}/approve", json={"version": 3}, headers=self.city
            )
            if approved.status_code == 422:  # refused, paying nothing, only when its bill needs sample values
                facts = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
                         "care_type": "inpatient", "in_scope": "800.00", "special_groups": ["old_soldier"], "ytd": year}  # fmt: skip
                quote = self.h.client.post("/api/v1/claims/quote", json=facts, headers=self.district).json()
                assert approved.json()["code"] == "sample_policy_data" and quote["sample"], approved.text
            else:
                assert approved.status_code == 200, approved.text

    # ---- what must hold after every step
    def rows(self, sql: str) -> list[tuple]:
        async def read(uow: UnitOfWork) -> list[tuple]:
            return [
                tuple(r) for r in await uow.session.execute(text(sql), {"m": self.mother, "f": self.father})
            ]

        return asyncio.run(in_schema(type(self).database, "claims", read, datetime(2021, 8, 1, tzinfo=UTC)))

    @invariant()
    def a_pregnancy_is_paid_one_prenatal_limit_and_one_end_and_the_father_nothing_of_the_mothers(
        self,
    ) -> None:
        if not hasattr(self, "mother"):
            return
        live = self.rows(
            "SELECT person_id, document FROM benefit_payments WHERE person_id IN (:m, :f) AND status <> 'rejected'"
        )
        lines = [(person, line) for person, doc in live for line in doc["lines"]]
        mothers = [line for person, line in lines if person == self.mother]
        assert sum(Decimal(line["amount"]) for line in mothers if line["code"] == "prenatal") <= Decimal(
            "660.00"
        )
        assert (
            sum(1 for line in mothers if line["code"] in DELIVERIES | TERMINATIONS) <= 1
        )  # the registered pregnancy ends once
        assert all(item_sex(line["code"]) != "female" for person, line in lines if person == self.father)
        assert all(item_sex(line["code"]) != "male" for line in mothers)

    @invariant()
    def each_receipt_is_paid_once_and_the_year_is_the_sum_of_its_bills(self) -> None:
        if not hasattr(self, "father"):
            return
        settled = self.rows("SELECT id, request, bill FROM benefit_settlements WHERE person_id = :f")
        by_receipt: dict[str, int] = {}
        for _, request, _ in settled:
            key = request.get("receipt_no") or request.get("reimbursement")
            by_receipt[key] = by_receipt.get(key, 0) + 1
        assert all(count == 1 for count in by_receipt.values()), by_receipt
        held = self.rows(
            "SELECT receipt_no, count(*) FROM reimbursement_receipts WHERE receipt_no LIKE 'ZY%' GROUP BY receipt_no"
        )
        assert all(count == 1 for _, count in held)
        year = self.rows("SELECT accumulators FROM benefit_years WHERE person_id = :f AND year = 2021")
        stays = year[0][0]["stays"] if year else 0
        fund = Decimal(year[0][0]["fund_paid"]) if year else Decimal("0")
        assert stays == len(settled)
        assert fund == sum((Decimal(bill["fund"]) for _, _, bill in settled), Decimal("0"))
        for settlement_id, _, bill in settled:
            quote = self.quoted.get(str(settlement_id))
            if quote is not None:  # a settlement is the quote of the recorded facts, to the fen
                assert [bill[k] for k in ("fund", "major_illness", "veterans", "person")] == [
                    quote[k] for k in ("fund", "major_illness", "veterans", "person")
                ]


def test_claims_pay_each_event_and_receipt_once_and_what_a_quote_of_the_recorded_facts_gives(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    ClaimsMoney.harness, ClaimsMoney.database = claims, migrated_database
    run_state_machine_as_test(
        ClaimsMoney,
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
