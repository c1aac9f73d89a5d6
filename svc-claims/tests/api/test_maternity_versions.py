"""Maternity tables and the maternity allowance as policy versions: drafted by one admin, published by a second,
in force by the event day, named by what they computed. (Tangshan's tables and far-future allowance versions,
so the 2021 Tianjin amounts other tests rely on stay as shipped.)"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.auth import Role
from shared.db import UnitOfWork
from shared.testing.service_app import in_schema
from svc_claims.domain.eligibility import Coverage, Entitlement
from svc_claims.repository.coverage import Repository
from svc_claims.repository.policies import MATERNITY_DIR

pytestmark = pytest.mark.integration

POLICIES = "/api/v1/claims/policies"
QUOTE = "/api/v1/claims/maternity/quote"
RESIDENT_2021 = json.loads(
    (MATERNITY_DIR / "tianjin-resident-maternity-2021.json").read_text(encoding="utf-8")
)
ALLOWANCE = json.loads((MATERNITY_DIR / "tianjin-employee-allowance-SAMPLE.json").read_text(encoding="utf-8"))


def tangshan_table(effective_from: str, delivery: str) -> dict:
    doc = copy.deepcopy(RESIDENT_2021)
    doc.pop("version")
    doc.update(
        region="130200",
        year=2026,
        effective_from=effective_from,
        sample=True,
        title=f"【示例】唐山市居民生育 {effective_from}",
    )
    doc["items"]["natural_delivery"]["amount"] = delivery
    return doc


def admin(claims, name: str) -> dict:  # type: ignore[no-untyped-def]
    return claims.token(Role.admin, subject=name)


def draft_and_publish(claims, document: dict, kind: str) -> dict:  # type: ignore[no-untyped-def]
    drafted = claims.client.post(
        POLICIES, params={"kind": kind}, json=document, headers=admin(claims, "admin-a")
    )
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["kind"] == kind
    published = claims.client.post(
        f"{POLICIES}/{drafted.json()['id']}/publish", json={"note": "核对"}, headers=admin(claims, "admin-b")
    )
    assert published.status_code == 200, published.text
    return published.json()


def quote(claims, day: str) -> dict:  # type: ignore[no-untyped-def]
    body = {"scheme": "resident", "region": "130200", "event_date": day, "facility_level": 2,
            "items": [{"item": "natural_delivery", "cost": "3000.00"}]}  # fmt: skip
    return claims.client.post(QUOTE, json=body, headers=claims.token())


def test_a_published_maternity_table_is_used_from_its_date_and_a_later_version_from_its_own(claims) -> None:  # type: ignore[no-untyped-def]
    before = quote(claims, "2026-03-01")
    assert before.status_code == 422 and before.json()["code"] == "policy_not_found"

    first = draft_and_publish(claims, tangshan_table("2026-01-01", "2000.00"), "maternity")
    second = draft_and_publish(claims, tangshan_table("2026-07-01", "2600.00"), "maternity")
    assert (first["version"], second["version"]) == (1, 2)

    march, august = quote(claims, "2026-03-01").json(), quote(claims, "2026-08-01").json()
    assert (march["table"], march["fund"]) == ("130200/maternity/resident/2026/v1", "2000.00")
    assert (august["table"], august["fund"], august["sample"]) == (
        "130200/maternity/resident/2026/v2",
        "2600.00",
        True,
    )
    in_force = claims.client.get(f"{POLICIES}/in-force", params={"kind": "maternity", "region": "130200", "on": "2026-08-01"},
                                 headers=claims.token()).json()  # fmt: skip
    assert (in_force["kind"], in_force["policy"], in_force["effective_from"]) == (
        "maternity",
        "130200/maternity/resident/2026/v2",
        "2026-07-01",
    )
    listed = claims.client.get(
        POLICIES, params={"kind": "maternity", "region": "130200"}, headers=claims.token()
    ).json()
    assert {v["version"] for v in listed["items"]} == {1, 2}


def test_an_invalid_maternity_table_is_refused_with_every_error_and_one_admin_cannot_publish(claims) -> None:  # type: ignore[no-untyped-def]
    bad = tangshan_table("2025-06-01", "2000.00")  # outside its year
    bad["region"] = "tangshan"
    bad["items"]["natural_delivery"]["payment"] = "whatever"
    answer = claims.client.post(
        POLICIES, params={"kind": "maternity"}, json=bad, headers=admin(claims, "admin-a")
    )
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_policy"
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"region", "items.natural_delivery.payment"} <= fields
    drafted = claims.client.post(POLICIES, params={"kind": "maternity"}, json=tangshan_table("2026-10-01", "1.00"),
                                 headers=admin(claims, "admin-a"))  # fmt: skip
    own = claims.client.post(f"{POLICIES}/{drafted.json()['id']}/publish", headers=admin(claims, "admin-a"))
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    assert quote(claims, "2026-10-02").json().get("fund") != "1.00"  # the draft is not in force


def test_a_maternity_payment_names_the_table_and_the_allowance_names_its_version(
    claims, migrated_database
) -> None:  # type: ignore[no-untyped-def]
    # The allowance's leave days from 2031 (a later version; the release's sample stays in force before it).
    later = {**ALLOWANCE, "effective_from": "2031-01-01", "title": "【示例】产假天数调整"}
    later.pop("version")
    later["leave_days"] = {**later["leave_days"], "delivery": 158}
    published = draft_and_publish(claims, later, "maternity_allowance")
    assert published["version"] == 1 and published["year"] == 2031
    seen = {day: claims.client.get(f"{POLICIES}/in-force", params={"kind": "maternity_allowance", "on": day}, headers=claims.token()).json()
            for day in ("2030-12-31", "2031-01-01")}  # fmt: skip
    assert seen["2030-12-31"]["policy"] == "120000/maternity_allowance/2021-01-01/v1"
    assert seen["2031-01-01"]["policy"] == "120000/maternity_allowance/2031-01-01/v1"
    assert seen["2031-01-01"]["document"]["leave_days"]["delivery"] == 158

    person = uuid.uuid4()

    async def covered(uow: UnitOfWork) -> None:
        repo = Repository(uow)
        await repo.record_coverage(Coverage(uuid.uuid4(), person, "120101", "resident", "adult_middle", date(2021, 1, 1),
                                            date(2021, 12, 31), sex="female"), uuid.uuid4())  # fmt: skip
        await repo.record_entitlement(Entitlement(uuid.uuid4(), person, "pregnancy", (), date(2020, 10, 1),
                                                  date(2020, 10, 1) + timedelta(weeks=42), "active", {"late": False}), None)  # fmt: skip

    asyncio.run(in_schema(migrated_database, "claims", covered, datetime(2021, 1, 1, tzinfo=UTC)))
    body = {"event_date": "2021-07-01", "facility_level": 2, "bank_account": "6222021234567890123",
            "items": [{"item": "natural_delivery", "cost": "3100.00"}]}  # fmt: skip
    filed = claims.client.post(
        "/api/v1/claims/maternity/resident", json=body, headers=claims.token(Role.insured, person_id=person)
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["basis"]["policy"] == "120000/maternity/resident/2021/v1"
