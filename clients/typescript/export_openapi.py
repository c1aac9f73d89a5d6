"""Write the platform's merged OpenAPI document, built from the code (no running platform needed).

The same document the gateway serves at /openapi.json: the gateway's own operations merged with each
service's public ones by gateway.openapi.merge. The TypeScript client is generated from it:

    uv run --frozen python clients/typescript/export_openapi.py clients/typescript/openapi.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI

SERVICES = ("registration", "claims", "settlement", "transfer", "facility")


def _inner_fastapi(app: Any) -> FastAPI:
    # create_app wraps the gateway's FastAPI app in plain ASGI middleware, each keeping it as `.app`.
    while not isinstance(app, FastAPI):
        app = app.app
    return app


def merged_document() -> dict[str, Any]:
    from shared.auth.issuer import JWKS_FILE, DevIssuer

    with tempfile.TemporaryDirectory() as keys:
        DevIssuer.load_or_create(Path(keys), "https://auth.yibao.local", "yibao-platform")
        before = os.environ.get("YB_AUTH_JWKS_FILE")
        os.environ["YB_AUTH_JWKS_FILE"] = str(Path(keys) / JWKS_FILE)
        try:
            return _merged(Path(keys))
        finally:
            if before is None:
                os.environ.pop("YB_AUTH_JWKS_FILE")
            else:
                os.environ["YB_AUTH_JWKS_FILE"] = before


def _merged(keys: Path) -> dict[str, Any]:
    from gateway.main import create_app as gateway_app
    from gateway.openapi import base_document, merge
    from gateway.settings import GatewaySettings
    from svc_claims.main import create_app as claims
    from svc_facility.main import create_app as facility
    from svc_registration.main import create_app as registration
    from svc_settlement.main import create_app as settlement
    from svc_transfer.main import create_app as transfer

    factories = {"registration": registration, "claims": claims, "settlement": settlement,
                 "transfer": transfer, "facility": facility}  # fmt: skip
    documents = {name: factories[name]().openapi() for name in SERVICES}
    gateway = _inner_fastapi(gateway_app(GatewaySettings(key_dir=keys)))
    return merge(base_document(gateway), documents)


def main(target: str) -> None:
    text = json.dumps(merged_document(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    Path(target).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
