"""The facility registry through the gateway: public search, and registration accepting only
designated institutions it learned of by event (a suspended hospital is refused)."""

from __future__ import annotations

import httpx
import pytest

from shared.testing.e2e import bearer, business_today, covered_resident, poll

pytestmark = pytest.mark.e2e

DEMO_HOSPITAL = "H12010100001"


def test_the_public_registry_answers_without_a_token(gateway: httpx.Client) -> None:
    page = gateway.get("/api/v1/facility/public/registry", params={"district": "120101", "size": 100})
    assert page.status_code == 200
    codes = [e["code"] for e in page.json()["items"]]
    assert DEMO_HOSPITAL in codes
    assert all(e["status"] == "designated" and e["district_code"] == "120101" for e in page.json()["items"])
    one = gateway.get(f"/api/v1/facility/public/registry/{DEMO_HOSPITAL}").json()
    assert one["level"] == 2 and "reformed_level2_outpatient" in one["programmes"]
    by_level = gateway.get("/api/v1/facility/public/registry", params={"level": 3, "size": 100}).json()
    assert by_level["total"] >= 1 and all(e["level"] == 3 for e in by_level["items"])
    assert gateway.get("/api/v1/facility/public/registry", params={"level": 9}).status_code == 422
    assert gateway.get("/api/v1/facility/public/registry/H99999999999").status_code == 404


def test_registration_accepts_a_designated_hospital_and_refuses_unknown_and_suspended_ones(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    clerk = bearer(tokens["staff-hexi"])
    person = covered_resident(gateway, tokens["staff-hexi"], "120103")

    def choose(code: str) -> httpx.Response:
        body = {"hospital_code": code, "person_id": person}
        return gateway.post(
            "/api/v1/registration/benefit-registrations/resident-outpatient", json=body, headers=clerk
        )

    unknown = choose("H12010199999")
    assert unknown.status_code == 422 and unknown.json()["code"] == "facility_unknown"

    first = poll(
        lambda: (r := choose(DEMO_HOSPITAL)).status_code == 201 and r,
        what="the registry to reach registration",
    )
    assert first.json()["facility_codes"] == [DEMO_HOSPITAL] and first.json()["status"] == "active"

    # Another reformed level-2 hospital: choosing it replaces the first (changes are unlimited).
    candidates = gateway.get(
        "/api/v1/facility/public/registry",
        params={"programme": "reformed_level2_outpatient", "level": 2, "size": 100},
    ).json()["items"]
    other = next(e for e in candidates if e["code"] != DEMO_HOSPITAL)
    second = poll(lambda: (r := choose(other["code"])).status_code == 201 and r, what="the second hospital")
    replaced = gateway.get(
        f"/api/v1/registration/benefit-registrations/{first.json()['id']}", headers=clerk
    ).json()
    assert replaced["status"] == "replaced" and replaced["replaced_by"] == second.json()["id"]

    # City-level staff suspend that hospital; registration learns it and refuses new choices of it.
    suspended = gateway.post(
        f"/api/v1/facility/registry/{other['code']}/suspend",
        json={"reason": "违规使用医保基金，暂停协议", "version": other["version"]},
        headers=bearer(tokens["staff-city"]),
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    refused = poll(
        lambda: (r := choose(other["code"])).status_code == 422 and r,
        what="the suspension to reach registration",
    )
    assert refused.json()["code"] == "facility_not_designated"
    assert DEMO_HOSPITAL in [
        e["code"]
        for e in gateway.get("/api/v1/facility/public/registry", params={"size": 100}).json()["items"]
    ]
    assert other["code"] not in [
        e["code"]
        for e in gateway.get("/api/v1/facility/public/registry", params={"size": 100}).json()["items"]
    ]


def test_a_level_3_hospital_is_not_a_reformed_level_2_outpatient_hospital(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    person = covered_resident(gateway, tokens["staff-hexi"], "120103")
    level3 = gateway.get(
        "/api/v1/facility/public/registry", params={"level": 3, "kind": "medical_institution"}
    ).json()["items"][0]
    response = poll(
        lambda: (r := gateway.post(
            "/api/v1/registration/benefit-registrations/resident-outpatient",
            json={"hospital_code": level3["code"], "person_id": person}, headers=bearer(tokens["staff-hexi"]),
        )).json().get("code") != "facility_unknown" and r,
        what="the level-3 hospital to reach registration",
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["code"] in ("facility_programme_missing", "facility_level_mismatch")


def test_only_staff_of_the_office_or_the_city_suspend_and_with_the_current_version(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    entry = gateway.get(f"/api/v1/facility/public/registry/{DEMO_HOSPITAL}").json()
    body = {"reason": "测试暂停", "version": entry["version"]}
    assert (
        gateway.post(
            f"/api/v1/facility/registry/{DEMO_HOSPITAL}/suspend",
            json=body,
            headers=bearer(tokens["staff-hexi"]),
        ).status_code
        == 404
    )
    assert (
        gateway.post(
            f"/api/v1/facility/registry/{DEMO_HOSPITAL}/suspend",
            json=body,
            headers=bearer(tokens["zhangsan"]),
        ).status_code
        == 403
    )
    stale = gateway.post(
        f"/api/v1/facility/registry/{DEMO_HOSPITAL}/suspend",
        json={**body, "version": entry["version"] + 5},
        headers=bearer(tokens["staff-heping"]),
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"


def test_the_business_date_moves_on_every_service_and_back(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["admin"])
    assert (
        gateway.put(
            "/api/v1/admin/business-date", json={"date": "2026-12-31"}, headers=bearer(tokens["staff-city"])
        ).status_code
        == 403
    )
    moved = gateway.put("/api/v1/admin/business-date", json={"date": "2026-12-31"}, headers=admin)
    assert moved.status_code == 200, moved.text
    try:
        replicas = moved.json()["replicas"]
        assert len(replicas) == 5 and all(r["date"] == "2026-12-31" for r in replicas.values())
        assert gateway.get("/api/v1/claims/admin/business-date", headers=admin).json()["date"] == "2026-12-31"
    finally:
        back = gateway.put("/api/v1/admin/business-date", json={"date": None}, headers=admin)
        assert back.status_code == 200
    assert gateway.get("/api/v1/claims/admin/business-date", headers=admin).json() == {
        "date": business_today().isoformat(),
        "overridden": False,
    }


def test_changes_of_a_registry_record_reach_registration_and_are_recorded(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    clerk, city = bearer(tokens["staff-hexi"]), bearer(tokens["staff-city"])
    person = covered_resident(gateway, tokens["staff-hexi"], "120103")
    candidates = gateway.get(
        "/api/v1/facility/public/registry",
        params={"programme": "reformed_level2_outpatient", "level": 2, "size": 100},
    ).json()["items"]
    hospital = next(e for e in candidates if e["code"] != DEMO_HOSPITAL)

    def choose() -> httpx.Response:
        body = {"hospital_code": hospital["code"], "person_id": person}
        return gateway.post(
            "/api/v1/registration/benefit-registrations/resident-outpatient", json=body, headers=clerk
        )

    poll(lambda: choose().status_code == 201, what="registration to know the hospital")
    programmes = [p for p in hospital["programmes"] if p != "reformed_level2_outpatient"]
    changed = gateway.patch(f"/api/v1/facility/registry/{hospital['code']}",
                            json={"programmes": programmes, "reason": "不再承担居民门诊统筹", "version": hospital["version"]}, headers=city)  # fmt: skip
    assert changed.status_code == 200 and "reformed_level2_outpatient" not in changed.json()["programmes"]
    refused = poll(lambda: (r := choose()).status_code == 422 and r, what="the change to reach registration")
    assert refused.json()["code"] == "facility_programme_missing"

    restored = gateway.patch(f"/api/v1/facility/registry/{hospital['code']}",
                             json={"programmes": hospital["programmes"], "reason": "恢复", "version": changed.json()["version"]}, headers=city)  # fmt: skip
    suspended = gateway.post(f"/api/v1/facility/registry/{hospital['code']}/suspend",
                             json={"reason": "暂停检查", "version": restored.json()["version"]}, headers=city)  # fmt: skip
    reinstated = gateway.post(f"/api/v1/facility/registry/{hospital['code']}/reinstate",
                              json={"reason": "整改完成", "version": suspended.json()["version"]}, headers=city)  # fmt: skip
    assert reinstated.status_code == 200 and reinstated.json()["status"] == "designated"
    poll(lambda: choose().status_code == 201, what="the reinstated hospital to be accepted again")

    valid_to = reinstated.json()["agreement_valid_to"]
    later = f"{int(valid_to[:4]) + 2}{valid_to[4:]}" if valid_to else "2030-12-31"
    renewed = gateway.post(f"/api/v1/facility/registry/{hospital['code']}/renew",
                           json={"valid_to": later, "reason": "到期前续签", "version": reinstated.json()["version"]}, headers=city)  # fmt: skip
    assert renewed.status_code == 200 and renewed.json()["agreement_valid_to"] == later

    history = gateway.get(f"/api/v1/facility/registry/{hospital['code']}/history", headers=city).json()[
        "items"
    ]
    assert [h["change"] for h in history][-5:] == ["changed", "changed", "suspended", "reinstated", "renewed"]
    assert all(h["by"] == "staff-city" and h["reason"] for h in history[-5:])
    assert (
        gateway.get(
            f"/api/v1/facility/registry/{hospital['code']}/history", headers=bearer(tokens["lisi"])
        ).status_code
        == 403
    )


def test_the_directory_lists_every_tianjin_sub_centre_and_the_catalogue_answers(
    gateway: httpx.Client,
) -> None:
    districts = gateway.get(
        "/api/v1/facility/offices", params={"region": "天津市", "level": "district"}
    ).json()["items"]
    assert len(districts) == 21
    heping = gateway.get("/api/v1/facility/offices/120101").json()
    assert heping["name"] == "和平分中心" and heping["address"] and heping["hours"]
    assert gateway.get("/api/v1/facility/offices/999999").status_code == 404
    online = gateway.get("/api/v1/facility/catalogue", params={"flag": "online"}).json()["items"]
    assert online and all("online" in item["flags"] for item in online)
    item = gateway.get(f"/api/v1/facility/catalogue/{online[0]['id']}").json()
    assert item["time_limit"]["kind"] in ("immediate", "working_days", "months", "none")


def test_a_special_disease_registration_takes_designated_facilities_and_changes_its_pharmacy(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    clerk = bearer(tokens["staff-hexi"])
    person = covered_resident(gateway, tokens["staff-hexi"], "120103")
    treating = gateway.get(
        "/api/v1/facility/public/registry", params={"programme": "special_disease", "size": 100}
    ).json()["items"]
    pharmacies = [e["code"] for e in treating if e["kind"] == "retail_pharmacy"]
    body = {
        "disease": "dialysis",
        "certified_by": DEMO_HOSPITAL,
        "treatment_facility": DEMO_HOSPITAL,
        "person_id": person,
    }
    first = poll(lambda: (r := gateway.post("/api/v1/registration/benefit-registrations/special-disease", json=body, headers=clerk)).status_code == 201 and r,
                 what="registration to know the hospitals")  # fmt: skip
    assert first.json()["details"] == {
        "disease": "dialysis",
        "disease_name": "肾透析治疗",
        "certified_by": DEMO_HOSPITAL,
        "recertify_on_return": False,
    }
    if pharmacies:
        changed = poll(lambda: (r := gateway.post(f"/api/v1/registration/benefit-registrations/{first.json()['id']}/treatment-facility",
                                                  json={"treatment_facility": pharmacies[0]}, headers=clerk)).status_code == 200 and r,
                       what="the pharmacy to be known")  # fmt: skip
        assert (
            changed.json()["facility_codes"] == [pharmacies[0]]
            and changed.json()["details"]["disease"] == "dialysis"
        )
        old = gateway.get(
            f"/api/v1/registration/benefit-registrations/{first.json()['id']}", headers=clerk
        ).json()
        assert old["status"] == "replaced" and old["replaced_by"] == changed.json()["id"]
    bad = gateway.post(
        "/api/v1/registration/benefit-registrations/special-disease",
        json={**body, "disease": "flu"},
        headers=clerk,
    )
    assert bad.status_code == 422 and any("disease" in e["field"] for e in bad.json()["errors"])


REGISTRY = "/api/v1/facility/public/registry"


def every_entry(gateway: httpx.Client, **params: object) -> list[dict]:
    entries: list[dict] = []
    while len(entries) < (page := gateway.get(REGISTRY, params={**params, "size": 100, "page": len(entries) // 100 + 1}).json())["total"]:  # fmt: skip
        entries += page["items"]
    return entries


def test_the_registry_search_takes_a_name_literally_and_counts_past_its_last_page(
    gateway: httpx.Client,
) -> None:
    designated = every_entry(gateway)
    part = designated[0]["name"][1:3]
    by_name = gateway.get(REGISTRY, params={"name": part, "size": 100}).json()
    assert by_name["total"] == sum(part in e["name"] for e in designated) >= 1
    assert all(part in e["name"] for e in by_name["items"])
    for wildcard in ("%", "_", "/"):  # no name holds them: taken as characters, not patterns
        assert gateway.get(REGISTRY, params={"name": wildcard}).json()["total"] == 0
    past = gateway.get(REGISTRY, params={"size": 1, "page": len(designated) + 1}).json()
    assert past["items"] == [] and past["total"] == len(designated)
    level_3 = gateway.get(REGISTRY, params={"level": 3, "kind": "medical_institution", "size": 100}).json()
    assert level_3["total"] == sum(e["level"] == 3 and e["kind"] == "medical_institution" for e in designated)
