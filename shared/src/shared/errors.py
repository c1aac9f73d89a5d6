"""Errors that answer a request: a status, a stable machine code and a Chinese title.

Framework-free so domain code can raise them; the HTTP layer renders them as problem+json.
"""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """Raise anywhere to answer with problem+json; nothing is committed (the unit of work rolls back)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(f"{code}: {detail or title}")
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.errors, self.headers, self.extra = errors, headers, extra


def not_found(what: str = "资源") -> Problem:
    return Problem(404, "not_found", f"{what}不存在")
