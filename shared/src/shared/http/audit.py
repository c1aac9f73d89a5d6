"""Who read or changed which record (PIPL; DESIGN: append-only, kept at least 6 months).

Every request to a service's API by a signed-in caller becomes one row of the service's
`access_audit` table: who (subject, role, office), what (method and path: object ids, never ID
numbers, are in paths), the answer's status and the request id. Rows are written in batches by a
background task, about once a second, so a read costs no extra transaction; what is waiting when
the process stops is written on the way out. While the database is away the batch waits (bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.tables import access_audit

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
MAX_WAITING = 50_000  # beyond this (database away for long) the oldest entries give way, loudly


class AccessAudit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self._sessions = sessions
        self._waiting: deque[dict[str, Any]] = deque()

    def record(self, principal: Any, method: str, path: str, status: int, request_id: str | None) -> None:
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.popleft()
            log.error("access audit: database unreachable for long, oldest entry dropped")
        self._waiting.append({"subject": principal.subject, "role": str(principal.role), "office_code": principal.office_code,
                              "method": method, "path": path[:500], "status": status, "request_id": request_id})  # fmt: skip

    async def flush(self) -> int:
        batch = list(self._waiting)
        if not batch:
            return 0
        async with self._sessions() as session:
            await session.execute(insert(access_audit), batch)
            await session.commit()
        for _ in batch:
            self._waiting.popleft()
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=FLUSH_INTERVAL_S)
            try:
                await self.flush()
            except Exception:
                log.warning("access audit: write failed; entries kept for the next attempt", exc_info=True)
