"""The one shape of every list answer: ``{"items": [...], "total": n, "page": p, "size": s}``.

``page`` starts at 1; ``total`` counts every item matching the filters. A route takes ``pages: Pages``
(the ``page`` and ``size`` query parameters) and answers ``Page[ItemOut]``; lists that are read whole
(one person's records, a facility's history) are cut with ``pages.of(rows)``, lists that can grow
without bound page in SQL and answer ``pages.answer(rows, total)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

DEFAULT_SIZE = 100
MAX_SIZE = 500

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """一页列表：items 为本页条目，total 为符合条件的总条数。"""

    items: list[Item] = Field(description="本页条目")
    total: int = Field(ge=0, description="符合条件的总条数")
    page: int = Field(ge=1, description="页码，从 1 开始")
    size: int = Field(ge=1, description="每页条数")


@dataclass(frozen=True)
class PageRequest:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def answer(self, items: Sequence[Any], total: int) -> dict[str, Any]:
        """The page's items (already cut) and the count of all items."""
        return {"items": list(items), "total": total, "page": self.page, "size": self.size}

    def of(self, rows: Sequence[Any]) -> dict[str, Any]:
        """This page of a list read whole."""
        return self.answer(rows[self.offset : self.offset + self.size], len(rows))


def _page_request(
    page: Annotated[int, Query(ge=1, le=10_000, description="页码，从 1 开始")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_SIZE, description=f"每页条数（1–{MAX_SIZE}）")] = DEFAULT_SIZE,
) -> PageRequest:
    return PageRequest(page, size)


Pages = Annotated[PageRequest, Depends(_page_request)]
