"""The Idempotency-Key fingerprint is over the canonical parsed body: the same JSON re-serialised (other key
order, spacing, escapes, number spelling) is the same request; another value is another request."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request

from shared.http.idempotency import fingerprint


def request(
    body: bytes, path: str = "/api/v1/claims/maternity/resident", content_type: str = "application/json"
) -> Request:
    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", content_type.encode())]}  # fmt: skip
    return Request(scope, receive)


def print_of(body: bytes, **kw) -> str:  # type: ignore[no-untyped-def]
    return asyncio.run(fingerprint(request(body, **kw)))


def test_the_same_json_re_serialised_is_the_same_request() -> None:
    data = {
        "person_id": "8d6e",
        "items": [{"item": "prenatal", "cost": "660.00"}],
        "name": "张三",
        "level": 2,
    }
    compact = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    spaced = json.dumps(dict(reversed(list(data.items()))), indent=2, ensure_ascii=True).encode()
    assert print_of(compact) == print_of(spaced)
    assert print_of(b'{"level": 2.0}') == print_of(b'{"level": 2}') == print_of(b'{"level": 2E0}')


def test_another_value_path_or_list_order_is_another_request() -> None:
    assert print_of(b'{"cost": "660.00"}') != print_of(b'{"cost": "660.01"}')
    assert print_of(b'{"cost": "660.00"}') != print_of(
        b'{"cost": "660.00"}', path="/api/v1/claims/maternity/employee"
    )
    assert print_of(b'{"items": [1, 2]}') != print_of(b'{"items": [2, 1]}')
    assert print_of(b'{"a": 1}') != print_of(b'{"a": "1"}')


def test_a_body_that_is_not_json_is_fingerprinted_as_sent() -> None:
    assert print_of(b"id_number,name\n1,a", content_type="text/csv") != print_of(
        b"id_number,name\n1,b", content_type="text/csv"
    )
    assert print_of(b"{not json") == print_of(b"{not json")
