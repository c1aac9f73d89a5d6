"""Benefit policies as administered data: drafted by one admin, published by a second, in force by date."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from shared.auth import Role
from shared.testing.service_app import in_schema
from svc_claims.repository.policies import POLICY_DIR, deployment_region, recent_policy_in_force, use_region

pytestmark = pytest.mark.integration

API = "/api/v1/claims/policies"
QUOTE = "/api/v1/claims/quote"
TIANJIN_2021 = json.loads((POLICY_DIR / "tianjin-resident-2021.json").read_text(encoding="utf-8"))


def document(year: int, region: str = "120000", level2_middle: str = "0.75", **extra) -> dict:  # type: ignore[no-untyped-def]
    """The 2021 Tianjin rules as a sample version of another year or region, one ratio changed."""
    doc = copy.deepcopy(TIANJIN_2021)
    doc.update(year=year, region=region, sample=True, title=f"示例政策 {region} {year}", **extra)
    doc.pop("version")
    doc["basic"]["inpatient_ratios"]["by_level"]["2"]["adult_middle"] = level2_middle
    return doc


def admin(name: str, claims) -> dict:  # type: ignore[no-untyped-def]
    return claims.token(Role.admin, subject=name)


def quote(claims, service_date: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"scheme": "resident", "tier": "adult_middle", "service_date": service_date, "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", **extra}  # fmt: skip
    response = claims.client.post(QUOTE, json=body, headers=claims.token())
    assert response.status_code == 200, response.text
    return response.json()


def draft_and_publish(claims, doc: dict, drafter: str = "admin-a", publisher: str = "admin-b") -> dict:  # type: ignore[no-untyped-def]
    drafted = claims.client.post(API, json=doc, headers=admin(drafter, claims))
    assert drafted.status_code == 201, drafted.text
    published = claims.client.post(
        f"{API}/{drafted.json()['id']}/publish", json={"note": "核对无误"}, headers=admin(publisher, claims)
    )
    assert published.status_code == 200, published.text
    return published.json()


def test_publishing_a_2026_version_changes_2026_quotes_while_2021_dates_keep_the_2021_version(claims) -> None:
    before = claims.client.post(QUOTE, headers=claims.token(), json={
        "scheme": "resident", "tier": "adult_middle", "service_date": "2026-03-02", "facility_level": 2,
        "care_type": "inpatient", "in_scope": "10500.00"})  # fmt: skip
    assert before.status_code == 422 and before.json()["code"] == "policy_not_found"

    published = draft_and_publish(claims, document(2026, level2_middle="0.80"))
    assert (published["status"], published["version"], published["drafted_by"], published["reviewed_by"], published["published_by"]) == (
        "published", 1, "admin-a", "admin-b", "admin-b")  # fmt: skip
    assert published["review_note"] == "核对无误" and published["sample"] is True

    bill_2026 = quote(claims, "2026-03-02")
    assert bill_2026["policy"] == "120000/resident/2026/v1" and bill_2026["sample"] is True
    assert bill_2026["fund"] == "8000.00"  # 10,000 above the deductible × 80 %
    bill_2021 = quote(claims, "2021-05-10")
    assert bill_2021["policy"] == "120000/resident/2021/v1" and bill_2021["fund"] == "7500.00"


def test_a_version_scheduled_from_a_later_date_is_in_force_only_from_it(claims) -> None:
    draft_and_publish(claims, document(2028, level2_middle="0.70"))
    later = draft_and_publish(claims, document(2028, level2_middle="0.90", effective_from="2028-07-01"))
    assert (later["version"], later["effective_from"]) == (2, "2028-07-01")
    assert (quote(claims, "2028-06-30")["fund"], quote(claims, "2028-06-30")["policy"]) == (
        "7000.00",
        "120000/resident/2028/v1",
    )
    assert (quote(claims, "2028-07-01")["fund"], quote(claims, "2028-07-01")["policy"]) == (
        "9000.00",
        "120000/resident/2028/v2",
    )
    in_force = claims.client.get(f"{API}/in-force", params={"on": "2028-08-01"}, headers=claims.token())
    assert in_force.status_code == 200, in_force.text
    assert (in_force.json()["policy"], in_force.json()["effective_from"]) == (
        "120000/resident/2028/v2",
        "2028-07-01",
    )


def test_one_admin_alone_cannot_publish(claims) -> None:
    drafted = claims.client.post(API, json=document(2029), headers=admin("admin-solo", claims))
    assert drafted.status_code == 201, drafted.text
    refused = claims.client.post(
        f"{API}/{drafted.json()['id']}/publish", json={}, headers=admin("admin-solo", claims)
    )
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes"
    assert (
        claims.client.get(f"{API}/{drafted.json()['id']}", headers=admin("admin-solo", claims)).json()[
            "status"
        ]
        == "draft"
    )
    no_policy = claims.client.post(QUOTE, headers=claims.token(), json={
        "scheme": "resident", "tier": "adult_middle", "service_date": "2029-03-02", "facility_level": 2,
        "care_type": "inpatient", "in_scope": "100.00"})  # fmt: skip
    assert no_policy.json()["code"] == "policy_not_found"


def test_only_admins_draft_and_publish_and_drafts_are_not_shown_to_others(claims) -> None:
    staff = claims.token(Role.staff, office_code="120000", office_level="city")
    assert claims.client.post(API, json=document(2029), headers=staff).status_code == 403
    drafted = claims.client.post(API, json=document(2029), headers=admin("admin-c", claims)).json()
    assert claims.client.post(f"{API}/{drafted['id']}/publish", json={}, headers=staff).status_code == 403
    assert claims.client.get(f"{API}/{drafted['id']}", headers=claims.token()).status_code == 404
    listed = claims.client.get(API, headers=claims.token()).json()["items"]
    assert drafted["id"] not in [v["id"] for v in listed]


def test_an_invalid_document_is_refused_with_all_its_errors(claims) -> None:
    doc = document(2029)
    doc["region"] = "12"
    doc["basic"]["deductible"]["value"] = "-5"
    doc["basic"]["outpatient"]["ratio"]["value"] = "1.5"
    del doc["title"]
    response = claims.client.post(API, json=doc, headers=admin("admin-a", claims))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_policy"
    fields = {e["field"] for e in problem["errors"]}
    assert {"region", "title", "basic.deductible.value", "basic.outpatient.ratio.value"} <= fields, problem


def test_a_published_version_cannot_be_published_again_or_changed(claims, migrated_database: str) -> None:
    published = draft_and_publish(claims, document(2031, effective_from="2031-06-01"))
    again = claims.client.post(f"{API}/{published['id']}/publish", json={}, headers=admin("admin-c", claims))
    assert again.status_code == 409 and again.json()["code"] == "not_a_draft"

    async def tamper(uow):  # type: ignore[no-untyped-def]
        await uow.session.execute(
            text("UPDATE policy_versions SET title = 'x' WHERE id = :id"), {"id": published["id"]}
        )

    with pytest.raises(Exception, match="immutable"):
        asyncio.run(in_schema(migrated_database, "claims", tamper, datetime(2026, 12, 6, tzinfo=UTC)))

    same_day = claims.client.post(
        API, json=document(2031, effective_from="2031-06-01"), headers=admin("admin-a", claims)
    ).json()
    clash = claims.client.post(f"{API}/{same_day['id']}/publish", json={}, headers=admin("admin-b", claims))
    assert clash.status_code == 409 and clash.json()["code"] == "effective_date_taken"


def test_a_tangshan_deployment_computes_with_its_own_policy(claims) -> None:
    draft_and_publish(claims, document(2026, region="130200", level2_middle="0.60"))
    tianjin = deployment_region()
    use_region("130200")
    try:
        bill = quote(claims, "2026-05-06")
        region = claims.client.get(f"{API}/region", headers=claims.token()).json()
    finally:
        use_region(tianjin)
    assert region == {"region": "130200"}
    assert bill["policy"] == "130200/resident/2026/v1" and bill["fund"] == "6000.00"
    assert quote(claims, "2026-05-06", region="130200")["fund"] == "6000.00"  # or named in the request


def test_quotes_use_a_view_of_the_published_versions_a_few_seconds_old_and_a_publication_here_refreshes_it(
    claims,
) -> None:
    assert recent_policy_in_force("130300", "resident", date(2027, 3, 1)) is None
    draft_and_publish(claims, document(2027, region="130300", level2_middle="0.65"))
    assert quote(claims, "2027-03-01", region="130300")["fund"] == "6500.00"
    seen = recent_policy_in_force("130300", "resident", date(2027, 3, 1))
    assert seen is not None and seen.key == ("130300", "resident", 2027, "v1")
    assert (
        recent_policy_in_force("130300", "resident", date(2027, 3, 1), max_age_s=0) is None
    )  # settlements read afresh


def test_two_versions_of_a_year_published_at_once_get_two_numbers(claims) -> None:
    from concurrent.futures import ThreadPoolExecutor

    drafts = [
        claims.client.post(
            API, json=document(2032, effective_from=f"2032-0{m}-01"), headers=admin("admin-a", claims)
        ).json()["id"]
        for m in (3, 6, 9)
    ]
    with ThreadPoolExecutor(3) as pool:
        answers = list(
            pool.map(
                lambda d: claims.client.post(f"{API}/{d}/publish", json={}, headers=admin("admin-b", claims)),
                drafts,
            )
        )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert sorted(a.json()["version"] for a in answers) == [1, 2, 3]
