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
    assert bill["policy"] == "120000/resident/2021/v1"  # the bill names its version
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
        {"special_groups": ["royalty"]},
        {"remote": "moon"},
        {"admission_date": "2021-13-01"},
        {"care_type": "dental"},
        {"unknown_field": 1},
        {"ytd": {"stays": -1}},
    ],
)
def test_bad_input_is_a_422_problem(claims, bad: dict) -> None:
    response = claims.client.post(URL, json=body(**bad), headers=claims.token())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_failed" and problem["title"] and problem["errors"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])  # a Chinese title


@pytest.mark.parametrize(
    "bad,code",
    [
        ({"service_date": "2030-01-01"}, "policy_not_found"),
        ({"region": "110000"}, "policy_not_found"),
        ({"tier": "platinum"}, "invalid_quote"),
        ({"scheme": "employee"}, "invalid_quote"),  # the employee sample has tiers in_service / retired
        ({"admission_date": "2021-05-11"}, "invalid_quote"),  # after the discharge date
        ({"not_payable": "nonsense"}, "invalid_quote"),
        ({"care_type": "family_sickbed", "sickbed_days": 0}, "invalid_quote"),
    ],
)
def test_uncomputable_contexts_are_422_problems(claims, bad: dict, code: str) -> None:
    response = claims.client.post(URL, json=body(**bad), headers=claims.token())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code and response.json()["title"]


def test_a_year_without_a_policy_names_the_years_on_file(claims) -> None:
    response = claims.client.post(URL, json=body(service_date="2030-01-01"), headers=claims.token())
    assert response.status_code == 422 and "已有年度：2021" in response.json()["detail"]
    response = claims.client.post(URL, json=body(region="110000"), headers=claims.token())
    assert response.status_code == 422 and "无政策文件" in response.json()["detail"]


def test_malformed_json_is_400(claims) -> None:
    response = claims.client.post(
        URL, content=b"{", headers={**claims.token(), "content-type": "application/json"}
    )
    assert response.status_code == 400


def test_quote_shows_veterans_and_catastrophic_assistance_line_by_line(claims) -> None:
    # Old soldier, adult_low, level 3, 800,000 (see the unit test for the arithmetic): fund 180,000,
    # major illness 443,109.35, veterans 141,512.52, catastrophic assistance 7,689.07, person 27,689.06.
    request = body(
        tier="adult_low",
        facility_level=3,
        in_scope="800000.00",
        out_of_scope="0.00",
        special_groups=["old_soldier"],
    )
    response = claims.client.post(URL, json=request, headers=claims.token())
    assert response.status_code == 200, response.text
    bill = response.json()
    assert (bill["fund"], bill["major_illness"], bill["veterans"], bill["assistance"], bill["person"]) == (
        "180000.00", "443109.35", "141512.52", "7689.07", "27689.06")  # fmt: skip
    assert bill["sample"] is True  # the major-illness threshold of 2021 is not in the documents
    catastrophic = bill["lines"][-1]
    assert catastrophic["code"] == "assistance.catastrophic" and catastrophic["rate"] == "0.50"
    assert (catastrophic["base"], catastrophic["amount"]) == (
        "15378.13",
        "7689.07",
    ) and "重特大" in catastrophic["label"]


def test_quote_knows_a_stay_across_two_periods_from_its_dates(claims) -> None:
    # The 2022 part of a stay admitted in December 2021 (quoted under the 2021 rules, the only ones on file):
    # no deductible, 4,000 × 75% = 3,000.
    request = body(
        in_scope="4000.00",
        out_of_scope="0.00",
        admission_date="2021-12-20",
        service_date="2022-01-10",
        policy_year=2021,
    )
    bill = claims.client.post(URL, json=request, headers=claims.token()).json()
    assert bill["fund"] == "3000.00" and bill["lines"][0]["code"] == "deductible_waived.cross_period"


def test_quote_under_the_employee_sample_says_it_is_a_sample(claims) -> None:
    # Sample table, in service, level 2: (10,800 − 800) × 87% = 8,700.
    request = body(scheme="employee", tier="in_service", in_scope="10800.00", out_of_scope="0.00")
    bill = claims.client.post(URL, json=request, headers=claims.token()).json()
    assert bill["policy"] == "120000/employee/2021/v1" and bill["fund"] == "8700.00"
    assert bill["sample"] is True and all(ln["sample"] for ln in bill["lines"])


def test_quote_saves_nothing(claims) -> None:
    person_token = claims.token()
    for _ in range(2):
        bill = claims.client.post(URL, json=body(), headers=person_token).json()
        assert bill["accumulators"]["stays"] == 1  # each quote starts from the ytd it is given
