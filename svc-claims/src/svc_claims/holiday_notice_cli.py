"""`python -m svc_claims.holiday_notice_cli`: the State Council's yearly holiday notice from the command line.

    check FILE…                          validate notice files (the format of shared/data/holidays/README.md);
                                         every error of each file is listed
    draft FILE --user U --password P     submit a file as a draft through the gateway (an admin)
    publish ID --user U --password P     review and publish a draft (another admin); every service's
                                         calendar then loads it

The gateway is $YB_GATEWAY_URL or http://localhost:8000.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from shared.holiday_notices import notice_problems
from svc_claims.policy_cli import DEFAULT_GATEWAY, _problem, _token, report_checks

NOTICES = "/api/v1/claims/calendar/notices"


def check(text: str) -> list[str]:
    """Every error of a notice document, one line each (empty when it validates)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        return [f"(文件): 不是合法的 JSON：{exc}"]
    return [f"{p['field'] or '(文件)'}: {p['message']}" for p in notice_problems(document)]


def draft(client: httpx.Client, headers: dict[str, str], document: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(NOTICES, json=document, headers=headers)
    if answer.status_code != 201:
        raise RuntimeError(_problem(answer))
    return dict(answer.json())


def publish(
    client: httpx.Client, headers: dict[str, str], notice_id: str, note: str | None
) -> dict[str, Any]:
    answer = client.post(f"{NOTICES}/{notice_id}/publish", json={"note": note}, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(_problem(answer))
    return dict(answer.json())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m svc_claims.holiday_notice_cli", description="节假日安排通知：校验、起草、发布"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="校验通知文件（列出全部错误）")
    checking.add_argument("files", nargs="+", type=Path)
    for name, what in (("draft", "起草：提交通知文件为草稿"), ("publish", "审核并发布草稿（另一名管理员）")):
        sub = commands.add_parser(name, help=what)
        sub.add_argument("target", help="通知文件" if name == "draft" else "草稿编号")
        sub.add_argument("--user", required=True)
        sub.add_argument("--password", required=True)
        sub.add_argument("--gateway", default=os.environ.get("YB_GATEWAY_URL", DEFAULT_GATEWAY))
        sub.add_argument("--note", default=None)
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check_files(args.files)
    if args.command == "draft":
        errors = check(Path(args.target).read_text(encoding="utf-8"))
        if errors:
            print("\n".join([f"{args.target}: {len(errors)} 处错误", *errors]), file=sys.stderr)
            return 1
    with httpx.Client(base_url=args.gateway, timeout=30) as client:
        headers = _token(client, args.user, args.password)
        try:
            if args.command == "draft":
                done = draft(client, headers, json.loads(Path(args.target).read_text(encoding="utf-8")))
            else:
                done = publish(client, headers, args.target, args.note)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    print(json.dumps({k: done[k] for k in ("id", "year", "version", "status")}, ensure_ascii=False))
    return 0


def _check_files(files: list[Path]) -> int:
    return report_checks(files, check)


if __name__ == "__main__":
    raise SystemExit(main())
