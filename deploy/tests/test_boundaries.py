"""The import boundaries of pyproject.toml's [tool.importlinter] hold, and a deliberate violation breaks them.

The violation is a real module written into the real tree for the length of one check, so the test proves
that the contracts as configured catch it, not a copy of them.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def lint_imports() -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
    ]
    return subprocess.run(
        [*command, "--no-cache", "--no-logo"], cwd=REPO, capture_output=True, text=True, check=False
    )


@contextmanager
def probe_module(package_dir: str, source: str) -> Iterator[str]:
    """A throw-away module in `package_dir` (relative to the repository) holding `source`."""
    name = f"_boundary_probe_{uuid.uuid4().hex[:8]}"
    path = REPO / package_dir / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    try:
        yield name
    finally:
        path.unlink()


def test_the_repository_keeps_its_import_boundaries() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("package_dir", "source", "broken"),
    [
        ("shared/src/shared", "import svc_claims\n", "shared imports no service and not deploy"),
        ("shared/src/shared", "import yb_deploy\n", "shared imports no service and not deploy"),
        ("svc-claims/src/svc_claims", "import svc_registration\n", "No service imports another"),
        ("gateway/src/gateway", "import svc_transfer\n", "No service imports another"),
        ("svc-settlement/src/svc_settlement/domain", "import sqlalchemy\n", "domain imports no I/O"),
        (
            "svc-transfer/src/svc_transfer/domain",
            "from svc_transfer import models\n",
            "domain imports no I/O",
        ),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(package_dir: str, source: str, broken: str) -> None:
    with probe_module(package_dir, source) as probe:
        result = lint_imports()
    assert result.returncode != 0
    assert broken in result.stdout
    assert probe in result.stdout
