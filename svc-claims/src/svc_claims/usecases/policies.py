"""Benefit policies administered as data: drafted by one admin, reviewed and published by another.

Three kinds share the path: the benefit policy (``benefit``), the maternity table (``maternity``: prenatal
limits and items per scheme and year, the format of ``data/maternity/``) and the maternity allowance's leave
days (``maternity_allowance``: in force from its start until a later version starts, whatever the year).
A version is a whole document (the format of ``data/policies/``, see its README) for a region,
scheme and benefit year, in force from its ``effective_from`` (default 1 January; a future date
schedules it) until the next version of that year starts. Published versions never change: the
database refuses to update or delete them, and a bill names the version it was computed with.
Who drafted, reviewed and published each version is recorded on it. Their SQL is in
``svc_claims.repository.policies``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import ValidationError

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, DomainError, Invalid, NotFound
from svc_claims.domain.benefits.policy import Policy
from svc_claims.domain.maternity import AllowancePolicy, MaternityTable
from svc_claims.domain.publication import require_admin, require_publishable
from svc_claims.repository.policies import (
    ALLOWANCE,
    BENEFIT,
    MATERNITY,
    PolicyNotFound,
    PolicyVersion,
    allowance_in_force,
    bundled_version,
    find_version,
    insert_draft,
    list_versions,
    lock_numbering,
    mark_published,
    maternity_in_force,
    next_number,
    policy_in_force,
)

Document = Policy | MaternityTable | AllowancePolicy
MODELS: dict[str, type[Policy] | type[MaternityTable] | type[AllowancePolicy]] = {
    BENEFIT: Policy, MATERNITY: MaternityTable, ALLOWANCE: AllowancePolicy,
}  # fmt: skip
KIND_WORDS = {BENEFIT: "待遇政策", MATERNITY: "生育保险待遇", ALLOWANCE: "生育津贴"}

__all__ = ["PolicyVersion", "draft", "in_force", "listed", "one", "publish", "validate_document"]


class PolicyDocumentInvalid(Invalid):
    """A document that does not validate: every error at once, each with where it is."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("invalid_policy", "政策文件不合规", f"共 {len(errors)} 处错误", errors=errors)


class NoPolicyInForce(DomainError):
    """No version of the kind is in force on the day asked for."""

    status = 404

    def __init__(self, detail: str):
        super().__init__("policy_not_found", "没有适用的待遇政策", detail)


def validate_document(document: object, kind: str = BENEFIT) -> Document:
    """The policy of a submitted document (of its kind), or PolicyDocumentInvalid listing all its errors."""
    if not isinstance(document, dict):
        raise PolicyDocumentInvalid([{"field": "", "message": "政策文件必须是 JSON 对象"}])
    try:
        return MODELS[kind].model_validate(document)
    except ValidationError as exc:
        raise PolicyDocumentInvalid(document_errors(exc)) from None


def document_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in error["loc"]), "message": error["msg"]} for error in exc.errors()
    ]


WHAT = "待遇政策"


async def draft(uow: UnitOfWork, actor: Principal, *, document: object, kind: str = BENEFIT) -> PolicyVersion:
    """A new draft from a document (validated whole; the version number is given on publishing)."""
    require_admin(actor, WHAT)
    policy = validate_document(document, kind)
    version_id = uuid.uuid4()
    await insert_draft(
        uow.session, id=version_id, kind=kind, region=policy.region, scheme=policy.scheme, year=policy.year,
        effective_from=policy.starts, document=policy.model_dump(mode="json", exclude={"version"}),
        title=policy.title or f"{policy.region} {KIND_WORDS[kind]} {policy.starts.isoformat()} 起",
        drafted_by=actor.subject, drafted_at=uow.clock.now(),
    )  # fmt: skip
    return await _get(uow, version_id)


async def listed(
    uow: UnitOfWork,
    actor: Principal,
    *,
    region: str | None = None,
    scheme: str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> list[PolicyVersion]:
    """Published versions for anyone signed in; drafts for admins only."""
    if status != "published" and actor.role is not Role.admin:
        status = "published"
    return await list_versions(uow.session, region=region, scheme=scheme, status=status, kind=kind)


async def one(uow: UnitOfWork, actor: Principal, version_id: uuid.UUID) -> PolicyVersion:
    """A version with its document; a draft is seen by admins only (to others it does not exist)."""
    found = await _get(uow, version_id)
    if found.status != "published" and actor.role is not Role.admin:
        raise NotFound("政策版本")
    return found


async def in_force(
    uow: UnitOfWork, actor: Principal, *, kind: str, scheme: str, region: str | None, on: date | None
) -> Document:
    """The version of `kind` in force on `on` (default: today) for the region (default: the deployment's)."""
    day = on or uow.clock.today()
    try:
        if kind == MATERNITY:
            return await maternity_in_force(
                uow, region, "employee" if scheme == "employee" else "resident", day
            )
        if kind == ALLOWANCE:
            return await allowance_in_force(uow, region, day)
        return await policy_in_force(uow, region, scheme, day)
    except PolicyNotFound as exc:
        raise NoPolicyInForce(str(exc)) from None


async def publish(
    uow: UnitOfWork, actor: Principal, version_id: uuid.UUID, *, note: str | None = None
) -> PolicyVersion:
    """The second admin's review and publication: never by the admin who drafted it (four eyes)."""
    require_admin(actor, WHAT)
    found = await _get(uow, version_id, for_update=True)
    require_publishable(found, actor, noun="政策", status_noun="政策版本")
    bundled = bundled_version(found.kind, found.region, found.scheme, found.year)  # numbered with the rest
    if bundled is not None and bundled.starts == found.effective_from:
        raise Conflict("effective_date_taken", "该生效日期已有政策版本",
                       f"{found.effective_from} 起已有随版本发布的政策，请另选生效日期")  # fmt: skip
    await lock_numbering(uow.session, found)
    number = await next_number(uow.session, found, bundled.version if bundled is not None else 0)
    document = {**found.document, "version": number}
    validate_document(document, found.kind)  # the stored draft still validates (the schema may change)
    published = await mark_published(
        uow.session, version_id, version=number, document=document, reviewed_by=actor.subject, review_note=note,
        published_by=actor.subject, published_at=uow.clock.now(),
    )  # fmt: skip
    if not published:
        raise Conflict("effective_date_taken", "该生效日期已有政策版本",
                       f"{found.region} {found.scheme} 自 {found.effective_from} 起已有已发布的版本")  # fmt: skip
    return await _get(uow, version_id)


async def _get(uow: UnitOfWork, version_id: uuid.UUID, *, for_update: bool = False) -> PolicyVersion:
    found = await find_version(uow.session, version_id, for_update=for_update)
    if found is None:
        raise NotFound("政策版本")
    return found
