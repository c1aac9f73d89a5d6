"""The policy command line: a file is checked whole, and the demo sample is labelled as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svc_claims.domain.benefits.policy import Policy
from svc_claims.policy_cli import SAMPLE_LABEL, check, main, sample_document
from svc_claims.repository.policies import POLICY_DIR, load_policy


def test_a_broken_file_is_refused_with_every_error_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = sample_document(2027)
    doc["scheme"] = "martian"
    doc["basic"]["annual_cap"]["value"] = "-1"
    doc["basic"]["remote"]["referred_extra_self_pay"]["value"] = "2"
    file = tmp_path / "broken.json"
    file.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["check", str(file)]) == 1
    out = capsys.readouterr().out
    assert "3 处错误" in out
    for where in ("scheme", "basic.annual_cap.value", "basic.remote.referred_extra_self_pay.value"):
        assert where in out


def test_the_bundled_files_pass_the_check() -> None:
    for file in POLICY_DIR.glob("*.json"):
        assert check(file.read_text(encoding="utf-8")) == [], file


def test_the_sample_of_a_year_is_the_2021_rules_labelled_sample() -> None:
    sample = Policy.model_validate(sample_document(2026))
    real = load_policy("120000", "resident", 2021)
    assert (sample.year, sample.sample, str(sample.starts)) == (2026, True, "2026-01-01")
    assert sample.title.startswith(SAMPLE_LABEL)
    assert sample.basic == real.basic and sample.major_illness == real.major_illness and not real.sample


def test_a_sample_for_another_region(tmp_path: Path) -> None:
    out = tmp_path / "tangshan.json"
    assert main(["sample", "2026", "--region", "130200", "--region-name", "唐山市", "-o", str(out)]) == 0
    policy = Policy.model_validate_json(out.read_text(encoding="utf-8"))
    assert (policy.region, policy.region_name, policy.sample) == ("130200", "唐山市", True)


def test_a_maternity_table_is_checked_against_its_own_kind() -> None:
    from svc_claims.repository.policies import MATERNITY_DIR

    text = (MATERNITY_DIR / "tianjin-resident-maternity-2021.json").read_text(encoding="utf-8")
    assert check(text, "maternity") == []
    assert check(text) != []  # not a benefit policy
    broken = json.loads(text) | {"year": "next", "region": "tianjin"}
    errors = check(json.dumps(broken), "maternity")
    assert {e.split(":")[0] for e in errors} >= {"year", "region"}


def test_the_sample_maternity_tables_are_labelled_and_valid_for_the_year() -> None:
    from svc_claims.domain.maternity import MaternityTable
    from svc_claims.policy_cli import sample_maternity_document

    for scheme in ("resident", "employee"):
        table = MaternityTable.model_validate(sample_maternity_document(2026, scheme, "130200", "唐山市"))
        assert (table.year, table.scheme, table.region, table.sample) == (2026, scheme, "130200", True)
        assert table.title.startswith(SAMPLE_LABEL) and table.starts.isoformat() == "2026-01-01"
        assert table.items["natural_delivery"].amount == load_maternity_2021(scheme)
    assert check(json.dumps(sample_maternity_document(2026, "resident")), "maternity") == []


def load_maternity_2021(scheme: str):  # type: ignore[no-untyped-def]
    from svc_claims.repository.policies import maternity_table

    return maternity_table("120000", scheme, 2021).items["natural_delivery"].amount
