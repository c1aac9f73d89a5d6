"""One OpenAPI document for the whole platform, merged from the services' own documents."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.http.openapi import describe_operations

CACHE_S = 30.0


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name in renames:
                return {**node, "$ref": f"#/components/schemas/{renames[name]}"}
        return {k: _rename_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


PUBLIC_PREFIXES = ("/api/v1/", "/interop/v1/")


def _renames(service: str, own: dict, merged: dict) -> dict[str, str]:
    """Names to rename in `service`'s schemas: those that differ from the merged schema of the same
    name once their references are rewritten. Repeated until stable, since renaming one schema
    changes every schema that refers to it."""
    renames: dict[str, str] = {}
    while True:
        found = {
            name: f"{service}__{name}"
            for name, schema in own.items()
            if name in merged and _rename_refs(schema, renames) != merged[name]
        }
        if found == renames:
            return renames
        renames = found


def merge(base: dict, documents: dict[str, dict]) -> dict:
    """Add each service's public paths and their schemas to `base`; a schema name two services define
    differently is renamed `<service>__<name>` in the later one. Service-internal paths (health,
    metrics) are not reachable through the gateway and are left out."""
    merged = {
        **base,
        "paths": dict(base.get("paths", {})),
        "components": {"schemas": dict(base.get("components", {}).get("schemas", {}))},
    }
    schemas = merged["components"]["schemas"]
    for service, document in documents.items():
        renames = _renames(service, document.get("components", {}).get("schemas", {}), schemas)
        document = _rename_refs(document, renames)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        merged["paths"].update(
            {p: v for p, v in document.get("paths", {}).items() if p.startswith(PUBLIC_PREFIXES)}
        )
    merged["components"]["securitySchemes"] = {
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    return merged


def base_document(app: FastAPI) -> dict[str, Any]:
    """The gateway's own operations (sign-in, calendar, health, ops, my cases), described in both languages."""
    base = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description="网关与各服务接口合并文档"
    )
    return describe_operations(base)


class MergedOpenAPI:
    def __init__(self, session_source, upstreams):  # type: ignore[no-untyped-def]
        self._session_source, self._upstreams = session_source, upstreams
        self._cached: tuple[float, dict] | None = None

    async def document(self, base: dict) -> dict:
        if self._cached and time.monotonic() - self._cached[0] < CACHE_S:
            return self._cached[1]
        documents = await self._fetch_all()
        merged = merge(base, documents)
        if len(documents) == len(self._upstreams.services):
            self._cached = (time.monotonic(), merged)
        return merged

    async def _fetch_all(self) -> dict[str, dict]:
        session: aiohttp.ClientSession = self._session_source()
        services = self._upstreams.services

        async def fetch(service: str) -> dict | None:
            url = f"{self._upstreams.all_urls(service)[0]}/api/v1/{service}/openapi.json"
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                    return await response.json() if response.status == 200 else None
            except (TimeoutError, aiohttp.ClientError):
                return None

        results = await asyncio.gather(*(fetch(s) for s in services))
        return {s: doc for s, doc in zip(services, results, strict=True) if doc is not None}
