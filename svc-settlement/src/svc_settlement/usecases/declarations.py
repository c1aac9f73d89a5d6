"""A facility's monthly declarations (月结申报): declared, corrected (applied at once to the tables already
computed), read with what staff must act on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Conflict, Forbidden, NotFound
from svc_settlement.domain import approval
from svc_settlement.domain.declaration import (
    CARE_TYPES,
    Bill,
    DeclaredLine,
    Period,
    check_bills_match,
    check_lines,
    check_period_ended,
    totals_by_care_type,
)
from svc_settlement.repository import Repository
from svc_settlement.repository.clearings import money_map
from svc_settlement.usecases.access import (
    may_see_facility,
    offices_in_scope,
)
from svc_settlement.usecases.clearings import plan_key, save_plan


@dataclass(frozen=True)
class DeclarationIn:
    facility_code: str | None
    period: str
    insurance_type: str
    lines: list[DeclaredLine]
    bills: list[Bill]
    replaces_version: int | None
    reason: str | None


async def declare(uow: UnitOfWork, actor: Principal, body: DeclarationIn) -> dict:
    """A facility's monthly declaration, for itself, for an ended month, while designated; corrections are new versions."""
    own = actor.facility_id
    if not own:
        raise Forbidden("no_facility", "当前账号未关联定点医药机构", "只有定点医药机构可以月结申报")
    if body.facility_code is not None and body.facility_code != own:
        raise Forbidden("not_own_facility", "只能为本机构申报", f"当前账号所属机构为 {own}",
                      errors=[{"field": "body.facility_code", "message": "只能为本机构申报"}])  # fmt: skip
    period = Period.parse(body.period)
    check_period_ended(period, uow.clock.today())
    repo = Repository(uow)
    facility = await repo.facility(own)
    if facility is None or facility["status"] != "designated":
        state = {"suspended": "已暂停医保服务", "terminated": "已解除定点协议"}.get(
            (facility or {}).get("status", ""), "不在定点名录中"
        )
        raise Conflict(
            "facility_not_designated", "本机构当前不是定点医药机构，不能申报", f"机构 {own}{state}"
        )
    check_lines(body.lines)
    bill_count = check_bills_match(body.lines, body.bills)
    current = await repo.latest_declaration(own, str(period), body.insurance_type, for_update=True)
    if current is not None and body.replaces_version != current["version"]:
        raise Conflict("declaration_exists", "该月已申报，更正时须提供当前版本号", f"当前版本为 {current['version']}",
                      current_version=current["version"])  # fmt: skip
    if current is None and body.replaces_version is not None:
        raise Conflict("declaration_missing", "该月尚未申报，无可更正的版本")
    row = {
        "id": uuid.uuid4(), "facility_code": own, "period": str(period), "insurance_type": body.insurance_type,
        "version": (current["version"] + 1) if current else 1,
        "lines": [{"care_type": line.care_type, "origin": line.origin, **money_map(line.amounts)} for line in body.lines],
        "totals": {care: money_map(t) for care, t in totals_by_care_type(body.lines).items()},
        "bill_count": bill_count, "declared_by": actor.subject, "declared_at": uow.clock.now(), "declared_on": uow.clock.today(),
        "reason": body.reason,
    }  # fmt: skip
    bills = (
        {
            "bill_no": b.bill_no,
            "care_type": b.care_type,
            "origin": b.origin,
            "amounts": money_map({k: v for k, v in b.amounts.items() if v}),
        }
        for b in body.bills
    )
    await repo.add_declaration(row, bills)
    await _apply_to_tables(uow, repo, actor, row)
    return {**row, "latest": True, "flags": await declaration_flags(repo, row, uow.clock.today())}


async def _apply_to_tables(uow: UnitOfWork, repo: Repository, actor: Principal, row: dict) -> None:
    """A declaration (above all a correction) is applied at once to the tables already computed: its month and
    every cleared month after it are computed again (a paid month keeps its table and what it now lacks goes into
    the next open month). One the tables cannot take (a line would turn negative against the office's
    rejections) is refused and nothing is saved."""
    period = Period.parse(row["period"])
    what = f"{period} {'更正申报' if row['version'] > 1 else '申报'}（第{row['version']}版）"
    for care in await repo.cleared_care_types(row["facility_code"], row["insurance_type"]):
        plan = await plan_key(uow, repo, actor, (row["facility_code"], row["insurance_type"], care), None,
                              lambda p: what if p == period else f"{what}后顺延", period)  # fmt: skip
        await save_plan(repo, actor, plan)


async def declaration_flags(repo: Repository, row: dict, today: date) -> list[dict]:
    """What staff must act on: a declared care type without a budget for the year gets no table; it still has
    to be settled within the 30 working days from its declaration."""
    budgeted = await repo.budgeted_care_types(
        row["facility_code"], Period.parse(row["period"]).year, row["insurance_type"]
    )
    flags = []
    for care in row["totals"]:
        if care in budgeted:
            continue
        deadline = approval.payment_deadline(default_calendar(), row["declared_on"], today)
        flags.append({
            "code": "no_budget", "care_type": care, "care_name": CARE_TYPES.get(care, care),
            "message": f"{CARE_TYPES.get(care, care)}没有 {row['period'][:4]} 年度总额指标，无法生成清算表：请经办机构下达总额指标后清算",
            "starts_on": deadline.starts_on, "due_on": deadline.due_on, "working_days_left": deadline.working_days_left,
            "overdue": deadline.overdue, "provisional": deadline.provisional,
        })  # fmt: skip
    return flags


async def with_flags(uow: UnitOfWork, repo: Repository, rows: list[dict]) -> list[dict]:
    latest: dict[tuple, int] = {}
    for row in rows:
        key = (row["facility_code"], row["period"], row["insurance_type"])
        latest[key] = max(latest.get(key, 0), row["version"])
    out = []
    for row in rows:
        current = latest[(row["facility_code"], row["period"], row["insurance_type"])] == row["version"]
        flags = await declaration_flags(repo, row, uow.clock.today()) if current else []
        out.append({**row, "latest": current, "flags": flags})
    return out


async def declaration_view(uow: UnitOfWork, actor: Principal, declaration_id: uuid.UUID) -> dict:
    repo = Repository(uow)
    row = await repo.declaration(declaration_id)
    if row is None or not await may_see_facility(repo, actor, row["facility_code"]):
        raise NotFound("月结申报")
    latest = await repo.latest_declaration(row["facility_code"], row["period"], row["insurance_type"])
    current = latest is None or latest["version"] == row["version"]
    return {
        **row,
        "latest": current,
        "flags": await declaration_flags(repo, row, uow.clock.today()) if current else [],
    }


async def list_declarations(uow: UnitOfWork, actor: Principal, *, facility_code: str | None, period: str | None,
                            flagged: bool = False) -> list[dict]:  # fmt: skip
    """Declarations in the caller's reach (a facility: its own; staff: their office's); `flagged`: only those
    staff must act on (a care type without a budget)."""
    repo = Repository(uow)
    own = actor.facility_id or "-" if actor.role is Role.facility else facility_code
    offices = None if actor.role is Role.facility else offices_in_scope(actor)
    if flagged:
        ids = {r["id"] for r in await repo.unbudgeted_declarations(offices, period, own)}
        rows = [await repo.declaration(i) for i in ids]
        return sorted(
            await with_flags(uow, repo, [r for r in rows if r]),
            key=lambda r: (r["period"], r["facility_code"]),
        )
    return await with_flags(uow, repo, await repo.declarations_of(own, period, offices))
