"""Records one admin drafts and another publishes (benefit policy versions, holiday notices): who did
what, and the rules every such record follows (four eyes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.auth.principal import Principal, Role
from shared.errors import Conflict, Forbidden


@dataclass(frozen=True)
class Publication:
    status: str  # draft | published
    drafted_by: str
    drafted_at: datetime
    reviewed_by: str | None
    review_note: str | None
    published_by: str | None
    published_at: datetime | None


def require_admin(actor: Principal, what: str) -> None:
    if actor.role is not Role.admin:
        raise Forbidden("forbidden", f"仅管理员可起草、发布{what}")


def require_publishable(found: Publication, actor: Principal, *, noun: str, status_noun: str) -> None:
    """Only a draft is published, and never by the admin who drafted it."""
    if found.status != "draft":
        raise Conflict("not_a_draft", "只能发布草稿", f"该{status_noun}状态为 {found.status}")
    if found.drafted_by == actor.subject:
        raise Forbidden("four_eyes", f"起草人不能发布自己起草的{noun}", "须由另一名管理员审核发布")
