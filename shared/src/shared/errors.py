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


# ----------------------------------------------------------------------------------------- domain errors


class DomainError(Exception):
    """A business rule refused the request: a stable machine code and Chinese text, nothing about HTTP.

    The domain raises these; the API layer (shared.http.problems) answers them as problem+json with the
    status of their kind. `errors` lists what is wrong item by item ({"field": …, "message": …}), with the
    command's own attribute names.
    """

    status = 422

    def __init__(
        self,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ):
        super().__init__(f"{code}: {detail or title}")
        self.code, self.title, self.detail = code, title, detail
        self.errors = errors
        self.extra = extra


class Invalid(DomainError):
    """The command breaks a rule whatever the state (a bad date, a missing paper)."""


class Conflict(DomainError):
    """The command does not fit the object's current state (a step out of order, a stale version)."""

    status = 409


class NotFound(DomainError):
    """No such object, or none the caller may see (the same answer, so the two cannot be told apart)."""

    status = 404

    def __init__(self, what: str = "资源"):
        super().__init__("not_found", f"{what}不存在")


class Forbidden(DomainError):
    """The caller sees the object but may not do this to it."""

    status = 403
