"""Claims money integrity and object access through the gateway (issues 18 and 19): maternity by the person's
sex and once per pregnancy, a settlement sent twice counted once, another district's person unknown to a
district clerk, the veterans' share of a real claim as the quote gives it, the family-doctor benefit only from
the recorded signing, sample policy data quoted but never paid. Every refusal is problem+json with a Chinese title and a stable code, and writes nothing. (People are
covered for 2021, the year whose benefit and maternity tables are on file, with a clerk's late record.)"""

from __future__ import annotations

import json
import random
import uuid

import httpx
import pytest

from shared.testing.e2e import bearer, covered_in_2021, new_resident_id, poll

pytestmark = pytest.mark.e2e

REG, CLAIMS = "/api/v1/registration", "/api/v1/claims"
ACCOUNT = "6222021234567890123"


def resident_id(office: str, female: bool) -> str:
    """A valid resident ID of the district whose 17th digit gives the sex (even: a woman)."""
    rng = random.Random()
    while True:
        number = new_resident_id(office, rng)
        if (int(number[16]) % 2 == 0) == female:
            return number


def refused(answer: httpx.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"]), problem
    return problem


def inpatient(in_scope: str, receipt: str, **extra: object) -> dict:
    return {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2, "care_type": "inpatient",
            "in_scope": in_scope, "facility_code": "H12010100001", "receipt_no": receipt, **extra}  # fmt: skip


def test_another_districts_clerk_neither_reads_a_persons_year_nor_books_a_bill(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    person = covered_in_2021(
        gateway, tokens["staff-hexi"], "120103", resident_id("120103", female=True)
    )  # a person of 河西区
    heping, hexi = bearer(tokens["staff-heping"]), bearer(tokens["staff-hexi"])
    refused(gateway.get(f"{CLAIMS}/persons/{person}/benefit-years/2021", headers=heping), 404, "not_found")
    refused(
        gateway.post(
            f"{CLAIMS}/persons/{person}/settlements", json=inpatient("10500.00", "ZY-E2E-A1"), headers=heping
        ),
        404,
        "not_found",
    )
    wrong_tier = gateway.post(
        f"{CLAIMS}/persons/{person}/settlements",
        json=inpatient("10500.00", "ZY-E2E-A1", tier="adult_high"),
        headers=heping,
    )
    assert "adult_middle" not in refused(wrong_tier, 404, "not_found").get("detail", "")
    assert (
        gateway.get(f"{CLAIMS}/persons/{person}/benefit-years/2021", headers=hexi).json()["stays"] == 0
    )  # nothing was booked


def test_a_settlement_sent_twice_counts_the_stay_once(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    person = covered_in_2021(gateway, tokens["staff-heping"], "120101", resident_id("120101", female=False))
    clerk = bearer(tokens["staff-heping"])
    receipt = f"ZY{uuid.uuid4().hex[:10]}"
    first = gateway.post(
        f"{CLAIMS}/persons/{person}/settlements", json=inpatient("10500.00", receipt), headers=clerk
    )
    assert first.status_code == 201, first.text
    again = gateway.post(
        f"{CLAIMS}/persons/{person}/settlements", json=inpatient("10500.00", receipt), headers=clerk
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    refused(
        gateway.post(
            f"{CLAIMS}/persons/{person}/settlements", json=inpatient("20000.00", receipt), headers=clerk
        ),
        409,
        "duplicate_receipt",
    )
    # The same JSON re-serialised with an Idempotency-Key is the same request (the fingerprint is the parsed body).
    keyed = {**clerk, "Idempotency-Key": f"e2e-{uuid.uuid4()}", "Content-Type": "application/json"}
    body = inpatient("800.00", f"ZY{uuid.uuid4().hex[:10]}")
    one = gateway.post(f"{CLAIMS}/persons/{person}/settlements", content=json.dumps(body), headers=keyed)
    two = gateway.post(
        f"{CLAIMS}/persons/{person}/settlements",
        content=json.dumps(dict(reversed(list(body.items()))), indent=1),
        headers=keyed,
    )
    assert one.status_code == 201 and two.status_code == 201 and two.json()["id"] == one.json()["id"]
    assert (
        gateway.get(f"{CLAIMS}/persons/{person}/benefit-years/2021", headers=clerk).json()["stays"] == 2
    )  # not 1 → 3


def test_sample_policy_data_is_quoted_flagged_but_never_settled(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    person = covered_in_2021(gateway, tokens["staff-heping"], "120101", resident_id("120101", female=False))
    clerk = bearer(tokens["staff-heping"])
    # 100,000 in scope: the burden passes the major-illness threshold, a sample value in the 2021 file.
    quote = gateway.post(f"{CLAIMS}/quote", json={k: v for k, v in inpatient("100000.00", "-").items() if k not in ("facility_code", "receipt_no")},
                         headers=clerk)  # fmt: skip
    assert quote.status_code == 200 and quote.json()["sample"] is True
    refused(gateway.post(f"{CLAIMS}/persons/{person}/settlements", json=inpatient("100000.00", f"ZY{uuid.uuid4().hex[:10]}"), headers=clerk),
            422, "sample_policy_data")  # fmt: skip
    assert gateway.get(f"{CLAIMS}/persons/{person}/benefit-years/2021", headers=clerk).json()["stays"] == 0


def test_maternity_is_paid_by_the_persons_sex_and_once_per_pregnancy(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    clerk, admin = bearer(tokens["staff-heping"]), bearer(tokens["admin"])
    her_id, his_id = resident_id("120101", female=True), resident_id("120101", female=False)
    mother = covered_in_2021(gateway, tokens["staff-heping"], "120101", her_id)
    father = covered_in_2021(gateway, tokens["staff-heping"], "120101", his_id)
    # The pregnancy was registered (late, before the delivery) on 1 June 2021: registration's date moved there.
    assert (
        gateway.put(f"{REG}/admin/business-date", json={"date": "2021-06-01"}, headers=admin).status_code
        == 200
    )
    try:
        registered = gateway.post(f"{REG}/benefit-registrations/pregnancy", json={"person_id": mother, "last_menstrual_period": "2020-11-01"},
                                  headers=clerk)  # fmt: skip
        assert registered.status_code == 201, registered.text
    finally:
        assert (
            gateway.put(f"{REG}/admin/business-date", json={"date": None}, headers=admin).status_code == 200
        )
    poll(lambda: any(e["kind"] == "pregnancy" for e in gateway.get(f"{CLAIMS}/persons/{mother}/eligibility", params={"on": "2021-07-15"},
                                                                    headers=clerk).json().get("entitlements", [])),
         what="claims to record the pregnancy registration")  # fmt: skip

    def filing(who: str, id_number: str | None, *items: tuple[str, str]) -> dict:
        """A filing; the sex is the record's (registration.approved), an ID number only stands in where it has none."""
        return {"person_id": who, "event_date": "2021-07-15", "facility_level": 2, "bank_account": ACCOUNT,
                "items": [{"item": item, "cost": cost} for item, cost in items], **({"id_number": id_number} if id_number else {})}  # fmt: skip

    url = f"{CLAIMS}/maternity/resident"
    twice = filing(
        mother,
        None,
        ("prenatal", "900.00"),
        ("prenatal", "700.00"),
        ("natural_delivery", "3000.00"),
        ("natural_delivery", "3000.00"),
    )
    refused(gateway.post(url, json=twice, headers=clerk), 422, "maternity_event_repeated")
    once = gateway.post(
        url,
        json=filing(
            mother, None, ("prenatal", "900.00"), ("prenatal", "700.00"), ("natural_delivery", "3000.00")
        ),
        headers=clerk,
    )
    assert once.status_code == 201, once.text
    assert (
        once.json()["amount"] == "2940.00" and once.json()["basis"]["sex"] == "female"
    )  # 660 + 2,280 for one pregnancy, never 5,760
    again = gateway.post(
        url, json=filing(mother, None, ("natural_delivery", "3000.00")), headers=clerk
    )  # the same delivery, no key
    assert refused(again, 409, "maternity_already_claimed")["existing_payment"] == once.json()["id"]
    refused(
        gateway.post(url, json=filing(father, None, ("natural_delivery", "3000.00")), headers=clerk),
        422,
        "maternity_item_sex",
    )
    refused(
        gateway.post(url, json=filing(father, her_id, ("male_sterilisation", "500.00")), headers=clerk),
        422,
        "identity_mismatch",
    )
    assert (
        gateway.post(url, json=filing(father, None, ("male_sterilisation", "500.00")), headers=clerk).json()[
            "amount"
        ]
        == "360.00"
    )
    listed = gateway.get(f"{CLAIMS}/payments", params={"size": 100}, headers=clerk).json()["items"]
    assert sorted(p["amount"] for p in listed if p["person_id"] in (mother, father)) == ["2940.00", "360.00"]


def test_an_entitled_veterans_real_claim_pays_the_share_the_quote_gives(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    city, clerk = bearer(tokens["staff-city"]), bearer(tokens["staff-heping"])
    groups = [
        {
            "group": "old_soldier",
            "department": "veterans_affairs",
            "document_number": "津退役优抚 2019-91",
            "valid_from": "2019-01-01",
        }
    ]
    person = covered_in_2021(
        gateway, tokens["staff-city"], "120101", resident_id("120101", female=False), special_groups=groups
    )
    receipt = {"number": f"ZY{uuid.uuid4().hex[:10]}", "issued_on": "2021-05-20", "amount": "30000.00", "in_scope": "15000.00",
               "out_of_scope": "15000.00"}  # fmt: skip
    claim = {"person_id": person, "care_type": "inpatient", "facility_code": "H12010100002", "service_from": "2021-05-10",
             "service_to": "2021-05-20", "receipts": [receipt], "channel": "counter", "bank_account": ACCOUNT,
             "materials": ["receipts", "itemised_bill", "diagnosis"]}  # fmt: skip
    filed = gateway.post(f"{CLAIMS}/reimbursements", json=claim, headers=clerk)
    assert filed.status_code == 201, filed.text
    c = gateway.post(
        f"{CLAIMS}/reimbursements/{filed.json()['id']}/accept", json={"version": 1}, headers=clerk
    ).json()
    lines = [{"receipt": receipt["number"], "outcome": "accepted", "accepted_in_scope": "15000.00"}]
    c = gateway.post(
        f"{CLAIMS}/reimbursements/{c['id']}/review", json={"version": 2, "lines": lines}, headers=clerk
    ).json()
    approved = gateway.post(f"{CLAIMS}/reimbursements/{c['id']}/approve", json={"version": 3}, headers=city)
    assert approved.status_code == 200, approved.text
    bill = approved.json()["bill"]
    quote = gateway.post(f"{CLAIMS}/quote", headers=clerk, json={
        "scheme": "resident", "tier": "adult_middle", "special_groups": ["old_soldier"], "service_date": "2021-05-20",
        "admission_date": "2021-05-10", "facility_level": 3, "care_type": "inpatient", "in_scope": "15000.00", "out_of_scope": "15000.00"}).json()  # fmt: skip
    assert bill["veterans"] != "0.00"
    assert (bill["fund"], bill["veterans"], bill["person"]) == (
        quote["fund"],
        quote["veterans"],
        quote["person"],
    )
    assert approved.json()["payment_order"]["veterans"] == quote["veterans"]


def test_registrations_decide_the_special_disease_ratio_and_the_level_2_outpatient_hospital(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    clerk, city, admin = bearer(tokens["staff-heping"]), bearer(tokens["staff-city"]), bearer(tokens["admin"])
    registered = covered_in_2021(
        gateway, tokens["staff-heping"], "120101", resident_id("120101", female=False)
    )
    unregistered = covered_in_2021(
        gateway, tokens["staff-heping"], "120101", resident_id("120101", female=True)
    )
    hospital = "H12010100001"  # level 2: special disease and the reformed level-2 outpatient programme (sample registry)
    # Registered at the start of 2021: registration's date moved there.
    assert (
        gateway.put(f"{REG}/admin/business-date", json={"date": "2021-03-01"}, headers=admin).status_code
        == 200
    )
    try:
        disease = {
            "person_id": registered,
            "disease": "diabetes",
            "certified_by": hospital,
            "treatment_facility": hospital,
        }
        made = poll(lambda: (r := gateway.post(f"{REG}/benefit-registrations/special-disease", json=disease, headers=clerk)).status_code == 201 and r,
                    what="registration to know the hospital")  # fmt: skip
        assert made.status_code == 201
        chosen = gateway.post(
            f"{REG}/benefit-registrations/resident-outpatient",
            json={"person_id": registered, "hospital_code": hospital},
            headers=clerk,
        )
        assert chosen.status_code == 201, chosen.text
    finally:
        assert (
            gateway.put(f"{REG}/admin/business-date", json={"date": None}, headers=admin).status_code == 200
        )
    poll(lambda: {e["kind"] for e in gateway.get(f"{CLAIMS}/persons/{registered}/eligibility", params={"on": "2021-05-20"},
                                                 headers=clerk).json().get("entitlements", [])} >= {"special_disease", "resident_outpatient"},
         what="claims to record the registrations")  # fmt: skip

    def claim(person: str, care_type: str) -> dict:
        receipt = {
            "number": f"MZ{uuid.uuid4().hex[:10]}",
            "issued_on": "2021-05-20",
            "amount": "1500.00",
            "in_scope": "1500.00",
            "out_of_scope": "0.00",
        }
        return {"person_id": person, "care_type": care_type, "facility_code": hospital, "service_from": "2021-05-20", "service_to": "2021-05-20",
                "receipts": [receipt], "channel": "counter", "bank_account": ACCOUNT, "materials": ["receipts", "itemised_bill", "prescriptions"]}  # fmt: skip

    def approved(body: dict) -> dict:
        filed = gateway.post(f"{CLAIMS}/reimbursements", json=body, headers=clerk)
        assert filed.status_code == 201, filed.text
        c = gateway.post(
            f"{CLAIMS}/reimbursements/{filed.json()['id']}/accept", json={"version": 1}, headers=clerk
        ).json()
        lines = [
            {"receipt": body["receipts"][0]["number"], "outcome": "accepted", "accepted_in_scope": "1500.00"}
        ]
        c = gateway.post(
            f"{CLAIMS}/reimbursements/{c['id']}/review", json={"version": 2, "lines": lines}, headers=clerk
        ).json()
        answer = gateway.post(f"{CLAIMS}/reimbursements/{c['id']}/approve", json={"version": 3}, headers=city)
        assert answer.status_code == 200, answer.text
        return answer.json()["bill"]

    refused(gateway.post(f"{CLAIMS}/reimbursements", json=claim(unregistered, "special_disease"), headers=clerk), 422,
            "special_disease_registration_required")  # fmt: skip
    special = approved(claim(registered, "special_disease"))
    assert (
        special["fund"] == "550.00"
    )  # (1,500 − 500) × 55 %, the level-2 special-disease ratio of the middle tier
    outpatient = approved(claim(registered, "outpatient_large"))
    assert (
        outpatient["fund"] == "500.00"
    )  # the registered reformed level-2 hospital paid as level 1: (1,500 − 500) × 50 %
    assert (
        approved(claim(unregistered, "outpatient_large"))["fund"] == "0.00"
    )  # level 2 without the registration: not paid


def test_the_family_doctor_benefit_is_settled_from_the_recorded_signing_never_from_the_request(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    clerk, admin = bearer(tokens["staff-heping"]), bearer(tokens["admin"])
    signed = covered_in_2021(gateway, tokens["staff-heping"], "120101", resident_id("120101", female=False))
    unsigned = covered_in_2021(gateway, tokens["staff-heping"], "120101", resident_id("120101", female=True))
    clinic = "H12010100003"  # level 1: a community health centre of 和平区 (sample registry)
    signing = {
        "person_id": signed,
        "facility_code": clinic,
        "doctor_name": "王医生",
        "signed_on": "2021-03-01",
    }
    assert (
        gateway.put(f"{REG}/admin/business-date", json={"date": "2021-03-01"}, headers=admin).status_code
        == 200
    )
    try:
        made = poll(lambda: (r := gateway.post(f"{REG}/benefit-registrations/family-doctor", json=signing, headers=clerk)).status_code == 201 and r,
                    what="registration to know the clinic")  # fmt: skip
        assert made.json()["kind"] == "family_doctor"
    finally:
        assert (
            gateway.put(f"{REG}/admin/business-date", json={"date": None}, headers=admin).status_code == 200
        )
    poll(lambda: "family_doctor" in {e["kind"] for e in gateway.get(f"{CLAIMS}/persons/{signed}/eligibility", params={"on": "2021-05-10"},
                                                                     headers=clerk).json().get("entitlements", [])},
         what="claims to record the signing")  # fmt: skip
    visit = {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 1,
             "care_type": "outpatient", "in_scope": "3000.00"}  # fmt: skip
    with_signing = gateway.post(
        f"{CLAIMS}/quote", json={**visit, "family_doctor_signed_on": "2021-03-01"}, headers=clerk
    ).json()
    without = gateway.post(f"{CLAIMS}/quote", json=visit, headers=clerk).json()
    assert float(with_signing["fund"]) > float(without["fund"])

    claimed = gateway.post(
        f"{CLAIMS}/persons/{unsigned}/settlements",
        json={
            **visit,
            "family_doctor_signed_on": "2021-03-01",
            "facility_code": clinic,
            "receipt_no": "JT-E2E-1",
        },
        headers=clerk,
    )
    refused(claimed, 422, "family_doctor_mismatch")
    year = gateway.get(f"{CLAIMS}/persons/{unsigned}/benefit-years/2021", headers=clerk).json()
    assert float(year["outpatient_fund_paid"]) == 0  # refused: nothing booked
    plain = gateway.post(
        f"{CLAIMS}/persons/{unsigned}/settlements",
        json={**visit, "facility_code": clinic, "receipt_no": "JT-E2E-1"},
        headers=clerk,
    )
    assert plain.status_code == 201 and plain.json()["fund"] == without["fund"], plain.text
    recorded = gateway.post(
        f"{CLAIMS}/persons/{signed}/settlements",
        json={**visit, "facility_code": clinic, "receipt_no": "JT-E2E-2"},
        headers=clerk,
    )
    assert recorded.status_code == 201 and recorded.json()["fund"] == with_signing["fund"], recorded.text
