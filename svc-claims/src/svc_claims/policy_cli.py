"""`python -m svc_claims.policy_cli`: benefit policy files from the command line.

    check FILE… [--kind K]               validate files in the documented format; every error is listed
                                         (K: benefit, maternity or maternity_allowance; default benefit)
    sample YEAR [--region R --region-name N] [-o FILE]
                                         a clearly labelled SAMPLE version for YEAR derived from the 2021
                                         Tianjin resident rules (demonstrations only)
    draft FILE --user U --password P [--kind K]
                                         submit a file as a draft through the gateway (an admin)
    publish ID --user U --password P     review and publish a draft (another admin)

The gateway is $YB_GATEWAY_URL or http://localhost:8000. ``make up`` publishes the current year's
sample with ``publish_sample`` (drafted by ``admin``, published by ``admin2``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from svc_claims.domain.benefits.policy import Policy
from svc_claims.domain.maternity import AllowancePolicy, MaternityTable
from svc_claims.repository.policies import MATERNITY_DIR, POLICY_DIR

DEFAULT_GATEWAY = "http://localhost:8000"
SAMPLE_BASE = POLICY_DIR / "tianjin-resident-2021.json"
MODELS: dict[str, type[BaseModel]] = {
    "benefit": Policy, "maternity": MaternityTable, "maternity_allowance": AllowancePolicy,
}  # fmt: skip
KINDS = tuple(MODELS)
SAMPLE_LABEL = "【示例数据，非正式政策】"


def check(text: str, kind: str = "benefit") -> list[str]:
    """Every error of a policy document of its kind, one line each ("" when it validates)."""
    model = MODELS[kind]
    try:
        model.model_validate_json(text)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc']) or '(文件)'}: {e['msg']}" for e in exc.errors()]
    return []


def sample_document(year: int, region: str = "120000", region_name: str = "天津市") -> dict[str, Any]:
    """The 2021 Tianjin resident rules relabelled as a sample version of ``year`` (and region): every value as in
    2021, the whole marked ``sample`` so a bill computed with it says so and is paid only where demos are allowed."""
    base = json.loads(SAMPLE_BASE.read_text(encoding="utf-8"))
    doc = copy.deepcopy(base)
    doc.pop("version", None)
    doc.update(
        year=year, region=region, region_name=region_name, sample=True, effective_from=f"{year}-01-01",
        title=f"{SAMPLE_LABEL}{region_name}城乡居民医保待遇（{year}，按2021年天津规则示例，仅供演示）",
        documents=[*base["documents"], f"示例：{year} 年度政策未发布，数值沿用 2021 年，仅供演示"],
    )  # fmt: skip
    return doc


def _token(client: httpx.Client, user: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": user, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def draft(
    client: httpx.Client, headers: dict[str, str], document: dict[str, Any], kind: str = "benefit"
) -> dict[str, Any]:
    answer = client.post("/api/v1/claims/policies", params={"kind": kind}, json=document, headers=headers)
    if answer.status_code != 201:
        raise RuntimeError(_problem(answer))
    return dict(answer.json())


def publish(
    client: httpx.Client, headers: dict[str, str], version_id: str, note: str | None = None
) -> dict[str, Any]:
    answer = client.post(
        f"/api/v1/claims/policies/{version_id}/publish", json={"note": note}, headers=headers
    )
    if answer.status_code != 200:
        raise RuntimeError(_problem(answer))
    return dict(answer.json())


def _problem(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}: {answer.text}"
    errors = "".join(f"\n  {e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
    return f"HTTP {answer.status_code} {body.get('code')}: {body.get('title')} {body.get('detail') or ''}{errors}"


def sample_maternity_document(
    year: int, scheme: str, region: str = "120000", region_name: str = "天津市"
) -> dict[str, Any]:
    """The 2021 Tianjin maternity table of ``scheme`` relabelled as a sample version of ``year`` (and region)."""
    name = (
        "tianjin-resident-maternity-2021.json"
        if scheme == "resident"
        else "tianjin-employee-maternity-2021-SAMPLE.json"
    )
    doc = json.loads((MATERNITY_DIR / name).read_text(encoding="utf-8"))
    doc.pop("version", None)
    people = "城乡居民" if scheme == "resident" else "职工"
    doc.update(
        year=year, region=region, sample=True, effective_from=f"{year}-01-01",
        title=f"{SAMPLE_LABEL}{region_name}{people}生育保险待遇（{year}，按2021年天津标准示例，仅供演示）",
        source=f"示例：{year} 年度生育保险待遇表未发布，数值沿用 2021 年，仅供演示。{doc['source']}",
    )  # fmt: skip
    return dict(doc)


def publish_sample(gateway_url: str, year: int, drafter: tuple[str, str], publisher: tuple[str, str],
                   region: str = "120000", region_name: str = "天津市") -> dict[str, Any] | None:  # fmt: skip
    """Draft and publish the sample benefit version of ``year`` unless one of that year is already published (make up
    may run again on the same database), and likewise the sample maternity tables of both schemes; the published
    benefit version, or None when there was one already."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        drafter_headers, publisher_headers = _token(client, *drafter), _token(client, *publisher)
        note = "演示环境示例政策（make up）"
        for scheme in ("resident", "employee"):
            if not _published_in(client, drafter_headers, "maternity", region, scheme, year):
                drafted = draft(
                    client,
                    drafter_headers,
                    sample_maternity_document(year, scheme, region, region_name),
                    "maternity",
                )
                publish(client, publisher_headers, drafted["id"], note)
        if _published_in(client, drafter_headers, "benefit", region, "resident", year):
            return None
        drafted = draft(client, drafter_headers, sample_document(year, region, region_name))
        return publish(client, publisher_headers, drafted["id"], note)


def _published_in(
    client: httpx.Client, headers: dict[str, str], kind: str, region: str, scheme: str, year: int
) -> bool:
    params: dict[str, str | int] = {
        "kind": kind,
        "region": region,
        "scheme": scheme,
        "status": "published",
        "size": 100,
    }
    listed = client.get("/api/v1/claims/policies", params=params, headers=headers)
    listed.raise_for_status()
    return any(v["year"] == year for v in listed.json()["items"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m svc_claims.policy_cli", description="待遇政策文件：校验、示例、起草、发布"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="校验政策文件（列出全部错误）")
    checking.add_argument("files", nargs="+", type=Path)
    checking.add_argument("--kind", choices=KINDS, default="benefit")
    sampling = commands.add_parser("sample", help="按 2021 年天津居民规则生成某年度的示例政策（仅供演示）")
    sampling.add_argument("year", type=int)
    sampling.add_argument("--region", default="120000")
    sampling.add_argument("--region-name", default="天津市")
    sampling.add_argument("-o", "--output", type=Path)
    for name, what in (("draft", "起草：提交政策文件为草稿"), ("publish", "审核并发布草稿（另一名管理员）")):
        sub = commands.add_parser(name, help=what)
        sub.add_argument("target", help="政策文件" if name == "draft" else "草稿编号")
        sub.add_argument("--user", required=True)
        sub.add_argument("--password", required=True)
        sub.add_argument("--gateway", default=os.environ.get("YB_GATEWAY_URL", DEFAULT_GATEWAY))
        sub.add_argument("--note", default=None)
        sub.add_argument("--kind", choices=KINDS, default="benefit", help="draft 时的政策种类")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check_files(args.files, args.kind)
    if args.command == "sample":
        text = json.dumps(
            sample_document(args.year, args.region, args.region_name), ensure_ascii=False, indent=2
        )
        args.output.write_text(text + "\n", encoding="utf-8") if args.output else print(text)
        return 0
    with httpx.Client(base_url=args.gateway, timeout=30) as client:
        headers = _token(client, args.user, args.password)
        try:
            if args.command == "draft":
                errors = check(Path(args.target).read_text(encoding="utf-8"), args.kind)
                if errors:
                    print("\n".join([f"{args.target}: {len(errors)} 处错误", *errors]), file=sys.stderr)
                    return 1
                done = draft(
                    client, headers, json.loads(Path(args.target).read_text(encoding="utf-8")), args.kind
                )
            else:
                done = publish(client, headers, args.target, args.note)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    print(
        json.dumps(
            {k: done[k] for k in ("id", "region", "scheme", "year", "effective_from", "version", "status")},
            ensure_ascii=False,
        )
    )
    return 0


def _check_files(files: list[Path], kind: str = "benefit") -> int:
    return report_checks(files, lambda text: check(text, kind))


def report_checks(files: list[Path], check_text: Callable[[str], list[str]]) -> int:
    """Each file checked and every error printed; exit status 1 when any file has one."""
    failed = 0
    for file in files:
        errors = check_text(file.read_text(encoding="utf-8"))
        print(f"{file}: {'合规' if not errors else f'{len(errors)} 处错误'}")
        for error in errors:
            print(f"  {error}")
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
