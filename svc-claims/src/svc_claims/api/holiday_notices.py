"""Holiday notices (国务院办公厅节假日安排通知) as administered data: draft (admin), publish (a second admin),
read (anyone signed in). Publishing reaches every service's working calendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from shared.auth.dependencies import CurrentPrincipal
from shared.http.pagination import Page, Pages
from shared.service import UoW
from svc_claims.repository.holiday_notices import HolidayNotice
from svc_claims.usecases import holiday_notices as notices

router = APIRouter(prefix="/calendar/notices", tags=["节假日安排"])


class DayOut(BaseModel):
    date: date
    name: str


class NoticeOut(BaseModel):
    id: uuid.UUID
    year: int = Field(description="年度")
    version: int | None = Field(
        description="同一年度的发布序号（发布时编定；更正通知序号更大，以最新者为准）"
    )
    status: Literal["draft", "published"] = Field(description="draft 草稿；published 已发布（不可修改）")
    source: str = Field(description="通知文号")
    holidays: list[DayOut] = Field(description="放假日期（法定节假日之外的调休放假日；法定节假日总是放假）")
    workdays: list[DayOut] = Field(description="调休上班的周末日期")
    drafted_by: str
    drafted_at: datetime
    reviewed_by: str | None = Field(description="审核人（须不同于起草人）")
    review_note: str | None
    published_by: str | None
    published_at: datetime | None


class PublishIn(BaseModel):
    note: str | None = Field(None, max_length=500, description="审核意见")


def _out(notice: HolidayNotice) -> NoticeOut:
    return NoticeOut(
        id=notice.id, year=notice.year, version=notice.version, status=notice.status,  # type: ignore[arg-type]
        source=notice.source, holidays=notice.document["holidays"], workdays=notice.document["workdays"],
        drafted_by=notice.drafted_by, drafted_at=notice.drafted_at, reviewed_by=notice.reviewed_by,
        review_note=notice.review_note, published_by=notice.published_by, published_at=notice.published_at,
    )  # fmt: skip


@router.post("", status_code=201, response_model=NoticeOut, summary="起草某年度节假日安排通知（管理员）")
async def draft(
    document: Annotated[
        dict[str, Any],
        Body(
            description='{"year": 2027, "source": "文号", "holidays": [{"date": …, "name": …}], "workdays": […]}'
        ),
    ],
    actor: CurrentPrincipal,
    uow: UoW,
) -> NoticeOut:
    """整体校验，所有错误一次列出（422 invalid_holiday_notice，errors 逐项给出位置）；须由另一名管理员发布后生效。"""
    return _out(await uow.run(notices.draft, actor, document))


@router.get("", response_model=Page[NoticeOut], summary="节假日安排通知列表")
async def listed(
    actor: CurrentPrincipal,
    uow: UoW,
    pages: Pages,
    year: Annotated[int | None, Query(ge=2004, le=2100)] = None,
    status: Literal["draft", "published"] | None = None,
) -> dict:
    """已发布的通知任何登录用户可查；草稿仅管理员可见。"""
    return pages.of([_out(n) for n in await uow.read(notices.listed, actor, year=year, status=status)])


class PublishedOut(BaseModel):
    year: int
    version: int = Field(description="该年度的发布序号（以最新者为准）")
    source: str = Field(description="通知文号")
    holidays: list[DayOut]
    workdays: list[DayOut]


@router.get(
    "/published", response_model=Page[PublishedOut], summary="已发布的节假日安排（公开：各年度最新一份）"
)
async def published(uow: UoW, pages: Pages) -> dict:
    """国务院办公厅的通知本是公开文件：无需登录。网关的公开工作日历据此载入（各服务另经事件载入）。"""
    return pages.of([
        PublishedOut(year=n.year, version=n.version or 0, source=n.source, holidays=n.document["holidays"],
                     workdays=n.document["workdays"])
        for n in await uow.read(notices.latest_published)
    ])  # fmt: skip


@router.get("/{notice_id}", response_model=NoticeOut, summary="节假日安排通知")
async def one(notice_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW) -> NoticeOut:
    return _out(await uow.read(notices.visible, actor, notice_id))


@router.post("/{notice_id}/publish", response_model=NoticeOut, summary="审核并发布（另一名管理员）")
async def publish(
    notice_id: uuid.UUID, actor: CurrentPrincipal, uow: UoW, body: PublishIn | None = None
) -> NoticeOut:
    """发布人须是起草人以外的管理员（403 four_eyes）；发布后不可修改。各服务的工作日历随即载入，
    该年度暂定的期限按正式安排重新计算。"""
    published = await uow.run(notices.publish, actor, notice_id, note=body.note if body else None)
    notices.load_into_calendar(published)  # this process at once; the others on the announcement
    return _out(published)
