"""The State Council's 2027 holiday notice through the gateway: before it, 2027's New Year's Day and Spring
Festival are already days off but provisional, and a claim accepted in January 2027 has a provisional due
date; an admin drafts the notice, a second admin publishes it, every service receives it, the claim's due
date moves to the exact one, and the gateway's public calendar answers exactly too."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import httpx
import pytest

from shared.calendar import NamedDay, WorkingCalendar, YearTable
from shared.events.relay import asyncpg_dsn
from shared.testing.e2e import bearer, covered_in_2021, new_resident_id, poll

pytestmark = pytest.mark.e2e

NOTICES = "/api/v1/claims/calendar/notices"
CLAIMS = "/api/v1/claims/reimbursements"
OFFICE = "120101"
ACCEPTED_ON = date(2027, 1, 15)
# Spring Festival 2027: the statutory days are 02-05 (除夕) to 02-08; the notice adds 02-09..02-12 and has two
# Saturdays worked. (An illustration: the real 2027 notice is not out yet.)
NOTICE_2027 = {
    "year": 2027,
    "source": "国办发明电〔2026〕（端到端测试）",
    "holidays": [{"date": f"2027-02-{d:02d}", "name": "春节"} for d in range(9, 13)],
    "workdays": [{"date": "2027-01-30", "name": "春节"}, {"date": "2027-02-20", "name": "春节"}],
}


def exact_due_date() -> date:
    table = YearTable(
        year=2027, source=NOTICE_2027["source"],
        holidays=[NamedDay.model_validate(d) for d in NOTICE_2027["holidays"]],
        workdays=[NamedDay.model_validate(d) for d in NOTICE_2027["workdays"]],
    )  # fmt: skip
    return WorkingCalendar([table]).add_working_days(ACCEPTED_ON, 30).date


async def inboxes_holding_the_notice(admin_url: str) -> list[str]:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        found = []
        for service in ("claims", "facility", "registration", "settlement", "transfer"):
            count = await connection.fetchval(
                f"SELECT count(*) FROM {service}.inbox WHERE event_type = 'calendar.notice_published'"
            )
            if count:
                found.append(service)
        return found
    finally:
        await connection.close()


def test_publishing_the_2027_notice_makes_the_year_exact_and_moves_a_provisional_due_date(  # type: ignore[no-untyped-def]
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:
    heping, admin, admin2 = bearer(tokens["staff-heping"]), bearer(tokens["admin"]), bearer(tokens["admin2"])
    for day in ("2027-01-01", "2027-02-05", "2027-02-06", "2027-02-08"):  # New Year's Day, 除夕 … 初三
        answer = gateway.get(f"/api/v1/calendar/days/{day}").json()
        assert (answer["working_day"], answer["provisional"]) == (False, True), answer

    person = covered_in_2021(gateway, tokens["staff-heping"], OFFICE, new_resident_id(OFFICE), "待通知者")
    receipt = {"number": "ZYHN2027", "issued_on": "2021-05-20", "amount": "1200.00", "in_scope": "1000.00",
               "out_of_scope": "200.00"}  # fmt: skip
    filed = gateway.post(CLAIMS, headers=heping, json={
        "person_id": person, "care_type": "inpatient", "facility_code": "H12010100002", "service_from": "2021-05-10",
        "service_to": "2021-05-20", "receipts": [receipt], "bank_account": "6222021234567890123",
        "materials": ["receipts", "itemised_bill", "diagnosis", "discharge_summary"]})  # fmt: skip
    assert filed.status_code == 201, filed.text
    moved = gateway.put("/api/v1/admin/business-date", json={"date": ACCEPTED_ON.isoformat()}, headers=admin)
    assert moved.status_code == 200, moved.text
    try:
        claim = gateway.post(
            f"{CLAIMS}/{filed.json()['id']}/accept", json={"version": 1}, headers=heping
        ).json()
        provisional_due = date.fromisoformat(claim["expected_payment_by"])
        assert claim["expected_payment_provisional"] is True
        assert provisional_due != exact_due_date()  # the notice's bridging days outweigh its worked Saturdays

        drafted = gateway.post(NOTICES, json=NOTICE_2027, headers=admin)
        assert drafted.status_code == 201, drafted.text
        own = gateway.post(f"{NOTICES}/{drafted.json()['id']}/publish", json={}, headers=admin)
        assert own.status_code == 403 and own.json()["code"] == "four_eyes"
        published = gateway.post(
            f"{NOTICES}/{drafted.json()['id']}/publish", json={"note": "与原文核对"}, headers=admin2
        )
        assert published.status_code == 200, published.text
        assert (published.json()["status"], published.json()["version"]) == ("published", 1)

        def due_now() -> dict | None:
            answer = gateway.get(f"{CLAIMS}/{claim['id']}", headers=heping).json()
            return None if answer["expected_payment_provisional"] else answer

        recomputed = poll(due_now, timeout_s=30, what="the claim's due date to be recomputed")
        assert date.fromisoformat(recomputed["expected_payment_by"]) == exact_due_date()
        assert date.fromisoformat(recomputed["expected_payment_by"]) > provisional_due

        def gateway_calendar_knows_it() -> dict | None:
            answer = gateway.get("/api/v1/calendar/days/2027-02-09").json()
            return None if answer["provisional"] else answer

        bridging = poll(
            gateway_calendar_knows_it, timeout_s=30, what="the gateway's public calendar to load the notice"
        )
        assert (bridging["working_day"], bridging["reason"]) == (False, "春节")
        worked = gateway.get("/api/v1/calendar/days/2027-01-30").json()
        assert (worked["working_day"], worked["provisional"], worked["reason"]) == (
            True,
            False,
            "调休上班（春节）",
        )
        assert gateway.get("/api/v1/calendar/days/2027-01-01").json()["provisional"] is False

        def every_service_has_it() -> list[str] | None:
            found = asyncio.run(inboxes_holding_the_notice(test_servers.admin_url))
            return found if len(found) == 5 else None

        reached = poll(
            every_service_has_it, timeout_s=30, what="every service to receive calendar.notice_published"
        )
        assert reached == ["claims", "facility", "registration", "settlement", "transfer"]
    finally:
        gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=admin)
