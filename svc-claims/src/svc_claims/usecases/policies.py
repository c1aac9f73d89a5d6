"""Benefit policies administered as data: drafted by one admin, reviewed and published by another.

Three kinds share the path: the benefit policy (``benefit``), the maternity table (``maternity``: prenatal
limits and items per scheme and year, the format of ``data/maternity/``) and the maternity allowance's leave
days (``maternity_allowance``: in force from its start until a later version starts, whatever the year).
A version is a whole document (the format of ``data/policies/``, see its README) for a region,
scheme and benefit year, in force from its ``effective_from`` (default 1 January; a future date
schedules it) until the next version of that year starts. Published versions never change: the
database refuses to update or delete them, and a bill names the version it was computed with.
Who drafted, reviewed and published each version is recorded on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from svc_claims.domain.benefits.policy import Policy
from svc_claims.domain.maternity import AllowancePolicy, MaternityTable
from svc_claims.models import metadata

BENEFIT, MATERNITY, ALLOWANCE = "benefit", "maternity", "maternity_allowance"
Document = Policy | MaternityTable | AllowancePolicy
MODELS: dict[str, type[Policy] | type[MaternityTable] | type[AllowancePolicy]] = {
    BENEFIT: Policy, MATERNITY: MaternityTable, ALLOWANCE: AllowancePolicy,
}  # fmt: skip
KIND_WORDS = {BENEFIT: "待遇政策", MATERNITY: "生育保险待遇", ALLOWANCE: "生育津贴"}

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(20), nullable=False),  # benefit, maternity or maternity_allowance
    Column("region", String(6), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("version", Integer),  # given when published
    Column("status", String(12), nullable=False),  # draft | published
    Column("title", Text, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("drafted_by", String(100), nullable=False),
    Column("drafted_at", DateTime(timezone=True), nullable=False),
    Column("reviewed_by", String(100)),
    Column("review_note", Text),
    Column("published_by", String(100)),
    Column("published_at", DateTime(timezone=True)),
    Index("policy_versions_in_force", "kind", "region", "scheme", "year", "effective_from"),
    # Two published versions never start on the same day, nor share a number.
    Index(
        "policy_versions_one_start",
        "kind",
        "region",
        "scheme",
        "effective_from",
        unique=True,
        postgresql_where=text("status = 'published'"),
    ),
    Index(
        "policy_versions_one_number",
        "kind",
        "region",
        "scheme",
        "year",
        "version",
        unique=True,
        postgresql_where=text("version IS NOT NULL"),
    ),
)


class PolicyDocumentInvalid(Problem):
    """A document that does not validate: every error at once, each with where it is."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(422, "invalid_policy", "政策文件不合规", f"共 {len(errors)} 处错误", errors=errors)


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


@dataclass(frozen=True)
class PolicyVersion:
    id: uuid.UUID
    kind: str
    region: str
    scheme: str
    year: int
    effective_from: date
    version: int | None
    status: str
    title: str
    sample: bool
    drafted_by: str
    drafted_at: datetime
    reviewed_by: str | None
    review_note: str | None
    published_by: str | None
    published_at: datetime | None
    document: dict[str, Any]


def _version(row: Any) -> PolicyVersion:
    return PolicyVersion(
        id=row.id, kind=row.kind, region=row.region, scheme=row.scheme, year=row.year, effective_from=row.effective_from,
        version=row.version, status=row.status, title=row.title, sample=bool(row.document.get("sample", False)),
        drafted_by=row.drafted_by, drafted_at=row.drafted_at, reviewed_by=row.reviewed_by, review_note=row.review_note,
        published_by=row.published_by, published_at=row.published_at, document=row.document,
    )  # fmt: skip


def require_admin(actor: Principal) -> None:
    if actor.role is not Role.admin:
        raise Problem(403, "forbidden", "仅管理员可起草、发布待遇政策")


async def draft(uow: UnitOfWork, actor: Principal, document: object, kind: str = BENEFIT) -> PolicyVersion:
    """A new draft from a document (validated whole; the version number is given on publishing)."""
    require_admin(actor)
    policy = validate_document(document, kind)
    stored = policy.model_dump(mode="json", exclude={"version"})
    version_id = uuid.uuid4()
    title = policy.title or f"{policy.region} {KIND_WORDS[kind]} {policy.starts.isoformat()} 起"
    await uow.session.execute(
        policy_versions.insert().values(
            id=version_id, kind=kind, region=policy.region, scheme=policy.scheme, year=policy.year,
            effective_from=policy.starts, status="draft", title=title, document=stored,
            drafted_by=actor.subject, drafted_at=uow.clock.now(),
        )
    )  # fmt: skip
    return await get(uow.session, version_id)


async def get(session: AsyncSession, version_id: uuid.UUID, for_update: bool = False) -> PolicyVersion:
    query = select(policy_versions).where(policy_versions.c.id == version_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise not_found("政策版本")
    return _version(row)


async def listed(
    session: AsyncSession, region: str | None, scheme: str | None, status: str | None, kind: str | None = None
) -> list[PolicyVersion]:
    query = select(policy_versions).order_by(policy_versions.c.region, policy_versions.c.scheme, policy_versions.c.effective_from,
                                             policy_versions.c.drafted_at)  # fmt: skip
    for column, value in (("region", region), ("scheme", scheme), ("status", status), ("kind", kind)):
        if value is not None:
            query = query.where(policy_versions.c[column] == value)
    return [_version(row) for row in await session.execute(query)]


async def publish(
    uow: UnitOfWork, actor: Principal, version_id: uuid.UUID, note: str | None
) -> PolicyVersion:
    """The second admin's review and publication: never by the admin who drafted it (four eyes)."""
    require_admin(actor)
    found = await get(uow.session, version_id, for_update=True)
    if found.status != "draft":
        raise Problem(409, "not_a_draft", "只能发布草稿", f"该政策版本状态为 {found.status}")
    if found.drafted_by == actor.subject:
        raise Problem(403, "four_eyes", "起草人不能发布自己起草的政策", "须由另一名管理员审核发布")
    from svc_claims.repository.policies import (
        bundled_version,  # the release's files take part in the numbering
    )

    bundled = bundled_version(found.kind, found.region, found.scheme, found.year)
    if bundled is not None and bundled.starts == found.effective_from:
        raise Problem(409, "effective_date_taken", "该生效日期已有政策版本",
                      f"{found.effective_from} 起已有随版本发布的政策，请另选生效日期")  # fmt: skip
    # One publication at a time per region, scheme and year, so two never take the same number.
    await uow.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"policy_versions/{found.kind}/{found.region}/{found.scheme}/{found.year}"},
    )
    number = await _next_number(uow.session, found, bundled.version if bundled is not None else 0)
    document = {**found.document, "version": number}
    validate_document(
        document, found.kind
    )  # the stored draft still validates (schema changes between releases)
    now = uow.clock.now()
    try:
        await uow.session.execute(
            update(policy_versions).where(policy_versions.c.id == version_id).values(
                status="published", version=number, document=document, reviewed_by=actor.subject, review_note=note,
                published_by=actor.subject, published_at=now,
            )
        )  # fmt: skip
        await uow.session.flush()
    except IntegrityError:
        raise Problem(409, "effective_date_taken", "该生效日期已有政策版本",
                      f"{found.region} {found.scheme} 自 {found.effective_from} 起已有已发布的版本") from None  # fmt: skip
    return await get(uow.session, version_id)


async def _next_number(session: AsyncSession, found: PolicyVersion, bundled_number: int) -> int:
    same_year = and_(policy_versions.c.kind == found.kind, policy_versions.c.region == found.region,
                     policy_versions.c.scheme == found.scheme, policy_versions.c.year == found.year)  # fmt: skip
    highest = (await session.execute(select(func.max(policy_versions.c.version)).where(same_year))).scalar()
    return max(highest or 0, bundled_number) + 1


async def published_starts(
    session: AsyncSession, region: str, scheme: str, year: int | None, kind: str = BENEFIT
) -> list[tuple[date, uuid.UUID]]:
    """(effective_from, id) of the year's published versions (of every year: None), earliest first."""
    query = (
        select(policy_versions.c.effective_from, policy_versions.c.id)
        .where(
            policy_versions.c.kind == kind,
            policy_versions.c.region == region,
            policy_versions.c.scheme == scheme,
            policy_versions.c.status == "published",
        )
        .order_by(policy_versions.c.effective_from)
    )
    if year is not None:
        query = query.where(policy_versions.c.year == year)
    return [(start, version_id) for start, version_id in await session.execute(query)]


async def document_of(session: AsyncSession, version_id: uuid.UUID) -> dict[str, Any]:
    query = select(policy_versions.c.document).where(policy_versions.c.id == version_id)
    return dict((await session.execute(query)).scalar_one())


async def published_years(session: AsyncSession, region: str, scheme: str, kind: str = BENEFIT) -> set[int]:
    query = select(policy_versions.c.year).distinct().where(
        policy_versions.c.kind == kind, policy_versions.c.region == region, policy_versions.c.scheme == scheme,
        policy_versions.c.status == "published",
    )  # fmt: skip
    return {year for (year,) in await session.execute(query)}
