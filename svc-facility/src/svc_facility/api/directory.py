"""The office directory and the service catalogue: public reference data for the apps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from shared.directory import (
    CatalogueItem,
    Office,
    catalogue_item,
    load_catalogue,
    load_offices,
    office_by_code,
)
from shared.errors import not_found
from shared.http.pagination import Page, Pages

router = APIRouter(tags=["经办机构与服务事项"])


@router.get("/offices", response_model=Page[Office], summary="经办机构目录（公开）")
async def offices(
    pages: Pages,
    region: Annotated[str | None, Query(max_length=20, description="如 天津市")] = None,
    level: Literal["city", "district", "township", "village"] | None = None,
) -> dict:
    return pages.of(
        [
            o
            for o in load_offices()
            if (region is None or o.region == region) and (level is None or o.level == level)
        ]
    )


@router.get("/offices/{code}", response_model=Office, summary="经办机构详情（公开）")
async def office(code: str) -> Office:
    found = office_by_code(code)
    if found is None:
        raise not_found("经办机构")
    return found


@router.get("/catalogue", response_model=Page[CatalogueItem], summary="医保经办服务事项目录（公开）")
async def catalogue(
    pages: Pages,
    q: Annotated[str | None, Query(max_length=50, description="事项名称包含")] = None,
    region: Annotated[str | None, Query(max_length=20)] = None,
    flag: Annotated[
        str | None, Query(max_length=40, description="如 online、cross_province、commitment")
    ] = None,
) -> dict:
    return pages.of(
        [
            item
            for item in load_catalogue()
            if (q is None or q in item.name or (item.sub_item and q in item.sub_item))
            and (region is None or item.region == region)
            and (flag is None or flag in item.flags)
        ]
    )


@router.get("/catalogue/{item_id}", response_model=CatalogueItem, summary="服务事项详情（公开）")
async def catalogue_entry(item_id: str) -> CatalogueItem:
    found = catalogue_item(item_id)
    if found is None:
        raise not_found("服务事项")
    return found
