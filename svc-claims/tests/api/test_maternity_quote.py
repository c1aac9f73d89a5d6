"""POST /api/v1/claims/maternity/quote: a maternity item's amount without filing, item codes in the schema."""

from __future__ import annotations

from typing import get_args

import pytest

from svc_claims.api.maternity_quote import MaternityItem
from svc_claims.repository.policies import maternity_tables

pytestmark = pytest.mark.integration

URL = "/api/v1/claims/maternity/quote"


def test_the_schema_enumerates_every_item_code_of_the_tables(claims) -> None:
    codes = {"prenatal"} | {code for table in maternity_tables().values() for code in table.items}
    assert set(get_args(MaternityItem)) == codes
    schema = claims.client.get("/api/v1/claims/openapi.json").json()["components"]["schemas"]
    assert set(schema["MaternityQuoteItem"]["properties"]["item"]["enum"]) == codes


def test_a_delivery_with_its_prenatal_checks_is_quoted_without_filing(claims) -> None:
    body = {"scheme": "resident", "event_date": "2021-06-01", "facility_level": 2, "items": [
        {"item": "prenatal", "cost": "900.00", "weeks": 39}, {"item": "natural_delivery", "cost": "3000.00"}]}  # fmt: skip
    response = claims.client.post(URL, json=body, headers=claims.token())
    assert response.status_code == 200, response.text
    quote = response.json()
    assert (quote["table"], quote["sample"]) == ("120000/maternity/resident/2021/v1", False)
    assert [(ln["item"], ln["fund"], ln["person"]) for ln in quote["lines"]] == [
        ("prenatal", "660.00", "240.00"), ("natural_delivery", "2280.00", "720.00")]  # fmt: skip
    assert (quote["fund"], quote["person"]) == ("2940.00", "960.00")
    assert "id" not in quote  # nothing filed, nothing kept


def test_induced_labour_is_paid_by_the_hospitals_level_and_a_comorbidity_at_the_inpatient_ratio(
    claims,
) -> None:
    body = {"scheme": "resident", "event_date": "2021-06-01", "facility_level": 3, "tier": "adult_low",
            "items": [{"item": "induced_labour", "cost": "1500.00"}, {"item": "severe_comorbidity", "cost": "1000.00"}]}  # fmt: skip
    quote = claims.client.post(URL, json=body, headers=claims.token()).json()
    assert [(ln["item"], ln["fund"]) for ln in quote["lines"]] == [
        ("induced_labour", "960.00"),
        ("severe_comorbidity", "650.00"),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"items": [{"item": "teleportation", "cost": "1.00"}]}, "validation_failed"),
        ({"event_date": "2019-06-01"}, "policy_not_found"),
        (
            {"items": [{"item": "caesarean", "cost": "5000.00"}]},
            "invalid_quote",
        ),  # the amount did not survive in the seed
    ],
)
def test_what_cannot_be_quoted_is_a_clear_422(claims, change: dict, code: str) -> None:
    body = {
        "scheme": "resident",
        "event_date": "2021-06-01",
        "facility_level": 2,
        "items": [{"item": "abortion", "cost": "200.00"}],
        **change,
    }
    response = claims.client.post(URL, json=body, headers=claims.token())
    assert response.status_code == 422 and response.json()["code"] == code, response.text
