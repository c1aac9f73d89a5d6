"""A retry across the deploy that changed the Idempotency-Key fingerprint: keys stored by the earlier
release (a bare sha256 of the raw body bytes, or of the canonical body) replay their answer for the same
request, and still refuse another request. Real Postgres, the shared idempotency_keys table."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from starlette.requests import Request

from shared.errors import Problem
from shared.http.idempotency import canonical_body, run_idempotent
from shared.tables import idempotency_keys
from shared.testing.backbone import Backbone

pytestmark = pytest.mark.integration

PATH = "/api/v1/claims/persons/p1/settlements"
SENT = b'{"receipt_no": "R-1", "total": "1200.00", "items": [1, 2]}'
RE_SERIALISED = b'{\n  "items": [1, 2.0],\n  "total": "1200.00",\n  "receipt_no": "R-1"\n}'
ANOTHER = b'{"receipt_no": "R-1", "total": "1200.01", "items": [1, 2]}'


def request(body: bytes) -> Request:
    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
             "headers": [(b"content-type", b"application/json")]}  # fmt: skip
    return Request(scope, receive)


def earlier_print(body: bytes) -> str:
    return hashlib.sha256(f"POST {PATH}\n".encode() + body).hexdigest()


async def stored_by_the_earlier_release(backbone: Backbone, key: str, fingerprint: str) -> None:
    async with backbone.uow() as uow:
        await uow.session.execute(
            insert(idempotency_keys).values(
                principal="clerk", key=key, request_fingerprint=fingerprint,
                status_code=201, response_body={"bill": "first"},
            )
        )  # fmt: skip
        await uow.commit()


async def retry(backbone: Backbone, key: str, body: bytes) -> tuple[int, bytes, list[str]]:
    ran: list[str] = []

    async def command() -> tuple[int, dict]:
        ran.append("again")
        return 201, {"bill": "second"}

    async with backbone.uow() as uow:
        answer = await run_idempotent(uow, request(body), "clerk", key, command)
    return answer.status_code, answer.body, ran


@pytest.mark.parametrize("form", ["raw bytes", "canonical body"])
async def test_a_retry_of_a_key_stored_before_the_deploy_replays_the_stored_answer(
    backbone: Backbone, form: str
) -> None:
    key = f"k-{uuid.uuid4()}"
    old = earlier_print(SENT if form == "raw bytes" else canonical_body(SENT))
    await stored_by_the_earlier_release(backbone, key, old)

    status, body, ran = await retry(backbone, key, SENT)

    assert (status, ran) == (201, [])
    assert b'"first"' in body
    if form == "canonical body":  # that form never depended on the spelling
        assert (await retry(backbone, key, RE_SERIALISED))[2] == []


@pytest.mark.parametrize("form", ["raw bytes", "canonical body"])
async def test_another_body_under_a_key_stored_before_the_deploy_is_still_refused(
    backbone: Backbone, form: str
) -> None:
    key = f"k-{uuid.uuid4()}"
    old = earlier_print(SENT if form == "raw bytes" else canonical_body(SENT))
    await stored_by_the_earlier_release(backbone, key, old)

    with pytest.raises(Problem) as refused:
        await retry(backbone, key, ANOTHER)

    assert (refused.value.status, refused.value.code) == (422, "idempotency_key_reused")


async def test_raw_bytes_spelling_a_canonical_body_do_not_pass_for_that_body(backbone: Backbone) -> None:
    key = f"k-{uuid.uuid4()}"
    await stored_by_the_earlier_release(backbone, key, earlier_print(canonical_body(SENT)))

    with pytest.raises(Problem):
        await retry(backbone, key, canonical_body(SENT))


async def test_a_key_stored_now_carries_the_current_form_and_replays_a_re_serialised_retry(
    backbone: Backbone,
) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await retry(backbone, key, SENT)
    again = await retry(backbone, key, RE_SERIALISED)

    async with backbone.sessions() as session:
        stored = await session.scalar(
            select(idempotency_keys.c.request_fingerprint).where(idempotency_keys.c.key == key)
        )
    assert stored is not None and stored.startswith("v2") and len(stored) == 64
    assert (first[2], again[2]) == (["again"], [])
    assert again[1] == first[1]
    with pytest.raises(Problem):
        await retry(backbone, key, ANOTHER)
