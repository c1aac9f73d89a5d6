"""POST /api/v1/claims/quote through the service's API (real Postgres and broker, as every service app needs)."""

from __future__ import annotations


import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


URL = "/api/v1/claims/quote"


def body(**extra) -> dict:  # type: ignore[no-untyped-def]
    return {"scheme": "resident", "tier": "adult_middle", "service_date": "2021-05-10", "facility_level": 2,
            "care_type": "inpatient", "in_scope": "10500.00", "out_of_scope": "300.00", **extra}  # fmt: skip


def test_quote_explains_the_bill_and_adds_up(claims) -> None:
    # 10,500 in scope at level 2 adult_middle: 500 deductible, 10,000 × 75% = 7,500; person 500 + 2,500 + 300.
    response = claims.client.post(URL, json=body(), headers=claims.token())
    assert response.status_code == 200, response.text
    bill = response.json()
    assert bill["policy"] == "120000/resident/2021"
    assert (bill["total"], bill["fund"], bill["person"], bill["major_illness"], bill["assistance"]) == (
        "10800.00", "7500.00", "3300.00", "0.00", "0.00")  # fmt: skip
    assert [ln["code"] for ln in bill["lines"]] == ["out_of_scope", "deductible", "basic_fund", "coinsurance"]
    assert bill["accumulators"]["stays"] == 1 and bill["accumulators"]["deductible_used"] == "500.00"


def test_quote_second_stay_with_assistance_for_any_signed_in_user(claims) -> None:
    ytd = {"stays": 1, "deductible_used": "500.00", "fund_paid": "7500.00", "major_illness_burden": "3000.00"}
    request = body(ytd=ytd, special_groups=["subsistence"], out_of_scope="0.00", in_scope="1000.00")
    for headers in (claims.token(), claims.token(Role.staff, office_code="120101", office_level="district")):
        response = claims.client.post(URL, json=request, headers=headers)
        assert response.status_code == 200, response.text
        bill = response.json()
        # No deductible; 1,000 × 75% = 750; burden 250 → assistance 60% = 150; person 100.
        assert (bill["fund"], bill["assistance"], bill["person"]) == ("750.00", "150.00", "100.00")


def test_quote_needs_a_token(claims) -> None:
    assert claims.client.post(URL, json=body()).status_code == 401


@pytest.mark.parametrize(
    "bad",
    [
        {"in_scope": "-1.00"},
        {"in_scope": "12.345"},
        {"in_scope": "abc"},
        {"facility_level": 4},
        {"tier": "platinum"},
        {"care_type": "dental"},
        {"unknown_field": 1},
        {"ytd": {"stays": -1}},
    ],
)
def test_bad_input_is_a_422_problem(claims, bad: dict) -> None:
    response = claims.client.post(URL, json=body(**bad), headers=claims.token())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    "bad,code",
    [
        ({"service_date": "2030-01-01"}, "policy_not_found"),
        ({"scheme": "employee"}, "policy_not_found"),
        ({"not_payable": "nonsense"}, "invalid_quote"),
        ({"care_type": "family_sickbed", "sickbed_days": 0}, "invalid_quote"),
    ],
)
def test_uncomputable_contexts_are_422_problems(claims, bad: dict, code: str) -> None:
    response = claims.client.post(URL, json=body(**bad), headers=claims.token())
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_malformed_json_is_400(claims) -> None:
    response = claims.client.post(URL, content=b"{", headers={**claims.token(), "content-type": "application/json"})
    assert response.status_code == 400
