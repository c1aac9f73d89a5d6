"""The outgoing office (转出地): the 参保凭证 says what the records say, and one certificate leads to one
transfer out whatever the incoming offices send."""

from __future__ import annotations

import uuid
from datetime import date

from shared.testing.e2e import new_resident_id as new_person
from svc_transfer.interop.protocol import MessageType

CERTIFICATES = "/api/v1/transfer/certificates"


def issue(office, id_number: str, headers: dict[str, str] | None = None, **extra):  # type: ignore[no-untyped-def]
    body = {"person": {"id_number": id_number, "name": "迁移人"}, **extra}
    return office.client.post(CERTIFICATES, json=body, headers=headers or office.staff())


def letter(id_number: str, number: str) -> dict:
    return {
        "person": {"id_type": "resident_id", "id_number": id_number, "name": "迁移人"},
        "certificate_number": number,
        "receiving_office": "130202",
        "receiving_office_name": "唐山市路北区医疗保障经办机构",
        "letter_date": date.today().isoformat(),
    }


def outgoing_cases(office, number: str) -> list[dict]:
    items = office.client.get(
        "/api/v1/transfer/transfers", params={"size": 100}, headers=office.staff()
    ).json()["items"]
    return [c for c in items if c["side"] == "outgoing" and c["certificate"]["number"] == number]


def stopped_person(office, district: str = "120101", start: date = date(2026, 3, 1)) -> str:
    id_number = new_person(district)
    office.covered(id_number, district, start, date(2026, 12, 31), stopped_on=date(2026, 11, 30))
    return id_number


def test_a_certificate_states_the_coverage_on_record_and_never_the_clerks_figures(office) -> None:
    id_number = stopped_person(office, start=date(2026, 3, 1))  # enrolled in March 2026
    typed = issue(
        office, id_number, scheme="employee", account_balance="99999.00",
        history=[{"start": "2009-01", "end": "2025-12", "unit_name": "某公司"}],
    )  # fmt: skip
    assert typed.status_code == 422, typed.text  # coverage and balance are not the clerk's to type
    assert typed.headers["content-type"].startswith("application/problem+json")
    issued = issue(office, id_number, note="单位停保，调往唐山工作")
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    assert certificate["contribution_months"] == 9  # March to November 2026, not 204
    assert [(p["start"], p["end"], p["months"]) for p in certificate["history"]] == [
        ("2026-03", "2026-11", 9)
    ]
    assert certificate["scheme"] == "resident" and certificate["coverage_ended_on"] == "2026-11-30"
    # No personal account has a record here yet: the certificate says so instead of stating a number.
    assert certificate["account_balance"] == "0.00" and certificate["account_balance_stated"] is False
    assert "个人账户" in certificate["account_balance_note"]
    assert certificate["note"] == "单位停保，调往唐山工作"


def test_the_same_stopped_coverage_gets_one_certificate_and_reissues_of_it(office) -> None:
    id_number = stopped_person(office)
    first = issue(office, id_number)
    assert first.status_code == 201, first.text
    again = issue(office, id_number)
    assert again.status_code == 409 and again.json()["code"] == "certificate_already_issued", again.text
    assert first.json()["number"] in again.json()["detail"]


def test_a_district_clerk_fetches_the_certificate_they_issued_stamped_with_their_office(office) -> None:
    id_number = stopped_person(office, district="120102")
    clerk = office.staff("120102", "district")
    issued = issue(office, id_number, headers=clerk)
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    assert issued.json()["office_code"] == "120102" and number.startswith("120000")
    assert office.client.get(f"{CERTIFICATES}/{number}", headers=clerk).status_code == 200
    assert office.client.get(f"{CERTIFICATES}/{number}/document.pdf", headers=clerk).status_code == 200
    assert (
        office.client.get(f"{CERTIFICATES}/{number}", headers=office.staff("120103", "district")).status_code
        == 404
    )


def test_a_clerk_of_another_district_learns_nothing_of_a_person_covered_elsewhere(office) -> None:
    id_number = new_person("120101")
    office.covered(id_number, "120101", date(2026, 1, 1), date(2026, 12, 31))  # still covered in 和平
    other = issue(office, id_number, headers=office.staff("120103", "district"))
    assert other.status_code == 404, other.text  # not 409 coverage_not_ended: that would reveal the person
    own = issue(office, id_number, headers=office.staff("120101", "district"))
    assert own.status_code == 409 and own.json()["code"] == "coverage_not_ended"


def test_two_letters_with_different_references_for_one_certificate_move_the_money_once(office) -> None:
    id_number = stopped_person(office)
    number = issue(office, id_number).json()["number"]
    first, second = uuid.uuid4(), uuid.uuid4()
    assert office.send(MessageType.letter, first, letter(id_number, number)).status_code == 200
    answer = office.send(MessageType.letter, second, letter(id_number, number))
    assert answer.status_code == 200, answer.text
    cases = {c["transfer_ref"]: c for c in outgoing_cases(office, number)}
    assert cases[str(first)]["status"] == "letter_received"
    assert (
        cases[str(second)]["status"] == "rejected"
        and cases[str(second)]["reason_code"] == "already_transferred"
    )
    rejections = office.outbox(transfer_ref=second, type="rejection")
    assert [r.body["reason_code"] for r in rejections] == ["already_transferred"]
    for case in cases.values():  # staff try to answer every case: only the open one moves money
        office.client.post(
            f"/api/v1/transfer/transfers/{case['id']}/send-table",
            json={"version": case["version"], "fund_reference": f"BANK-{case['transfer_ref'][:8]}"},
            headers=office.staff(),
        )
    funds = [r for r in office.outbox(type="fund_transfer") if r.transfer_ref in (first, second)]
    tables = [r for r in office.outbox(type="information_table") if r.body["certificate_number"] == number]
    assert len(funds) == 1 and len(tables) == 1 and funds[0].transfer_ref == first
    # A third letter after the transfer out is answered the same way.
    third = uuid.uuid4()
    assert office.send(MessageType.letter, third, letter(id_number, number)).status_code == 200
    assert [r.body["reason_code"] for r in office.outbox(transfer_ref=third, type="rejection")] == [
        "already_transferred"
    ]


def test_a_letter_for_a_certificate_applied_for_online_is_refused(office) -> None:
    """Whatever the procedure: the person applied here online to go to the peer, then a letter arrives."""
    id_number = stopped_person(office)
    number = issue(office, id_number).json()["number"]
    office.work(lambda uow: _open_outgoing_online(uow, number))
    ref = uuid.uuid4()
    assert office.send(MessageType.letter, ref, letter(id_number, number)).status_code == 200
    assert [r.body["reason_code"] for r in office.outbox(transfer_ref=ref, type="rejection")] == [
        "already_transferred"
    ]


async def _open_outgoing_online(uow, number: str) -> None:  # type: ignore[no-untyped-def]
    """An outgoing case for the certificate as the online procedure opens it (no letter)."""
    from svc_transfer.domain.profiles import PROFILES
    from svc_transfer.domain.transfer import Certificate, new_outgoing
    from svc_transfer.repository import certificates, transfers

    certificate = await certificates.get(uow.session, number)
    assert certificate is not None
    facts = Certificate(certificate.number, "120000", certificate.coverage_ended_on, certificate.contribution_months,
                        certificate.account_balance)  # fmt: skip
    case = new_outgoing(
        transfer_ref=uuid.uuid4(), person_id=certificate.person_id, person=certificate.person, certificate=facts,
        peer_office="130200", profile=PROFILES["national_2021_online"], today=uow.clock.today(), at=uow.clock.now(),
        applied_by="p-1",
    )  # fmt: skip
    await transfers.add(uow.session, case)
