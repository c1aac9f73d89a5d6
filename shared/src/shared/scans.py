"""Periodic scans over many rows, one page a transaction, so a long scan holds no lock for long.

A page function claims its rows (FOR UPDATE SKIP LOCKED, so replicas scanning at once share the work
instead of repeating it), acts on them and returns where the next page starts, or None at the end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from shared.db import UnitOfWork


class HasUnitOfWork(Protocol):
    def uow(self) -> UnitOfWork: ...


Page = Callable[[UnitOfWork, Any], Awaitable[Any]]


async def scan_in_pages(runtime: HasUnitOfWork, page: Page) -> None:
    """Run `page` until it says the scan is complete, committing each page on its own."""
    after = None
    while True:
        async with runtime.uow() as uow:
            after = await page(uow, after)
            await uow.commit()
        if after is None:
            return
