"""The staff workbench (经办工作台): the built front end of workbench/ served under /workbench.

The pages hold no data: they sign in and call the public REST API with the user's token, so anyone may
load them (as the ops page). `make up` builds workbench/dist (npm ci && npm run build); the image builds it
in its own stage. Hashed assets are cached for good; any other path under /workbench that names no file is
a page of the single-page application and gets index.html (the router of the page shows it).
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from shared.errors import Problem

PREFIX = "/workbench"
# gateway/src/gateway/workbench.py → the repository root (the image keeps the same layout under /app).
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "workbench" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"


def workbench_dist() -> Path:
    return Path(os.environ.get("YB_WORKBENCH_DIST", DEFAULT_DIST))


def workbench_router(dist: Path | None = None) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    root = (dist or workbench_dist()).resolve()

    def index() -> Response:
        page = root / "index.html"
        if not page.is_file():
            raise Problem(
                404,
                "workbench_not_built",
                "经办工作台尚未构建",
                "请先构建前端（make up 会执行 npm ci 与 npm run build）",
            )
        # The page names the current hashed assets: never cached, so a new build is picked up at once.
        return FileResponse(
            page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    @router.get(PREFIX)
    async def workbench() -> Response:
        return index()

    @router.get(PREFIX + "/{path:path}")
    async def workbench_path(path: str) -> Response:
        found = _file(root, path)
        if found is not None:
            media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return FileResponse(found, media_type=media_type, headers={"Cache-Control": cache})
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            raise Problem(404, "not_found", "资源不存在")  # a missing file, not a page
        return index()

    return router


def _file(root: Path, path: str) -> Path | None:
    """The file a path names inside the build, never outside it (.. and links are resolved first)."""
    if not path or "\x00" in path:
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
