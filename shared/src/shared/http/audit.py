"""Who read or changed whose record (PIPL; DESIGN: append-only, kept at least 6 months).

Every request to a service's API by a signed-in caller becomes one row of the service's
`access_audit` table: who (subject, role, office), what for (method, the route it matched as the
operation, and the path), whose data (the persons it touched: person ids in the path or the query,
an ID number or a person id in the body, person ids in the answer), the answer's status and the
request id. Rows are written in batches by a background task, about once a second, so a read costs
no extra transaction; what is waiting when the process stops is written on the way out.

The audit must not be silenced by what a caller sends: every value is made writable (no NUL or
control characters, valid UTF-8, cut to its column) before it is queued, and should the database
still refuse a batch, its rows are written one by one so a bad row never blocks the others. While
the database is away the rows wait (bounded) and `yb_access_audit_write_failures_total` and
`yb_access_audit_waiting` say so (alert YbAccessAuditFailing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.identity import IdType, InvalidIdentifier, person_id_for
from shared.tables import access_audit

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
MAX_WAITING = 50_000  # beyond this (database away for long) the oldest entries give way, loudly
MAX_PERSONS_PER_ROW = 200  # a long list answer names its first 200 persons
MAX_SCANNED_BODY = 64 * 1024  # request and answer bodies beyond this are not searched for persons
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WIDTHS = {
    "subject": 120,
    "role": 20,
    "office_code": 12,
    "method": 10,
    "path": 500,
    "request_id": 128,
    "operation": 200,
}


def writable(value: str | None, width: int) -> str | None:
    """`value` as the database takes it: control characters (NUL above all: PostgreSQL text cannot
    hold it) spelled out as \\xNN, lone surrogates as \\udcNN, and cut to the column's width."""
    if value is None:
        return None
    if value.isascii() and value.isprintable():
        return value[:width]  # the usual case, checked cheaply
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text[:width]


def _safest(row: dict[str, Any]) -> dict[str, Any]:
    """The last resort for a row the database refused: ASCII only."""
    return {k: (v.encode("ascii", "backslashreplace").decode("ascii")[: _WIDTHS[k]] if isinstance(v, str) else v)
            for k, v in row.items()}  # fmt: skip


class AccessAudit:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        service: str = "platform",
        person_key: str | bytes | None = None,
    ):
        self._sessions = sessions
        self.service = service
        self.persons = PersonFinder(person_key)
        self._waiting: deque[dict[str, Any]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def record(
        self,
        principal: Any,
        method: str,
        path: str,
        status: int,
        request_id: str | None,
        operation: str | None = None,
        person_ids: Iterable[uuid.UUID] = (),
    ) -> None:
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.popleft()
            metrics.ACCESS_AUDIT_ROWS_DROPPED.labels(self.service).inc()
            log.error("access audit: database unreachable for long, oldest entry dropped")
        values = {"subject": principal.subject, "role": str(principal.role), "office_code": principal.office_code,
                  "method": method, "path": path, "request_id": request_id, "operation": operation}  # fmt: skip
        row: dict[str, Any] = {k: writable(v, _WIDTHS[k]) for k, v in values.items()}
        persons = list(dict.fromkeys(person_ids))[:MAX_PERSONS_PER_ROW]
        row |= {"status": status, "person_ids": persons or None}
        self._waiting.append(row)  # the waiting gauge is set when the queue is written (once a second)

    async def flush(self) -> int:
        batch = list(self._waiting)
        metrics.ACCESS_AUDIT_WAITING.labels(self.service).set(len(batch))
        if not batch:
            return 0
        try:
            await self._insert(batch)
        except DBAPIError as exc:
            if exc.connection_invalidated or not _row_fault(exc):
                self._failed()
                raise
            log.warning(
                "access audit: a batch was refused (%s); writing its rows one by one", type(exc.orig).__name__
            )
            await self._insert_one_by_one(batch)
        except Exception:
            self._failed()
            raise
        for _ in batch:
            self._waiting.popleft()
        metrics.ACCESS_AUDIT_WAITING.labels(self.service).set(len(self._waiting))
        return len(batch)

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        async with self._sessions() as session:
            await session.execute(insert(access_audit), rows)
            await session.commit()

    async def _insert_one_by_one(self, batch: list[dict[str, Any]]) -> None:
        for row in batch:
            try:
                await self._insert([row])
            except DBAPIError as exc:
                if exc.connection_invalidated or not _row_fault(exc):
                    self._failed()
                    raise
                try:
                    await self._insert([_safest(row)])
                except DBAPIError:
                    metrics.ACCESS_AUDIT_ROWS_DROPPED.labels(self.service).inc()
                    log.error("access audit: a row was refused even in its safest form and is given up (request %s)",
                              _safest(row).get("request_id"))  # fmt: skip

    def _failed(self) -> None:
        metrics.ACCESS_AUDIT_WRITE_FAILURES.labels(self.service).inc()
        metrics.ACCESS_AUDIT_WAITING.labels(self.service).set(len(self._waiting))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=FLUSH_INTERVAL_S)
            try:
                await self.flush()
            except Exception:
                log.warning("access audit: write failed; entries kept for the next attempt", exc_info=True)


def _row_fault(exc: DBAPIError) -> bool:
    """Whether the database refused what a row holds (data or encoding), not the connection or the
    table: only then does writing row by row help."""
    text = f"{type(exc.orig).__name__} {exc.orig}".lower()
    return any(word in text for word in ("dataerror", "characternotinrepertoire", "untranslatable", "encod",
                                         "stringdatarighttruncation", "invalidtextrepresentation", "null value"))  # fmt: skip


# --------------------------------------------------------------------------- whose data


class PersonFinder:
    """The persons a request is about, from what it carries (never from what the service did)."""

    def __init__(self, person_key: str | bytes | None):
        self._key = person_key.encode() if isinstance(person_key, str) else person_key

    def in_request(
        self, route_path: str | None, path_params: dict[str, Any], query_string: bytes, body: bytes
    ) -> list[uuid.UUID]:
        found: list[uuid.UUID] = []
        for name, value in path_params.items():
            if name == "person_id" or (route_path and f"/persons/{{{name}}}" in route_path):
                found += _uuids([value])
        query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=False)
        found += _uuids(v for k, v in query if k == "person_id")
        found += self._in_json(body)
        return found

    def in_answer(self, body: bytes) -> list[uuid.UUID]:
        return self._in_json(body)

    def _in_json(self, body: bytes) -> list[uuid.UUID]:
        if not body or len(body) > MAX_SCANNED_BODY or body[:1] not in (b"{", b"["):
            return []
        if b'"person_id"' not in body and b'"id_number"' not in body:
            return []  # most bodies name nobody: not parsed at all
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:  # not JSON, or not UTF-8
            return []
        found: list[uuid.UUID] = []
        self._walk(document, found, depth=0)
        return found

    def _walk(self, value: Any, found: list[uuid.UUID], depth: int) -> None:
        if depth > 4 or len(found) >= MAX_PERSONS_PER_ROW:
            return
        if isinstance(value, list):
            for item in value:
                self._walk(item, found, depth + 1)
        elif isinstance(value, dict):
            person = value.get("person_id")
            if person is not None:
                found += _uuids((person,))
            number = value.get("id_number")
            if isinstance(number, str):
                found += self._from_id_number(value.get("id_type"), number)
            for item in value.values():
                if isinstance(item, dict | list):
                    self._walk(item, found, depth + 1)

    def _from_id_number(self, id_type: Any, number: str) -> list[uuid.UUID]:
        if self._key is None:
            return []
        try:
            return [person_id_for(IdType(id_type or IdType.resident_id), number, self._key)]
        except (InvalidIdentifier, ValueError, TypeError):
            return []  # not a valid number: nobody's data was reached through it


def _uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    found = []
    for value in values:
        if isinstance(value, uuid.UUID):
            found.append(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                found.append(uuid.UUID(value))
    return found
