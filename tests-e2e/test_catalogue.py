"""The service catalogue through the gateway: every operation an item names exists in the merged OpenAPI, so an app
can go from "what can I do here" to the call that does it."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_every_operation_a_catalogue_item_names_is_in_the_merged_openapi(gateway: httpx.Client) -> None:
    document = gateway.get("/openapi.json").json()
    operations = {
        op["operationId"]
        for path in document["paths"].values()
        for op in path.values()
        if "operationId" in op
    }
    items, page = [], 1
    while True:
        answer = gateway.get("/api/v1/facility/catalogue", params={"page": page, "size": 100})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        if len(items) >= body["total"]:
            break
        page += 1
    named = {(item["id"], op) for item in items for op in item["operations"]}
    assert len(items) == 87 and len(named) > 400
    assert [(item, op) for item, op in sorted(named) if op not in operations] == []
