"""API documentation pages that work without internet access.

FastAPI's default /docs loads Swagger UI from a CDN, a blank page on an office machine with no
internet. The gateway serves the Swagger UI assets (5.x, which reads OpenAPI 3.1) from the
`fastapi-offline` package instead:
`/docs` for the merged document, `/docs/<service>` for each service's own document (fetched through
the gateway's public `/api/v1/<service>/openapi.json`, so a browser needs no token to read it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParameter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from shared.errors import Problem

ASSETS = "/docs/assets"
ASSET_FILES = Path(str(files("fastapi_offline") / "static"))
TITLE = "医保经办平台 API 文档"


def swagger_page(openapi_url: str, title: str) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        swagger_ui_parameters={"docExpansion": "none", "displayOperationId": True, "tryItOutEnabled": False},
    )


def install_docs(app: FastAPI, services: list[str], merged: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    """Mount the assets and add `/openapi.json`, `/docs` and `/docs/<service>` to the gateway's app."""
    app.mount(ASSETS, StaticFiles(directory=ASSET_FILES), name="swagger-ui")
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def merged_openapi() -> dict[str, Any]:
        return await merged()

    @router.get("/docs")
    async def merged_docs() -> HTMLResponse:
        return swagger_page("/openapi.json", TITLE)

    @router.get("/docs/{service}")
    async def service_docs(service: str = PathParameter(pattern=r"^[a-z]+$")) -> HTMLResponse:
        if service not in services:
            raise Problem(404, "not_found", "没有这个服务的接口文档", f"可选：{', '.join(services)}")
        return swagger_page(f"/api/v1/{service}/openapi.json", f"{TITLE}：{service}")

    app.include_router(router)
