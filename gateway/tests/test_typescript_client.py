"""The TypeScript client for app developers (clients/typescript) is generated from the current API.

The committed merged OpenAPI document must be what the code builds today, and the committed types what
openapi-typescript makes of it; otherwise `make client` regenerates both. `make test-client` installs
the generator (npm ci) and type-checks the client and its mini-program example.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
GENERATOR = CLIENT / "node_modules" / ".bin" / "openapi-typescript"


def exported_document() -> dict:
    spec = importlib.util.spec_from_file_location("export_openapi", CLIENT / "export_openapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.merged_document()


def test_the_committed_openapi_document_is_the_one_the_code_builds() -> None:
    committed = json.loads((CLIENT / "openapi.json").read_text(encoding="utf-8"))
    assert committed == exported_document(), (
        "the API changed: run `make client` and commit clients/typescript"
    )


def test_the_committed_types_are_what_the_generator_makes_of_the_document(tmp_path: Path) -> None:
    assert GENERATOR.exists(), (
        "the generator is not installed: run `make test-client` (npm ci in clients/typescript)"
    )
    generated = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(GENERATOR), str(CLIENT / "openapi.json"), "--output", str(generated)],
        cwd=CLIENT, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    committed = (CLIENT / "src" / "schema.d.ts").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == committed, (
        "run `make client` and commit clients/typescript"
    )
