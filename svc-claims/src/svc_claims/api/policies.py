"""Benefit policies as administered data: draft (admin), publish (a second admin), read (anyone signed in).
Three kinds: the benefit policy, the maternity table and the maternity allowance's leave days."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from shared.auth.dependencies import CurrentPrincipal
from shared.http.pagination import Page, Pages
from shared.service import UoW
from svc_claims.repository.policies import deployment_region, forget_published_starts
from svc_claims.usecases import policies as policy_versions

router = APIRouter(prefix="/policies", tags=["待遇政策"])

Scheme = Literal["employee", "flexible", "resident"]
Kind = Literal["benefit", "maternity", "maternity_allowance"]
KIND = "benefit 待遇政策；maternity 生育保险待遇表（产前检查限额、分娩与计划生育项目）；maternity_allowance 生育津贴产假天数"


class VersionOut(BaseModel):
    id: uuid.UUID
    kind: Kind = Field(description=KIND)
    region: str = Field(description="统筹区代码")
    scheme: str = Field(description="险种")
    year: int = Field(description="待遇年度")
    effective_from: date = Field(description="生效日期（至同年度下一版本生效或年度结束）")
    version: int | None = Field(description="版本号（发布时编定）")
    status: Literal["draft", "published"] = Field(description="draft 草稿；published 已发布（不可修改）")
    title: str
    sample: bool = Field(description="示例数据（非文件给出的数值），仅供演示")
    drafted_by: str
    drafted_at: datetime
    reviewed_by: str | None = Field(description="审核人（须不同于起草人）")
    review_note: str | None
    published_by: str | None
    published_at: datetime | None


class VersionWithDocument(VersionOut):
    document: dict[str, Any] = Field(
        description="政策文件（格式见 svc-claims/src/svc_claims/data/policies/README.md）"
    )


class PublishIn(BaseModel):
    note: str | None = Field(None, max_length=500, description="审核意见")


class InForceOut(BaseModel):
    kind: Kind = Field(description=KIND)
    policy: str = Field(description="统筹区/险种/年度/版本，结算单上写明的就是它")
    region: str
    scheme: str
    year: int
    version: int
    effective_from: date
    title: str
    sample: bool
    document: dict[str, Any]


def _out(found: policy_versions.PolicyVersion, cls: type[VersionOut] = VersionOut) -> VersionOut:
    fields = {name: getattr(found, name) for name in cls.model_fields}
    return cls(**fields)


@router.post("", status_code=201, response_model=VersionWithDocument, summary="起草待遇政策版本（管理员）")
async def draft(
    document: Annotated[dict[str, Any], Body(description="政策文件（JSON）")],
    actor: CurrentPrincipal,
    uow: UoW,
    kind: Annotated[Kind, Query(description=KIND)] = "benefit",
) -> VersionOut:
    """提交一份完整的政策文件作为草稿；文件整体校验，所有错误一次列出（422 invalid_policy，errors 逐项给出位置）。
    草稿须由另一名管理员发布后才生效；effective_from 为将来日期即预定生效。"""
    found = await uow.run(policy_versions.draft, actor, document=document, kind=kind)
    return _out(found, VersionWithDocument)


@router.get("", response_model=Page[VersionOut], summary="政策版本列表")
async def listed(
    actor: CurrentPrincipal, uow: UoW, pages: Pages,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    scheme: Scheme | None = None,
    status: Literal["draft", "published"] | None = None,
    kind: Annotated[Kind | None, Query(description=KIND)] = None,
) -> dict:  # fmt: skip
    """已发布版本任何登录用户可查；草稿仅管理员可见。"""
    found = await uow.read(
        policy_versions.listed, actor, region=region, scheme=scheme, status=status, kind=kind
    )
    return pages.of([_out(v) for v in found])


@router.get("/in-force", response_model=InForceOut, summary="某日适用的待遇政策（我能享受什么）")
async def in_force(
    actor: CurrentPrincipal, uow: UoW,
    scheme: Scheme = "resident",
    on: Annotated[date | None, Query(description="日期（缺省为今天）")] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="统筹区（缺省为本部署的统筹区）")] = None,
    kind: Annotated[Kind, Query(description=KIND)] = "benefit",
) -> InForceOut:  # fmt: skip
    policy = await uow.read(policy_versions.in_force, actor, kind=kind, scheme=scheme, region=region, on=on)
    key = policy.key if isinstance(policy.key, str) else "/".join(str(k) for k in policy.key)
    return InForceOut(
        kind=kind, policy=key, region=policy.region, scheme=policy.scheme, year=policy.year,
        version=policy.version, effective_from=policy.starts, title=policy.title, sample=policy.sample,
        document=policy.model_dump(mode="json"),
    )  # fmt: skip


@router.get("/region", summary="本部署的统筹区")
async def region(actor: CurrentPrincipal) -> dict[str, str]:
    return {"region": deployment_region()}


@router.get("/{version_id}", response_model=VersionWithDocument, summary="政策版本（含文件）")
async def one(version_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW) -> VersionOut:
    return _out(await uow.read(policy_versions.one, actor, version_id), VersionWithDocument)


@router.post(
    "/{version_id}/publish", response_model=VersionWithDocument, summary="审核并发布（另一名管理员）"
)
async def publish(
    version_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW, body: PublishIn | None = None
) -> VersionOut:
    """审核草稿并发布：发布人须是起草人以外的管理员（403 four_eyes）；发布后不可修改，版本号依次编定。"""
    found = await uow.run(policy_versions.publish, actor, version_id, note=body.note if body else None)
    forget_published_starts()  # this process's quotes see it at once (others within QUOTE_MAX_AGE_S)
    return _out(found, VersionWithDocument)
