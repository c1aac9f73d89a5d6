"""The holiday notice command line: a file is checked whole, every error listed, before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svc_claims.holiday_notice_cli import check, main

GOOD = {"year": 2028, "source": "国办发明电〔2027〕N号（示例）",
        "holidays": [{"date": "2028-01-03", "name": "元旦"}], "workdays": [{"date": "2028-01-08", "name": "元旦"}]}  # fmt: skip


def test_a_good_notice_has_no_errors() -> None:
    assert check(json.dumps(GOOD)) == []


def test_every_error_of_a_notice_is_listed_at_once() -> None:
    bad = {"year": 2025, "holidays": [{"date": "2025-13-01", "name": "元旦"}], "workdays": [], "extra": 1}
    errors = check(json.dumps(bad))
    assert len(errors) == 4, errors
    assert any(e.startswith("year:") and "已内置" in e for e in errors)
    assert any(e.startswith("source:") for e in errors)
    assert any(e.startswith("holidays.0.date:") for e in errors)
    assert any(e.startswith("extra:") for e in errors)


def test_consistency_problems_are_listed_one_each() -> None:
    bad = {
        **GOOD,
        "workdays": [{"date": "2028-01-05", "name": "元旦"}, {"date": "2028-01-03", "name": "元旦"}],
    }
    errors = check(json.dumps(bad))
    assert any("both holiday and workday" in e for e in errors) and any("weekend" in e for e in errors)


def test_draft_refuses_an_invalid_file_before_signing_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "2028.json"
    file.write_text(json.dumps({**GOOD, "source": ""}), encoding="utf-8")
    # No gateway is running: the command must stop at the check, not try to sign in.
    assert (
        main(["draft", str(file), "--user", "admin", "--password", "x", "--gateway", "http://127.0.0.1:9"])
        == 1
    )
    assert "source" in capsys.readouterr().err


def test_check_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.json").write_text(json.dumps(GOOD), encoding="utf-8")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert main(["check", str(tmp_path / "good.json"), str(tmp_path / "bad.json")]) == 1
    out = capsys.readouterr().out
    assert "good.json: 合规" in out and "bad.json: 1 处错误" in out
