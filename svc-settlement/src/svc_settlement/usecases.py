"""Settlement use cases: one transaction each (load → domain → save → outbox; the caller commits)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import new_envelope
from shared.events.catalog import FacilityDesignatedV1, SettlementApprovedV1, SettlementPaidV1
from shared.events.envelope import Envelope
from shared.money import split_ratio
from shared.ops import DeadlineCounts, overdue_seconds
from svc_settlement import policy
from svc_settlement.domain import approval
from svc_settlement.domain.budget import split_year
from svc_settlement.domain.clearing import compute
from svc_settlement.domain.declaration import (
    CARE_TYPES, FUNDS, Bill, DeclaredLine, Period, check_bills_match, check_lines, check_period_ended, totals_by_care_type,
)  # fmt: skip
from svc_settlement.domain.entries import ENTRY_KINDS, inputs_from_entries
from svc_settlement.models import clearings
from svc_settlement.repository import Repository, carried_of, clearing_columns, money_map

# ------------------------------------------------------------------------------------ facility projection


async def record_facility(uow: UnitOfWork, envelope: Envelope, event: FacilityDesignatedV1) -> None:
    """facility.designated / updated / suspended / terminated → the local projection (newest version wins)."""
    await Repository(uow.session).record_facility_if_newer(
        {"code": event.code, "name": event.name, "kind": event.kind, "office_code": event.office_code,
         "district_code": event.district_code, "status": event.status, "version": event.version}  # fmt: skip
    )


async def _facility_for_staff(repo: Repository, code: str, actor: Principal) -> dict:
    facility = await repo.facility(code)
    if facility is None:
        raise Problem(422, "facility_unknown", "尚未收到该机构的定点信息", f"机构 {code} 不在定点医药机构名录中（或名录信息尚未同步）",
                      errors=[{"field": "body.facility_code", "message": "未知的定点医药机构"}])  # fmt: skip
    if not actor.serves_office(facility["office_code"]):
        raise Problem(403, "not_your_office", "该机构不属于您所在的经办机构", f"机构 {code} 由 {facility['office_code']} 分中心管理")
    return facility


def offices_in_scope(actor: Principal) -> list[str] | None:
    """Staff see their own office's facilities; city staff every office (None = no restriction)."""
    if actor.is_city_staff:
        return None
    return [actor.office_code or "-"]


# ------------------------------------------------------------------------------------ budgets


async def set_budget(
    uow: UnitOfWork, actor: Principal, facility_code: str, year: int, insurance_type: str, care_type: str,
    total: Decimal, weights: Sequence[Decimal] | None, reason: str, version: int | None,
) -> dict:  # fmt: skip
    """Set a budget, or change it during the year (months already approved keep their quota)."""
    repo = Repository(uow.session)
    await _facility_for_staff(repo, facility_code, actor)
    current = await repo.budget(facility_code, year, insurance_type, care_type, for_update=True)
    if current is None and version is not None:
        raise not_found("总额指标")
    if current is not None and current["version"] != version:
        raise Problem(409, "version_conflict", "总额指标已存在或已被他人修改", f"当前版本为 {current['version']}，调整时请提供该版本号",
                      current_version=current["version"])  # fmt: skip
    fixed: dict[int, Decimal] = {}
    if current is not None:
        for month in range(1, 13):
            cleared = await repo.clearing_at(facility_code, str(Period(year, month)), insurance_type, care_type)
            if cleared is not None and cleared["status"] in approval.LOCKED:
                fixed[month] = Decimal(current["quotas"][month - 1])
    quotas = split_year(total, weights, fixed)
    row = {
        "id": current["id"] if current else uuid.uuid4(), "facility_code": facility_code, "year": year,
        "insurance_type": insurance_type, "care_type": care_type, "total": total,
        "weights": [format(Decimal(w), "f") for w in weights] if weights is not None else None,
        "quotas": [format(q, "f") for q in quotas], "version": (current["version"] + 1) if current else 1, "updated_at": uow.clock.now(),
    }  # fmt: skip
    await repo.save_budget(row, actor.subject, reason)
    return row


async def budget_view(uow: UnitOfWork, actor: Principal, budget_id: uuid.UUID) -> tuple[dict, list[dict]]:
    repo = Repository(uow.session)
    budget = await repo.budget_by_id(budget_id)
    if budget is None or not await _may_see_facility(repo, actor, budget["facility_code"]):
        raise not_found("总额指标")
    return budget, await repo.budget_history(budget_id)


async def list_budgets(uow: UnitOfWork, actor: Principal, facility_code: str | None, year: int | None) -> list[dict]:
    repo = Repository(uow.session)
    if actor.role is Role.facility:
        return await repo.budgets_of([actor.facility_id or "-"], year, None)
    return await repo.budgets_of([facility_code] if facility_code else None, year, offices_in_scope(actor))


async def _may_see_facility(repo: Repository, actor: Principal, facility_code: str) -> bool:
    if actor.role is Role.facility:
        return actor.facility_id == facility_code
    facility = await repo.facility(facility_code)
    return facility is not None and actor.serves_office(facility["office_code"])


# ------------------------------------------------------------------------------------ declarations


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
        raise Problem(403, "no_facility", "当前账号未关联定点医药机构", "只有定点医药机构可以月结申报")
    if body.facility_code is not None and body.facility_code != own:
        raise Problem(403, "not_own_facility", "只能为本机构申报", f"当前账号所属机构为 {own}",
                      errors=[{"field": "body.facility_code", "message": "只能为本机构申报"}])  # fmt: skip
    period = Period.parse(body.period)
    check_period_ended(period, uow.clock.today())
    repo = Repository(uow.session)
    facility = await repo.facility(own)
    if facility is None or facility["status"] != "designated":
        state = {"suspended": "已暂停医保服务", "terminated": "已解除定点协议"}.get((facility or {}).get("status", ""), "不在定点名录中")
        raise Problem(409, "facility_not_designated", "本机构当前不是定点医药机构，不能申报", f"机构 {own}{state}")
    check_lines(body.lines)
    bill_count = check_bills_match(body.lines, body.bills)
    current = await repo.latest_declaration(own, str(period), body.insurance_type, for_update=True)
    if current is not None and body.replaces_version != current["version"]:
        raise Problem(409, "declaration_exists", "该月已申报，更正时须提供当前版本号", f"当前版本为 {current['version']}",
                      current_version=current["version"])  # fmt: skip
    if current is None and body.replaces_version is not None:
        raise Problem(409, "declaration_missing", "该月尚未申报，无可更正的版本")
    for care in CARE_TYPES:
        cleared = await repo.clearing_at(own, str(period), body.insurance_type, care)
        if cleared is not None and cleared["status"] in approval.LOCKED:
            raise Problem(409, "clearing_locked", "该月清算表已核准，不能更正申报", "已核准的月份请由经办机构通过调整支付处理")
    row = {
        "id": uuid.uuid4(), "facility_code": own, "period": str(period), "insurance_type": body.insurance_type,
        "version": (current["version"] + 1) if current else 1,
        "lines": [{"care_type": l.care_type, "origin": l.origin, **money_map(l.amounts)} for l in body.lines],
        "totals": {care: money_map(t) for care, t in totals_by_care_type(body.lines).items()},
        "bill_count": bill_count, "declared_by": actor.subject, "declared_at": uow.clock.now(), "declared_on": uow.clock.today(),
        "reason": body.reason,
    }  # fmt: skip
    bills = ({"bill_no": b.bill_no, "care_type": b.care_type, "origin": b.origin, "amounts": money_map({k: v for k, v in b.amounts.items() if v})}
             for b in body.bills)
    await repo.add_declaration(row, bills)
    return row


async def declaration_view(uow: UnitOfWork, actor: Principal, declaration_id: uuid.UUID) -> dict:
    repo = Repository(uow.session)
    row = await repo.declaration(declaration_id)
    if row is None or not await _may_see_facility(repo, actor, row["facility_code"]):
        raise not_found("月结申报")
    return row


async def list_declarations(uow: UnitOfWork, actor: Principal, facility_code: str | None, period: str | None) -> list[dict]:
    repo = Repository(uow.session)
    if actor.role is Role.facility:
        return await repo.declarations_of(actor.facility_id or "-", period, None)
    return await repo.declarations_of(facility_code, period, offices_in_scope(actor))


# ------------------------------------------------------------------------------------ staff entries


async def add_entry(
    uow: UnitOfWork, actor: Principal, facility_code: str, period: str, insurance_type: str, care_type: str,
    kind: str, amount: Decimal, reason: str,
) -> dict:  # fmt: skip
    repo = Repository(uow.session)
    await _facility_for_staff(repo, facility_code, actor)
    Period.parse(period)
    cleared = await repo.clearing_at(facility_code, period, insurance_type, care_type, for_update=True)
    if cleared is not None and cleared["status"] in approval.LOCKED:
        raise Problem(409, "clearing_locked", "该月清算表已核准，不能再录入", "请录入到下一个未核准的月份")
    row = {"id": uuid.uuid4(), "facility_code": facility_code, "period": period, "insurance_type": insurance_type,
           "care_type": care_type, "kind": kind, "amount": amount, "reason": reason, "by": actor.subject, "at": uow.clock.now()}  # fmt: skip
    await repo.add_entry(row)
    return row


async def record_assessment(
    uow: UnitOfWork, actor: Principal, facility_code: str, year: int, insurance_type: str, care_type: str,
    score_ratio: Decimal, recovery: Decimal, book_in: str, reason: str,
) -> list[dict]:  # fmt: skip
    """The yearly assessment (年度考核): releases `score_ratio` of the year's withheld reserve and records last
    year's recovery, both booked into the clearing of month `book_in` (lines 20, 21 and 34)."""
    repo = Repository(uow.session)
    await _facility_for_staff(repo, facility_code, actor)
    if Period.parse(book_in).year <= year:
        raise Problem(422, "invalid_assessment", "考核结果须计入考核年度之后的月份", errors=[{"field": "body.book_in", "message": f"应晚于 {year} 年"}])
    marker = f"{year}年度考核"
    if any(e["reason"].startswith(marker) for e in await repo.entries_of(facility_code, None, insurance_type, care_type)):
        raise Problem(409, "assessment_exists", "该年度考核结果已录入")
    pooled, relief = await repo.reserve_held(facility_code, year, insurance_type, care_type)
    made = []
    for kind, amount in (("reserve_release", split_ratio(pooled, score_ratio)[0]),
                         ("relief_reserve_release", split_ratio(relief, score_ratio)[0]), ("recovery_due", recovery)):  # fmt: skip
        if amount > 0:
            text = f"{marker}：得分比例 {score_ratio}，{ENTRY_KINDS[kind][1]}。{reason}"
            made.append(await add_entry(uow, actor, facility_code, book_in, insurance_type, care_type, kind, amount, text[:500]))
    return made


async def list_entries(uow: UnitOfWork, actor: Principal, facility_code: str, period: str | None) -> list[dict]:
    repo = Repository(uow.session)
    if not await _may_see_facility(repo, actor, facility_code):
        return []
    return await repo.entries_of(facility_code, period)


# ------------------------------------------------------------------------------------ clearing


@dataclass
class RunResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[dict] | None = None
    skipped: list[dict] | None = None


async def run_clearing(uow: UnitOfWork, actor: Principal, period_text: str, facility_code: str | None = None) -> RunResult:
    """Clear a month for every budget in the actor's scope (or one facility), and carry the change into the
    months after it that were already cleared. Running it twice changes nothing."""
    period = Period.parse(period_text)
    if not period_ended(period, uow.clock.today()):
        raise Problem(422, "period_not_ended", "结算月份尚未结束，不能清算", f"{period} 月最早于 {period.next().first_day} 清算")
    repo = Repository(uow.session)
    if facility_code is not None:
        await _facility_for_staff(repo, facility_code, actor)
    budgets = await repo.budgets_of([facility_code] if facility_code else None, period.year, offices_in_scope(actor), limit=None)
    result = RunResult(conflicts=[], skipped=[])
    for budget in budgets:
        key = (budget["facility_code"], budget["insurance_type"], budget["care_type"])
        try:
            counts = await clear_key(uow, repo, actor, key, period)
        except Problem as problem:
            if problem.code not in ("clearing_locked", "clearing_negative_line", "facility_unknown"):
                raise
            (result.conflicts if problem.code != "facility_unknown" else result.skipped).append(  # type: ignore[union-attr]
                {"facility_code": key[0], "insurance_type": key[1], "care_type": key[2], "code": problem.code, "detail": problem.detail}
            )
            continue
        result.created += counts[0]
        result.updated += counts[1]
        result.unchanged += counts[2]
    return result


def period_ended(period: Period, today: date) -> bool:
    return today > period.last_day


async def clear_key(uow: UnitOfWork, repo: Repository, actor: Principal, key: tuple[str, str, str], period: Period) -> tuple[int, int, int]:
    """Compute the chain of months for one facility, insurance type and care type, in memory first: nothing is
    written when a month already approved would change."""
    facility_code, insurance_type, care_type = key
    facility = await repo.facility(facility_code)
    if facility is None:
        raise Problem(409, "facility_unknown", "尚未收到该机构的定点信息")
    # Start at the earliest month of the year not yet cleared before `period`, so carries are never skipped.
    start = period
    while start.month > 1 and await repo.clearing_at(facility_code, str(start.previous()), insurance_type, care_type) is None:
        start = start.previous()
    previous = await repo.clearing_at(facility_code, str(start.previous()), insurance_type, care_type)
    writes: list[tuple[dict, str]] = []
    created = updated = unchanged = 0
    current = start
    while True:
        existing = await repo.clearing_at(facility_code, str(current), insurance_type, care_type, for_update=True)
        if current > period and existing is None:
            break
        budget = await repo.budget(facility_code, current.year, insurance_type, care_type)
        quota = Decimal(budget["quotas"][current.month - 1]) if budget else Decimal("0.00")
        declaration = await repo.latest_declaration(facility_code, str(current), insurance_type)
        inputs = {"quota": quota}
        if declaration is not None:
            inputs |= {k: Decimal(v) for k, v in declaration["totals"].get(care_type, {}).items()}
        entered = await repo.entries_of(facility_code, str(current), insurance_type, care_type)
        for name, amount in inputs_from_entries((e["kind"], Decimal(e["amount"])) for e in entered).items():
            inputs[name] = inputs.get(name, Decimal("0.00")) + amount
        cleared = compute(inputs, carried_of(previous), policy.reserve_rate(current.year), current.month)
        columns = clearing_columns(cleared)
        columns["reserve_rate"] = Decimal(columns["reserve_rate"]).quantize(Decimal("0.0001"))
        meta = {"declaration_version": declaration["version"] if declaration else None,
                "declared_on": declaration["declared_on"] if declaration else None}  # fmt: skip
        if existing is not None and _same(existing, columns, meta):
            unchanged += 1
            row = existing
        elif existing is not None and existing["status"] in approval.LOCKED:
            raise Problem(409, "clearing_locked", "已核准的清算表将被改变，未重新清算",
                          f"{facility_code} {current} {CARE_TYPES[care_type]} 已{approval.STATUSES[existing['status']]}；更正请以调整支付计入后续月份")  # fmt: skip
        else:
            steps = list(existing["steps"]) if existing else []
            if existing is not None and existing["status"] != "computed":
                steps.append({"action": "reset", "status": "computed", "by": actor.subject, "at": uow.clock.now().isoformat(),
                              "reason": "重新清算，审核结论作废"})  # fmt: skip
            row = {
                "id": existing["id"] if existing else uuid.uuid4(), "facility_code": facility_code,
                "office_code": facility["office_code"], "period": str(current), "insurance_type": insurance_type,
                "care_type": care_type, **columns, **meta, "status": "computed",
                "version": (existing["version"] + 1) if existing else 1, "computed_at": uow.clock.now(),
                "steps": steps, "payment": None,
            }  # fmt: skip
            cause = "首次清算" if existing is None else ("重新清算" if current == period else f"{period} 月重新清算后顺延")
            writes.append((row, cause))
            created += existing is None
            updated += existing is not None
        previous = row
        current = current.next()
    for row, cause in writes:
        await repo.save_clearing(row, cause, actor.subject)
    return created, updated, unchanged


def _same(existing: dict, columns: dict, meta: dict) -> bool:
    return (
        existing["lines"] == columns["lines"] and existing["carry"] == columns["carry"]
        and existing["inputs"] == columns["inputs"] and existing["previous"] == columns["previous"]
        and Decimal(existing["reserve_rate"]) == columns["reserve_rate"]
        and existing["declaration_version"] == meta["declaration_version"]
    )  # fmt: skip


async def clearing_view(uow: UnitOfWork, actor: Principal, clearing_id: uuid.UUID) -> dict:
    repo = Repository(uow.session)
    row = await repo.clearing(clearing_id)
    if row is None or not _may_see_clearing(actor, row):
        raise not_found("清算表")
    return row


def _may_see_clearing(actor: Principal, row: dict) -> bool:
    if actor.role is Role.facility:
        return actor.facility_id == row["facility_code"]
    return actor.serves_office(row["office_code"])


async def list_clearings(uow: UnitOfWork, actor: Principal, facility_code: str | None, period: str | None, status: str | None,
                         page: int, size: int) -> tuple[list[dict], int]:  # fmt: skip
    repo = Repository(uow.session)
    if actor.role is Role.facility:
        return await repo.clearings_of(actor.facility_id or "-", period, status, None, (page - 1) * size, size)
    return await repo.clearings_of(facility_code, period, status, offices_in_scope(actor), (page - 1) * size, size)


def deadline_of(row: dict, today: date) -> approval.Deadline:
    starts = row["declared_on"] or Period.parse(row["period"]).next().first_day
    paid_on = date.fromisoformat(row["payment"]["paid_on"]) if row.get("payment") else None
    return approval.payment_deadline(default_calendar(), starts, today, paid_on)


async def step(uow: UnitOfWork, actor: Principal, clearing_id: uuid.UUID, action: str, version: int, note: str | None,
               payment: dict | None = None) -> dict:  # fmt: skip
    """District review (staff of the facility's office), city approval and payment order (city staff)."""
    repo = Repository(uow.session)
    row = await repo.clearing(clearing_id, for_update=True)
    if row is None or not _may_see_clearing(actor, row) or actor.role is not Role.staff:
        raise not_found("清算表")
    who = approval.TRANSITIONS[action][2]
    if who == "city" and not actor.is_city_staff:
        raise Problem(403, "city_staff_only", "须由市医保中心人员办理", "分中心审核后由市级经办人员核准、拨付")
    if who == "district" and actor.office_code != row["office_code"]:
        raise Problem(403, "district_staff_only", "须由机构所属分中心审核", f"该机构由 {row['office_code']} 分中心审核")
    if row["version"] != version:
        raise Problem(409, "version_conflict", "清算表已被他人修改", f"当前版本为 {row['version']}，请刷新后重试", current_version=row["version"])
    status = approval.next_status(row["status"], action)
    now, today = uow.clock.now(), uow.clock.today()
    steps = list(row["steps"]) + [{"action": action, "status": status, "by": actor.subject, "at": now.isoformat(), "note": note}]
    values: dict = {"status": status, "version": version + 1, "steps": steps}
    row = {**row, **values}
    period, total = row["period"], row["lines"]["41"]
    if action == "approve":
        uow.emit(new_envelope(SettlementApprovedV1(
            clearing_id=row["id"], facility_code=row["facility_code"], office_code=row["office_code"], period=period,
            insurance_type=row["insurance_type"], care_type=row["care_type"], total_paid=total, approved_by=actor.subject,
            approved_on=today,
        ), uow.clock))  # fmt: skip
    if action == "pay":
        deadline = deadline_of(row, today)
        order = {"order_no": f"BF{today:%Y%m%d}{uuid.uuid4().hex[:8].upper()}", "amount": total, "paid_on": today.isoformat(),
                 "due_on": deadline.due_on.isoformat(), "within_limit": today <= deadline.due_on, "ordered_by": actor.subject,
                 **(payment or {})}  # fmt: skip
        values["payment"] = row["payment"] = order
        uow.emit(new_envelope(SettlementPaidV1(
            clearing_id=row["id"], order_no=order["order_no"], facility_code=row["facility_code"], office_code=row["office_code"],
            period=period, insurance_type=row["insurance_type"], care_type=row["care_type"], amount=total, paid_on=today,
            due_on=deadline.due_on, within_limit=order["within_limit"],
        ), uow.clock))  # fmt: skip
    await repo.update_clearing(row["id"], **values)
    return row


async def clearing_history(uow: UnitOfWork, actor: Principal, clearing_id: uuid.UUID) -> list[dict]:
    await clearing_view(uow, actor, clearing_id)
    return await Repository(uow.session).clearing_history(clearing_id)


FUND_NAMES = {k: v[0] for k, v in FUNDS.items()}


AT_RISK_WORKING_DAYS = 5


async def payment_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's probe: clearing tables not yet paid, near or past the 30-working-day limit."""
    query = select(clearings.c.declared_on, clearings.c.period, clearings.c.payment).where(clearings.c.status != "paid")
    today, at_risk, overdue, oldest_due = uow.clock.today(), 0, 0, None
    for row in (await uow.session.execute(query)).mappings():
        deadline = deadline_of(dict(row), today)
        if deadline.overdue:
            overdue, oldest_due = overdue + 1, min(deadline.due_on, oldest_due or deadline.due_on)
        elif deadline.working_days_left <= AT_RISK_WORKING_DAYS:
            at_risk += 1
    return DeadlineCounts(at_risk, overdue, overdue_seconds(oldest_due, uow.clock) if oldest_due else None)
