"""Who sees transfer cases: the person, their unit, and staff of the office handling the case."""

from __future__ import annotations

from datetime import date

from shared.auth import Role
from shared.testing.e2e import new_resident_id as new_person

TRANSFERS = "/api/v1/transfer/transfers"


def a_case(office, district: str) -> dict:
    id_number = new_person("130202")
    office.covered(id_number, district, date(2026, 1, 1), date(2026, 12, 31))
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "certificate": {"number": "1302002026000099", "issuing_office": "130200", "coverage_ended_on": "2025-12-31",
                        "contribution_months": 12, "account_balance": "100.00"},
    }  # fmt: skip
    created = office.client.post(TRANSFERS, json=body, headers=office.person_token(id_number))
    assert created.status_code == 201, created.text
    return created.json()


def listed(office, headers: dict[str, str]) -> tuple[int, set[str]]:
    answer = office.client.get(TRANSFERS, params={"size": 100}, headers=headers)
    return answer.status_code, {
        c["id"] for c in answer.json().get("items", [])
    } if answer.status_code == 200 else set()


def test_the_case_list_shows_no_case_to_ops_facilities_or_staff_of_another_office(office) -> None:
    case = a_case(office, "120101")
    token = office.harness.token
    callers = {
        "ops": token(Role.ops),
        "facility": token(Role.facility, facility_id="H12010100001"),
        "facility without a facility": token(Role.facility),
        "unit without a unit": token(Role.unit),
        "district staff of 河西": office.staff("120103", "district"),
        "city staff of Tangshan": office.staff("130200", "city"),
        "staff without an office": token(Role.staff),
    }
    for who, headers in callers.items():
        status, ids = listed(office, headers)
        assert status in (200, 403) and case["id"] not in ids, who
    assert listed(office, token(Role.ops))[0] == 403 and listed(office, token(Role.facility))[0] == 403
    assert case["id"] in listed(office, office.staff("120101", "district"))[1]
    assert case["id"] in listed(office, office.staff())[1]
    # The same callers cannot open the case either: it does not exist for them.
    for who, headers in callers.items():
        assert office.client.get(f"{TRANSFERS}/{case['id']}", headers=headers).status_code in (403, 404), who


def test_another_offices_case_is_404_before_any_state_or_version_check(office) -> None:
    case = a_case(office, "120101")
    bodies = {
        "accept": {}, "refuse": {"reason_code": "materials_incomplete"}, "send-letter": {}, "complete": {},
        "send-table": {"fund_reference": "BANK-0001"}, "confirm-funds": {"amount_received": "1.00", "note": "核对"},
    }  # fmt: skip
    for action, body in bodies.items():  # a valid body, a wrong version, a state that does not allow it
        answer = office.client.post(
            f"{TRANSFERS}/{case['id']}/{action}",
            json={"version": 99, **body},
            headers=office.staff("120103", "district"),
        )
        assert answer.status_code == 404, (action, answer.text)  # not 409 version_conflict nor 422


def test_staff_file_an_application_only_for_a_person_covered_at_an_office_they_serve(office) -> None:
    id_number = new_person("130202")
    office.covered(id_number, "120101", date(2026, 1, 1), date(2026, 12, 31))
    body = {
        "person": {"id_number": id_number, "name": "迁移人"},
        "certificate": {"number": "1302002026000098", "issuing_office": "130200", "coverage_ended_on": "2025-12-31",
                        "contribution_months": 12, "account_balance": "100.00"},
    }  # fmt: skip
    other = office.client.post(TRANSFERS, json=body, headers=office.staff("120103", "district"))
    assert other.status_code == 404, other.text
