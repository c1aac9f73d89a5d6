"""A pharmacy applies for designation and is designated, through the gateway (issue 4's journey):
asked for every missing document at once, supplements, accepted, reviewed, publicly noticed,
signs, appears in the public registry, and registration learns it as designated."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from shared.testing.e2e import bearer, business_today, covered_resident, poll

pytestmark = pytest.mark.e2e

ALL_SYSTEMS = [
    "insurance",
    "finance",
    "statistics",
    "quality",
    "insurance_drugs",
    "insurance_personnel",
    "settlement",
]


def pharmacy_facts(**changes) -> dict:  # type: ignore[no-untyped-def]
    today = business_today()
    facts = {
        "kind": "retail_pharmacy",
        "institution_type": None,
        "opened_on": (today - timedelta(days=400)).isoformat(),
        "pharmacists": [{"registered_here": True, "contract_months": 24}],
        "insurance_staff": [
            {"registered_here": False, "contract_months": 24},
            {"registered_here": False, "contract_months": 18},
        ],
        "systems": ALL_SYSTEMS,
        "information_system_connected": True,
        "uses_national_codes": True,
        "purchasing_platform": True,
        "equipment": ["video", "biometric", "drug_tracing"],
        "drug_zoning_and_labels": True,
    }
    return {**facts, **changes}


def submit(
    gateway: httpx.Client, token: str, facts: dict, materials: list[str], name: str = "天津示例大药房"
) -> httpx.Response:
    body = {
        "name": name,
        "district_code": "120103",
        "office_code": "120103",
        "facts": facts,
        "materials": materials,
    }
    return gateway.post("/api/v1/facility/applications", json=body, headers=bearer(token))


def step(gateway: httpx.Client, token: str, application: dict, action: str, **body) -> dict:  # type: ignore[no-untyped-def]
    response = gateway.post(
        f"/api/v1/facility/applications/{application['application']['id']}/{action}",
        json={"version": application["application"]["version"], **body},
        headers=bearer(token),
    )
    assert response.status_code == 200, f"{action}: {response.status_code} {response.text}"
    return response.json()


def test_a_pharmacy_is_designated_and_appears_in_the_registry(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    applicant, clerk, admin = tokens["pharmacy-applicant"], tokens["staff-hexi"], bearer(tokens["admin"])
    filed = submit(gateway, applicant, pharmacy_facts(), materials=[])
    assert filed.status_code == 201, filed.text
    application = filed.json()
    missing = application["missing_materials"]
    assert len(missing) >= 2 and application["unmet_conditions"] == []
    assert application["clock"]["working_days_left"] == 20 and not application["clock"]["paused"]

    # Every missing document told at once (一次性告知); the clock pauses meanwhile.
    partial = gateway.post(
        f"/api/v1/facility/applications/{application['application']['id']}/request-supplement",
        json={"version": 1, "missing": missing[:1]}, headers=bearer(clerk),
    )  # fmt: skip
    assert partial.status_code == 422, "a supplement request must list every missing document"
    application = step(gateway, clerk, application, "request-supplement", missing=missing)
    assert application["application"]["status"] == "supplement_requested"
    assert application["clock"]["paused"] and application["clock"]["pause_kind"] == "supplement"

    # Only the applicant supplements; others do not even see the application.
    assert (
        gateway.get(
            f"/api/v1/facility/applications/{application['application']['id']}",
            headers=bearer(tokens["facility-demo"]),
        ).status_code
        == 404
    )
    application = step(gateway, applicant, application, "supplement", materials=missing)
    assert application["application"]["status"] == "received" and application["missing_materials"] == []

    # Only staff of the applicant's district office decide.
    other_office = gateway.post(f"/api/v1/facility/applications/{application['application']['id']}/accept",
                                json={"version": application["application"]["version"]}, headers=bearer(tokens["staff-heping"]))  # fmt: skip
    assert other_office.status_code == 404
    city = gateway.post(f"/api/v1/facility/applications/{application['application']['id']}/accept",
                        json={"version": application["application"]["version"]}, headers=bearer(tokens["staff-city"]))  # fmt: skip
    assert city.status_code == 403
    application = step(gateway, clerk, application, "accept")
    assert application["application"]["status"] == "accepted"

    application = step(gateway, clerk, application, "start-review", reviewers=["专家甲", "专家乙", "专家丙"])
    assert application["clock"]["paused"] and application["clock"]["pause_kind"] == "expert_review"
    application = step(gateway, clerk, application, "review", reviewers=["专家甲", "专家乙", "专家丙"],
                       scores={"专家甲": 92, "专家乙": 88, "专家丙": 90}, conclusion="符合定点条件", passed=True)  # fmt: skip
    today = business_today()
    application = step(
        gateway, clerk, application, "public-notice", starts_on=today.isoformat(), ends_on=today.isoformat()
    )
    assert application["application"]["status"] == "public_notice"

    # The notice can close only after its last day: move the platform's business date a day on.
    assert (
        gateway.put(
            "/api/v1/admin/business-date",
            json={"date": (today + timedelta(days=1)).isoformat()},
            headers=admin,
        ).status_code
        == 200
    )
    try:
        application = step(gateway, clerk, application, "public-notice/close", objections=[], upheld=False)
        assert application["application"]["status"] == "agreement_pending"
        signed = gateway.post(
            f"/api/v1/facility/applications/{application['application']['id']}/agreement",
            json={"version": application["application"]["version"], "number": "JXYB-2026-0001",
                  "valid_from": (today + timedelta(days=1)).isoformat(), "valid_to": (today + timedelta(days=731)).isoformat(),
                  "parties": ["河西区医保分中心", "天津示例大药房"], "programmes": ["special_disease"]},
            headers=bearer(clerk),
        )  # fmt: skip
    finally:
        gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=admin)
    assert signed.status_code == 200, signed.text
    entry = signed.json()["registry_entry"]
    assert (
        entry["code"].startswith("P120103")
        and entry["status"] == "designated"
        and entry["kind"] == "retail_pharmacy"
    )
    steps = [s["action"] for s in signed.json()["application"]["application"]["steps"]]
    assert (
        steps[0] == "receive"
        and steps[-1] == "sign_agreement"
        and all(s["by"] for s in signed.json()["application"]["application"]["steps"])
    )

    public = gateway.get(
        "/api/v1/facility/public/registry",
        params={"kind": "retail_pharmacy", "district": "120103", "size": 100},
    ).json()
    assert entry["code"] in [e["code"] for e in public["items"]]

    # Registration learned of it by event and accepts it where a pharmacy may be chosen: as the
    # treatment pharmacy of an outpatient special disease certified by a designated hospital.
    person = covered_resident(gateway, clerk, "120103")
    body = {
        "disease": "diabetes",
        "certified_by": "H12010100001",
        "treatment_facility": entry["code"],
        "person_id": person,
    }
    registered = poll(lambda: (r := gateway.post(
        "/api/v1/registration/benefit-registrations/special-disease", json=body, headers=bearer(clerk),
    )).status_code == 201 and r, what="registration to learn the pharmacy")  # fmt: skip
    assert registered.json()["facility_codes"] == [entry["code"]]
    assert registered.json()["details"]["disease_name"] == "糖尿病"


def test_a_refusal_lists_every_unmet_condition(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    facts = pharmacy_facts(
        opened_on=(business_today() - timedelta(days=40)).isoformat(),
        pharmacists=[{"registered_here": True, "contract_months": 6}],
        insurance_staff=[{"registered_here": False, "contract_months": 24}],
        equipment=["video"],
    )
    filed = submit(gateway, tokens["pharmacy-applicant"], facts, materials=[], name="条件不足药房")
    assert filed.status_code == 201
    unmet = filed.json()["unmet_conditions"]
    assert len(unmet) >= 4, unmet
    application = filed.json()
    application = step(
        gateway,
        tokens["staff-hexi"],
        application,
        "request-supplement",
        missing=application["missing_materials"],
    )
    application = step(
        gateway,
        tokens["pharmacy-applicant"],
        application,
        "supplement",
        materials=application["missing_materials"] or ["申请表"],
    )
    refused = gateway.post(f"/api/v1/facility/applications/{application['application']['id']}/accept",
                           json={"version": application["application"]["version"]}, headers=bearer(tokens["staff-hexi"]))  # fmt: skip
    assert refused.status_code == 422 and refused.json()["code"] == "conditions_unmet"
    assert len(refused.json()["errors"]) == len(unmet)
    application = step(
        gateway, tokens["staff-hexi"], application, "refuse", reasons=[u["message"] for u in unmet]
    )
    assert application["application"]["status"] == "refused"


def test_bad_applications_are_4xx_and_save_nothing(gateway: httpx.Client, tokens: dict[str, str]) -> None:
    applicant = tokens["pharmacy-applicant"]
    listing = gateway.get("/api/v1/facility/applications", headers=bearer(applicant))
    assert listing.status_code == 200, listing.text
    before = listing.json()["total"]
    for bad in (
        {
            "name": "x",
            "district_code": "120103",
            "office_code": "120103",
            "facts": {"kind": "spaceship"},
            "materials": [],
        },
        {
            "name": "x",
            "district_code": "1201",
            "office_code": "120103",
            "facts": pharmacy_facts(),
            "materials": [],
        },
        {
            "name": "x",
            "district_code": "120103",
            "office_code": "999999",
            "facts": pharmacy_facts(),
            "materials": [],
        },
        {
            "name": "\u0000",
            "district_code": "120103",
            "office_code": "120103",
            "facts": pharmacy_facts(),
            "materials": [],
        },
        {
            "name": "x",
            "district_code": "120103",
            "office_code": "120103",
            "facts": pharmacy_facts(opened_on="yesterday"),
            "materials": [],
        },
    ):
        response = gateway.post("/api/v1/facility/applications", json=bad, headers=bearer(applicant))
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (
        gateway.post("/api/v1/facility/applications", json={}, headers=bearer(tokens["zhangsan"])).status_code
        == 403
    )
    assert gateway.get("/api/v1/facility/applications", headers=bearer(applicant)).json()["total"] == before


def test_an_unanswered_application_raises_one_overdue_alert(
    gateway: httpx.Client, tokens: dict[str, str], test_servers
) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import time

    import asyncpg

    from shared.events.relay import asyncpg_dsn

    filed = submit(gateway, tokens["pharmacy-applicant"], pharmacy_facts(), materials=[], name="无人答复药房")
    assert filed.status_code == 201
    application_id = filed.json()["application"]["id"]
    due = date.fromisoformat(filed.json()["clock"]["due_date"])
    admin = bearer(tokens["admin"])

    async def alerts() -> list[str]:
        conn = await asyncpg.connect(asyncpg_dsn(test_servers.admin_url))
        try:
            rows = await conn.fetch(
                "SELECT envelope->'payload'->>'limit' AS limit FROM facility.outbox "
                "WHERE event_type = 'facility.reply_overdue' AND envelope->'payload'->>'application_id' = $1",
                application_id,
            )
            return sorted(r["limit"] for r in rows)
        finally:
            await conn.close()

    assert asyncio.run(alerts()) == []
    day_after_due = (due + timedelta(days=1)).isoformat()
    assert (
        gateway.put("/api/v1/admin/business-date", json={"date": day_after_due}, headers=admin).status_code
        == 200
    )
    try:
        view = gateway.get(
            f"/api/v1/facility/applications/{application_id}", headers=bearer(tokens["staff-hexi"])
        ).json()
        assert view["clock"]["overdue"] is True and view["clock"]["working_days_left"] == 0
        poll(lambda: asyncio.run(alerts()) == ["reply_20_working_days"], what="the overdue alert")
        time.sleep(3)  # several more scans (one a second): still one alert
        assert asyncio.run(alerts()) == ["reply_20_working_days"]
    finally:
        gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=admin)


def test_an_internet_hospital_is_accepted_only_through_a_designated_physical_hospital(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    today = business_today()
    base = {
        "kind": "medical_institution", "institution_type": "internet_hospital", "opened_on": (today - timedelta(days=400)).isoformat(),
        "first_registered_physicians": 3, "insurance_staff": [{"registered_here": False, "contract_months": 24, "full_time": True}],
        "responsible_head": True, "systems": ALL_SYSTEMS, "information_system_connected": True, "uses_national_codes": True,
        "purchasing_platform": True, "equipment": ["video", "biometric", "drug_tracing"],
    }  # fmt: skip
    clerk = tokens["staff-hexi"]

    def accept_with(physical: str) -> httpx.Response:
        filed = submit(
            gateway,
            tokens["pharmacy-applicant"],
            {**base, "physical_hospital_code": physical},
            materials=[],
            name="示例互联网医院",
        )
        assert filed.status_code == 201, filed.text
        application = filed.json()
        if application["missing_materials"]:
            application = step(
                gateway, clerk, application, "request-supplement", missing=application["missing_materials"]
            )
            application = step(
                gateway,
                tokens["pharmacy-applicant"],
                application,
                "supplement",
                materials=application["missing_materials"] or ["x"],
            )
        return gateway.post(f"/api/v1/facility/applications/{application['application']['id']}/accept",
                            json={"version": application["application"]["version"]}, headers=bearer(clerk))  # fmt: skip

    refused = accept_with("H12010399999")
    assert refused.status_code == 422 and refused.json()["code"] == "physical_hospital_not_designated"
    accepted = accept_with("H12010100001")
    assert accepted.status_code == 200, accepted.text
