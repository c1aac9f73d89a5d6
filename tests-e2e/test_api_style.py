"""One style for every service, read from the merged OpenAPI document the gateway serves.

Lists answer `{items, total, page, size}`; timestamps are declared `date-time` (and written UTC with Z,
shared.http.responses); money is a two-decimal string with its pattern (shared.money).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

PAGE_FIELDS = {"items", "total", "page", "size"}
TIMESTAMP_NAME = re.compile(r"(^|_)at$")
MONEY_NAME = re.compile(
    r"(amount|balance|payable|self_pay|fund_paid|_paid$|_cap$|_fee$|fee_|arrears|deductible|_burden$|budget_total)"
)
NOT_MONEY = re.compile(r"(^not_|_note$|_warning$)")
MONEY_PATTERNS = {
    r"^-?[0-9]+\.[0-9]{2}$",
    r"^[0-9]+\.[0-9]{2}$",
    r"^-?[0-9]+(\.[0-9]{1,2})?$",
    r"^[0-9]+(\.[0-9]{1,2})?$",
}


@pytest.fixture(scope="module")
def document(gateway: httpx.Client) -> dict[str, Any]:
    return gateway.get("/openapi.json").json()


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def json_answers(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("2") and "application/json" in response.get("content", {}):
                    schema = response["content"]["application/json"].get("schema", {})
                    yield f"{method.upper()} {path}", resolved(document, schema)


def alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return schema.get("anyOf") or schema.get("oneOf") or [schema]


def test_every_list_answers_one_page_shape(document: dict[str, Any]) -> None:
    reads = [(what, schema) for what, schema in json_answers(document) if what.startswith("GET ")]
    bare = [what for what, schema in reads if schema.get("type") == "array"]
    assert bare == [], "lists answered as bare arrays"
    listed = [(what, schema) for what, schema in reads if "items" in schema.get("properties", {})]
    assert len(listed) >= 20
    misshapen = [what for what, schema in listed if not set(schema.get("required", [])) >= PAGE_FIELDS]
    assert misshapen == [], "lists without total, page and size"


def properties(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, schema in document["components"]["schemas"].items():
        for field, declared in schema.get("properties", {}).items():
            for alternative in alternatives(declared):
                if alternative.get("type") != "null":
                    yield (
                        name,
                        field,
                        resolved(document, alternative) if "$ref" in alternative else alternative,
                    )


def test_every_timestamp_is_declared_date_time(document: dict[str, Any]) -> None:
    timestamps = [
        (schema, field, p) for schema, field, p in properties(document) if TIMESTAMP_NAME.search(field)
    ]
    assert len(timestamps) >= 10
    undeclared = [f"{schema}.{field}" for schema, field, p in timestamps if p.get("format") != "date-time"]
    assert undeclared == []


def test_every_money_field_is_a_two_decimal_string(document: dict[str, Any]) -> None:
    money = [
        (schema, field, p)
        for schema, field, p in properties(document)
        if MONEY_NAME.search(field)
        and not NOT_MONEY.search(field)
        and p.get("type") in ("string", "number")
        and p.get("format") != "date"
    ]
    assert len(money) >= 50
    undeclared = [
        f"{schema}.{field}"
        for schema, field, p in money
        if p.get("type") != "string" or p.get("pattern") not in MONEY_PATTERNS
    ]
    assert undeclared == []


def test_every_operation_is_described_in_chinese_and_english(document: dict[str, Any]) -> None:
    operations = [(f"{m.upper()} {p}", o) for p, ops in document["paths"].items() for m, o in ops.items()]
    assert len(operations) >= 150
    chinese = re.compile(r"[\u4e00-\u9fff]")
    english = re.compile(r"[A-Za-z]{2,}(?:[ ,:;()'/-]+[A-Za-z0-9]+){2,}")  # three English words or more
    undescribed = [
        what
        for what, operation in operations
        if not chinese.search(operation.get("summary", ""))
        or not chinese.search(operation.get("description", ""))
        or not english.search(operation.get("description", ""))
    ]
    assert undescribed == [], "add the operation to shared/src/shared/http/operation_docs.py"
