"""The gateway's own working calendar (``/api/v1/calendar``) learns the published holiday notices.

The services load a notice from the event ``calendar.notice_published``; the gateway has no broker, so it
reads the published notices from svc-claims' public list instead — at most once every ``REFRESH_S``
seconds, when a calendar question comes in. If claims cannot be reached the calendar answers as it
knows (a year without a notice stays provisional, and says so).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp

from gateway.proxy import Upstreams
from shared.calendar import YearTable, default_calendar

log = logging.getLogger(__name__)

REFRESH_S = 10.0
PUBLISHED = "/api/v1/claims/calendar/notices/published?size=500"  # one page: a notice per year


class CalendarNotices:
    def __init__(self, session_source: Callable[[], aiohttp.ClientSession], upstreams: Upstreams):
        self._session_source, self._upstreams = session_source, upstreams
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh_if_stale(self) -> None:
        if self._checked_at is not None and time.monotonic() - self._checked_at < REFRESH_S:
            return
        async with self._lock:
            if self._checked_at is not None and time.monotonic() - self._checked_at < REFRESH_S:
                return
            self._checked_at = time.monotonic()
            await self.refresh()

    async def refresh(self) -> int:
        """Load every published notice into the process's calendar; how many were new to it."""
        if "claims" not in self._upstreams:
            return 0
        url = f"{self._upstreams.all_urls('claims')[0]}{PUBLISHED}"
        try:
            async with self._session_source().get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status != 200:
                    log.warning("published holiday notices: claims answered %s", response.status)
                    return 0
                notices = (await response.json())["items"]
        except (
            TimeoutError,
            aiohttp.ClientError,
            AssertionError,
        ):  # AssertionError: the proxy is not started
            log.warning("published holiday notices: claims not reachable", exc_info=True)
            return 0
        calendar, loaded = default_calendar(), 0
        for notice in notices:
            version = int(notice.pop("version"))
            if calendar.notice_version(notice["year"]) != version:
                loaded += calendar.load_notice(YearTable.model_validate(notice), version)
        return loaded
