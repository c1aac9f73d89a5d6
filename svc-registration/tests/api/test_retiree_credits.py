"""Retirees' personal accounts: a retiree pays no contribution, and the pooled fund credits the policy's
monthly amount (90.00 a month, SAMPLE) to every retired employee of the office, once per person and month."""

from __future__ import annotations

import pytest

from shared.auth import Role
from shared.testing.e2e import assert_problem

from .test_contributions import API, OFFICE, account, in_february, issue, staff, unit_with_employees

pytestmark = pytest.mark.integration
__all__ = ["in_february", "staff"]  # fixtures
CREDITS = f"{API}/contributions/retiree-credits"


def test_each_retiree_of_the_office_is_credited_the_policys_amount_once_a_month(
    registration, staff, in_february
) -> None:  # type: ignore[no-untyped-def]
    code, (retiree, worker) = unit_with_employees(registration, staff, ["6000.00", "7000.00"])
    retired = registration.client.post(
        f"{API}/enrollments/{retiree['id']}/retire", json={"version": retiree["version"]}, headers=staff
    )
    assert retired.status_code == 200, retired.text
    policy = registration.client.get(
        f"{API}/contributions/policy", params={"month": "2026-02"}, headers=staff
    ).json()
    assert (
        policy["retiree_monthly_credit"] == "90.00"
        and "SAMPLE" in policy["sources"]["retiree_monthly_credit"]
    )

    first = registration.client.post(CREDITS, json={"month": "2026-02", "office_code": OFFICE}, headers=staff)
    assert first.status_code == 200, first.text
    assert (first.json()["credited"] >= 1, first.json()["amount"]) == (True, "90.00")
    credited = account(registration, staff, retiree["person_id"])
    assert credited["balance"] == "90.00"
    assert [(e["kind"], e["amount"]) for e in credited["entries"]] == [("retiree_allocation", "90.00")]
    assert account(registration, staff, worker["person_id"])["entries"] == []  # in service: from notices only

    again = registration.client.post(CREDITS, json={"month": "2026-02", "office_code": OFFICE}, headers=staff)
    assert again.json()["credited"] == 0 and again.json()["already_credited"] >= 1
    assert account(registration, staff, retiree["person_id"]) == credited
    (line,) = issue(registration, staff, code).json()["lines"]  # the retiree is on no notice
    assert line["enrollment_id"] == worker["id"]


def test_retiree_credits_are_refused_ahead_of_time_and_for_another_office(
    registration, staff, in_february
) -> None:  # type: ignore[no-untyped-def]
    ahead = registration.client.post(CREDITS, json={"month": "2026-03", "office_code": OFFICE}, headers=staff)
    assert_problem(ahead, 422, "month_in_future")
    hexi = registration.token(Role.staff, office_code="120103", office_level="district")
    other = registration.client.post(CREDITS, json={"month": "2026-02", "office_code": OFFICE}, headers=hexi)
    assert other.status_code in (403, 404) and other.headers["content-type"].startswith(
        "application/problem+json"
    )
    unit = registration.token(
        Role.unit, unit_id="91120101MA05K8Q4X9", office_code=OFFICE, office_level="district"
    )
    assert (
        registration.client.post(
            CREDITS, json={"month": "2026-02", "office_code": OFFICE}, headers=unit
        ).status_code
        == 403
    )
