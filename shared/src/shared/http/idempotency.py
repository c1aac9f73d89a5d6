"""`Idempotency-Key` for commands: the same key and request replays the first answer.

The key is claimed in the command's own transaction, so a concurrent duplicate waits on the row
and then replays the committed answer; a key reused for a different request is refused.

Fingerprints carry their form: the current one starts with `v2` (never a hex digit). Keys stored by
earlier releases hold a bare 64-digit hex digest, of the raw body bytes (before the canonical form) or
of the canonical body without the marker; a retry across the deploy is matched against both, so it
replays the stored answer instead of being refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Header, Request
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.db import Prepared, UnitOfWork
from shared.errors import Problem
from shared.http.responses import ApiJSONResponse
from shared.tables import idempotency_keys

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=8, max_length=200, description="重复提交同一请求时返回首次结果"
    ),
]


FINGERPRINT_VERSION = "v2"


async def fingerprint(request: Request) -> str:
    """The method, the path and the canonical parsed body: the same JSON re-serialised (key order, spacing,
    escapes, 2 / 2.0 / 2E0) is the same request. A body that is not JSON counts as sent (uploads).
    64 characters, as the column holds: the version marker and 62 hex digits (248 bits) of the digest."""
    return FINGERPRINT_VERSION + _digest(request, canonical_body(await request.body()))[:62]


async def matches_stored(request: Request, stored: str) -> bool:
    """Whether `stored` is this request's fingerprint, in the current form or one an earlier release wrote."""
    if stored.startswith(FINGERPRINT_VERSION):
        return stored == await fingerprint(request)
    raw = await request.body()
    earlier = {_digest(request, canonical_body(raw))}
    if not raw.startswith((b"json:", b"raw:")):
        # Raw bytes that spell a canonical body could otherwise pass for that body's earlier print.
        earlier.add(_digest(request, raw))
    return stored in earlier


def _digest(request: Request, body: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def canonical_body(raw: bytes) -> bytes:
    try:
        parsed = json.loads(raw, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return b"raw:" + raw
    return (
        b"json:"
        + json.dumps(_canonical(parsed), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON: the body counts as sent


def _canonical(value: Any) -> Any:
    """Numbers as their normalised decimal text (kept apart from strings), containers walked."""
    if isinstance(value, Decimal):
        return {
            "#": format(value.normalize(), "f")
            if value == value.to_integral_value()
            else str(value.normalize())
        }
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


# Every keyed command claims its key and keeps its answer: statements built once, sent straight to
# asyncpg with each request's values (shared.db.Prepared). The keys of the row looked for are not named
# as columns: an UPDATE keeps those names for its SET clause.
CLAIM_KEY = Prepared(
    insert(idempotency_keys)
    .values(principal=bindparam("principal"), key=bindparam("key"), request_fingerprint=bindparam("request_fingerprint"))
    .on_conflict_do_nothing()
    .returning(idempotency_keys.c.key)
)  # fmt: skip
KEEP_ANSWER = Prepared(
    update(idempotency_keys)
    .where(idempotency_keys.c.principal == bindparam("of_principal"), idempotency_keys.c.key == bindparam("of_key"))
    .values(status_code=bindparam("status_code"), response_body=bindparam("response_body"))
)  # fmt: skip


async def run_idempotent(
    uow: UnitOfWork,
    request: Request,
    principal: str,
    key: str | None,
    command: Callable[[], Awaitable[tuple[int, Any]]],
) -> ApiJSONResponse:
    """Run `command` (which returns status and JSON body) once per key; commit with the answer."""
    if key is None:
        status, body = await command()
        await uow.commit()
        return ApiJSONResponse(body, status_code=status)
    request_hash = await fingerprint(request)
    claimed = await uow.execute(
        CLAIM_KEY, {"principal": principal, "key": key, "request_fingerprint": request_hash}
    )
    if not claimed:
        return await _replay(uow, request, principal, key)
    status, body = await command()
    await uow.execute(
        KEEP_ANSWER, {"of_principal": principal, "of_key": key, "status_code": status, "response_body": body}
    )
    await uow.commit()
    return ApiJSONResponse(body, status_code=status, headers={"Idempotency-Key": key})


async def create_idempotently(
    uow: UnitOfWork,
    request: Request,
    principal: str,
    key: str | None,
    make: Callable[[], Awaitable[Any]],
    shape: Callable[[Any], Any],
) -> ApiJSONResponse:
    """A creating command in its unit of work: 201 with the shaped record, once per Idempotency-Key."""

    async def create() -> tuple[int, Any]:
        return 201, shape(await make())

    async with uow:
        return await run_idempotent(uow, request, principal, key, create)


async def _replay(uow: UnitOfWork, request: Request, principal: str, key: str) -> ApiJSONResponse:
    row = (
        await uow.session.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
            )
        )
    ).one()
    if not await matches_stored(request, row.request_fingerprint):
        raise Problem(
            422,
            "idempotency_key_reused",
            "幂等键已用于另一个请求",
            "同一个 Idempotency-Key 只能用于同一个请求",
        )
    return ApiJSONResponse(
        row.response_body,
        status_code=row.status_code,
        headers={"Idempotency-Key": key, "Idempotent-Replayed": "true"},
    )
