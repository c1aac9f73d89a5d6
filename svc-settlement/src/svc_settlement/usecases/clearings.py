"""The monthly clearing table (基金清算表): run, computed again in order, reviewed, approved and paid; the
payment-limit probe of the ops page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from shared.events import new_envelope
from shared.events.catalog import SettlementApprovedV1, SettlementPaidV1
from shared.ops import DeadlineCounts, overdue_seconds
from svc_settlement import policy
from svc_settlement.domain import approval
from svc_settlement.domain.declaration import (
    CARE_TYPES,
    Period,
)
from svc_settlement.domain.entries import inputs_from_entries
from svc_settlement.domain.restatement import Adjustment, KeptTable, restate
from svc_settlement.repository import Repository
from svc_settlement.repository.clearings import clearing_columns, clearing_of
from svc_settlement.usecases.access import (
    facility_for_staff,
    may_see_clearing,
    offices_in_scope,
)


@dataclass
class RunResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[dict] | None = None
    skipped: list[dict] | None = None


async def run_clearing(
    uow: UnitOfWork, actor: Principal, period_text: str, *, facility_code: str | None = None
) -> RunResult:
    """Clear a month for every budget in the actor's scope (or one facility), and carry the change into the
    months after it that were already cleared. Running it twice changes nothing."""
    repo = Repository(uow)
    if facility_code is not None:  # another office's facility is not there, whatever else is wrong
        await facility_for_staff(repo, facility_code, actor)
    period = Period.parse(period_text)
    if not period_ended(period, uow.clock.today()):
        raise Invalid(
            "period_not_ended",
            "结算月份尚未结束，不能清算",
            f"{period} 月最早于 {period.next().first_day} 清算",
        )
    budgets = await repo.budgets_of(
        [facility_code] if facility_code else None, period.year, offices_in_scope(actor), limit=None
    )
    result = RunResult(conflicts=[], skipped=[])
    for budget in budgets:
        key = (budget["facility_code"], budget["insurance_type"], budget["care_type"])
        try:
            plan = await plan_key(
                uow,
                repo,
                actor,
                key,
                period,
                lambda p: "重新清算" if p == period else f"{period} 月重新清算后顺延",
            )
        except DomainError as problem:
            if problem.code not in ("clearing_negative_line", "facility_unknown"):
                raise
            (result.conflicts if problem.code != "facility_unknown" else result.skipped).append(  # type: ignore[union-attr]
                {
                    "facility_code": key[0],
                    "insurance_type": key[1],
                    "care_type": key[2],
                    "code": problem.code,
                    "detail": problem.detail,
                }
            )
            continue
        await save_plan(repo, actor, plan)
        result.created += sum(cause == "首次清算" for _, cause in plan.writes)
        result.updated += sum(cause != "首次清算" for _, cause in plan.writes)
        # months before the run's own only count when changed
        result.unchanged += sum(plan.start is not None and p >= plan.start for p in plan.unchanged)
    for flagged in await repo.unbudgeted_declarations(offices_in_scope(actor), str(period), facility_code):
        result.skipped.append({  # type: ignore[union-attr]
            "facility_code": flagged["facility_code"], "insurance_type": flagged["insurance_type"], "care_type": flagged["care_type"],
            "code": "no_budget", "detail": f"{CARE_TYPES.get(flagged['care_type'], flagged['care_type'])}没有 {period.year} 年度总额指标，无法清算",
        })  # fmt: skip
    return result


def period_ended(period: Period, today: date) -> bool:
    return today > period.last_day


@dataclass
class KeyPlan:
    """One facility, insurance type and care type computed again in memory: the rows to write (with their cause),
    every month's row as it stands after the writes, and what is still owed for paid months."""

    writes: list[tuple[dict, str]]
    rows: dict[Period, dict]
    unchanged: list[Period]
    pending: list[Adjustment]
    start: Period | None  # the first month the run asked for (after the cleared months before it)


async def plan_key(
    uow: UnitOfWork, repo: Repository, actor: Principal, key: tuple[str, str, str], through: Period | None,
    cause: Callable[[Period], str], from_period: Period | None = None,
) -> KeyPlan:  # fmt: skip
    """Every cleared month of the key (and, with `through`, the months up to it: from the earliest month of its
    year not yet cleared) computed again from the latest declarations, entries and budgets, each from the month
    before it as it should be. Paid months (and approved ones on the latest declaration) keep their table; what
    they now lack or were overpaid goes into the next open month as an adjustment line."""
    facility_code, insurance_type, care_type = key
    existing = {
        Period.parse(r["period"]): r
        for r in await repo.clearings_of_key(facility_code, insurance_type, care_type, for_update=True)
    }
    if not existing and through is None:
        return KeyPlan(writes=[], rows={}, unchanged=[], pending=[], start=None)
    facility = await repo.facility(facility_code)
    if facility is None:
        raise Conflict("facility_unknown", "尚未收到该机构的定点信息")
    declared = await repo.latest_declarations(facility_code, insurance_type)
    months = set(existing)
    start = through
    if start is not None and through is not None:
        while start.month > 1 and start.previous() not in existing:  # carries are never skipped
            start = start.previous()
        months |= set(_span(start, through))
    ordered = sorted(months)
    inputs = await _month_inputs(repo, key, ordered, declared)
    kept = {
        p: KeptTable(Decimal(r["lines"]["41"]), _adjustments_of(r))
        for p, r in existing.items()
        if _is_kept(r, declared)
    }
    stored = {p: clearing_of(r) for p, r in existing.items()}
    # Months before the ones asked for are computed again only when their inputs or carries changed.
    restated, pending = restate(
        [(p, inputs[p]) for p in ordered], kept, policy.reserve_rate, stored, start or from_period
    )
    plan = KeyPlan(writes=[], rows={}, unchanged=[], pending=pending, start=start)
    for month in restated:
        old = existing.get(month.period)
        if month.kept:
            plan.rows[month.period] = old  # type: ignore[assignment]
            plan.unchanged.append(month.period)
            continue
        declaration = declared.get(str(month.period))
        columns = clearing_columns(month.clearing)
        columns["reserve_rate"] = Decimal(columns["reserve_rate"]).quantize(Decimal("0.0001"))
        columns |= {"declaration_version": declaration["version"] if declaration else None,
                    "declared_on": declaration["declared_on"] if declaration else None,
                    "adjustments": [{"period": a.period, "amount": format(a.amount, "f"), "reason": a.reason} for a in month.adjustments],
                    "payable": month.payable}  # fmt: skip
        if old is not None and _same(old, columns):
            plan.rows[month.period] = old
            plan.unchanged.append(month.period)
            continue
        steps = list(old["steps"]) if old else []
        if old is not None and old["status"] != "computed":
            void = "申报已更正，核准作废" if old["status"] == "approved" else "重新清算，审核结论作废"
            steps.append(
                {
                    "action": "reset",
                    "status": "computed",
                    "by": actor.subject,
                    "at": uow.clock.now().isoformat(),
                    "reason": void,
                }
            )
        row = {
            "id": old["id"] if old else uuid.uuid4(), "facility_code": facility_code, "office_code": facility["office_code"],
            "period": str(month.period), "insurance_type": insurance_type, "care_type": care_type, **columns, "status": "computed",
            "version": (old["version"] + 1) if old else 1, "computed_at": uow.clock.now(), "steps": steps, "payment": None,
        }  # fmt: skip
        plan.writes.append((row, "首次清算" if old is None else cause(month.period)))
        plan.rows[month.period] = row
    return plan


async def save_plan(repo: Repository, actor: Principal, plan: KeyPlan) -> None:
    for row, cause in plan.writes:
        await repo.save_clearing(row, cause, actor.subject)


def _span(start: Period, end: Period) -> list[Period]:
    months = [start]
    while months[-1] < end:
        months.append(months[-1].next())
    return months


async def _month_inputs(
    repo: Repository, key: tuple[str, str, str], months: list[Period], declared: dict[str, dict]
) -> dict[Period, dict]:
    """Each month's clearing inputs: the quota, the latest declaration's totals of the care type, staff entries."""
    facility_code, insurance_type, care_type = key
    budgets = await repo.budgets_of_key(facility_code, insurance_type, care_type)
    entered: dict[str, list[tuple[str, Decimal]]] = {}
    for entry in await repo.entries_of_key(facility_code, insurance_type, care_type):
        entered.setdefault(entry["period"], []).append((entry["kind"], Decimal(entry["amount"])))
    inputs: dict[Period, dict] = {}
    for period in months:
        budget = budgets.get(period.year)
        values = {"quota": Decimal(budget["quotas"][period.month - 1]) if budget else Decimal("0.00")}
        declaration = declared.get(str(period))
        if declaration is not None:
            values |= {k: Decimal(v) for k, v in declaration["totals"].get(care_type, {}).items()}
        for name, amount in inputs_from_entries(entered.get(str(period), [])).items():
            values[name] = values.get(name, Decimal("0.00")) + amount
        inputs[period] = values
    return inputs


def _is_kept(row: dict, declared: dict[str, dict]) -> bool:
    """A paid table never changes; an approved one only when its month's declaration was corrected since."""
    if row["status"] == "paid":
        return True
    latest = declared.get(row["period"])
    return row["status"] == "approved" and row["declaration_version"] == (
        latest["version"] if latest else None
    )


def _adjustments_of(row: dict) -> tuple[Adjustment, ...]:
    return tuple(
        Adjustment(a["period"], Decimal(a["amount"]), a["reason"]) for a in row.get("adjustments") or []
    )


def _same(existing: dict, columns: dict) -> bool:
    return (
        existing["lines"] == columns["lines"] and existing["carry"] == columns["carry"]
        and existing["inputs"] == columns["inputs"] and existing["previous"] == columns["previous"]
        and Decimal(existing["reserve_rate"]) == columns["reserve_rate"]
        and existing["declaration_version"] == columns["declaration_version"]
        and (existing.get("adjustments") or []) == columns["adjustments"]
    )  # fmt: skip


async def clearing_view(uow: UnitOfWork, actor: Principal, clearing_id: uuid.UUID) -> dict:
    repo = Repository(uow)
    row = await repo.clearing(clearing_id)
    if row is None or not may_see_clearing(actor, row):
        raise NotFound("清算表")
    return row


async def list_clearings(uow: UnitOfWork, actor: Principal, facility_code: str | None, period: str | None, status: str | None,
                         page: int, size: int) -> tuple[list[dict], int]:  # fmt: skip
    repo = Repository(uow)
    if actor.role is Role.facility:
        return await repo.clearings_of(
            actor.facility_id or "-", period, status, None, (page - 1) * size, size
        )
    return await repo.clearings_of(
        facility_code, period, status, offices_in_scope(actor), (page - 1) * size, size
    )


def deadline_of(row: dict, today: date) -> approval.Deadline:
    starts = row["declared_on"] or Period.parse(row["period"]).next().first_day
    paid_on = date.fromisoformat(row["payment"]["paid_on"]) if row.get("payment") else None
    return approval.payment_deadline(default_calendar(), starts, today, paid_on)


async def step(uow: UnitOfWork, actor: Principal, clearing_id: uuid.UUID, *, action: str, version: int, note: str | None,
               payment: dict | None = None, declaration_version: int | None = None) -> dict:  # fmt: skip
    """District review (staff of the facility's office), city approval and payment order (city staff), each only
    of a table computed from the latest declaration and current inputs."""
    repo = Repository(uow)
    row = await repo.clearing(clearing_id, for_update=True)
    if row is None or not may_see_clearing(actor, row) or actor.role is not Role.staff:
        raise NotFound("清算表")
    who = approval.TRANSITIONS[action][2]
    if who == "city" and not actor.is_city_staff:
        raise Forbidden("city_staff_only", "须由市医保中心人员办理", "分中心审核后由市级经办人员核准、拨付")
    if who == "district" and actor.office_code != row["office_code"]:
        raise Forbidden(
            "district_staff_only", "须由机构所属分中心审核", f"该机构由 {row['office_code']} 分中心审核"
        )
    await _check_current(uow, repo, actor, row, declaration_version)
    if row["version"] != version:
        raise Conflict(
            "version_conflict",
            "清算表已被他人修改",
            f"当前版本为 {row['version']}，请刷新后重试",
            current_version=row["version"],
        )
    status = approval.next_status(row["status"], action)
    now, today = uow.clock.now(), uow.clock.today()
    steps = [
        *row["steps"],
        {"action": action, "status": status, "by": actor.subject, "at": now.isoformat(), "note": note},
    ]
    values: dict = {"status": status, "version": version + 1, "steps": steps}
    row = {**row, **values}
    period, total = row["period"], Decimal(row["payable"])
    if action == "approve":
        uow.emit(new_envelope(SettlementApprovedV1(
            clearing_id=row["id"], facility_code=row["facility_code"], office_code=row["office_code"], period=period,
            insurance_type=row["insurance_type"], care_type=row["care_type"], total_paid=total, approved_by=actor.subject,
            approved_on=today,
        ), uow.clock))  # fmt: skip
    if action == "pay":
        deadline = deadline_of(row, today)
        order = {"order_no": f"BF{today:%Y%m%d}{uuid.uuid4().hex[:8].upper()}", "amount": format(total, "f"), "paid_on": today.isoformat(),
                 "due_on": deadline.due_on.isoformat(), "within_limit": today <= deadline.due_on, "ordered_by": actor.subject,
                 **(payment or {})}  # fmt: skip
        values["payment"] = row["payment"] = order
        await repo.add_payments(_ledger_rows(row, order, actor))
        uow.emit(new_envelope(SettlementPaidV1(
            clearing_id=row["id"], order_no=order["order_no"], facility_code=row["facility_code"], office_code=row["office_code"],
            period=period, insurance_type=row["insurance_type"], care_type=row["care_type"], amount=total, paid_on=today,
            due_on=deadline.due_on, within_limit=order["within_limit"],
        ), uow.clock))  # fmt: skip
    await repo.update_clearing(row["id"], **values)
    return row


async def _check_current(
    uow: UnitOfWork, repo: Repository, actor: Principal, row: dict, attested: int | None
) -> None:
    """Only the latest declaration version is reviewed, approved or paid, and only a table its inputs still give
    (a staff entry or a budget change since the last run needs a new run first)."""
    latest = await repo.latest_declaration(row["facility_code"], row["period"], row["insurance_type"])
    latest_version = latest["version"] if latest else None
    if (attested is not None and attested != latest_version) or row["declaration_version"] != latest_version:
        raise Conflict("declaration_superseded", "该月申报已更正，此版本不能审核、核准或拨付",
                      f"最新申报为第 {latest_version} 版，清算表按第 {row['declaration_version']} 版计算"
                      + (f"，请求核准的是第 {attested} 版" if attested is not None else ""), latest_version=latest_version)  # fmt: skip
    if row["status"] in ("paid",):
        return
    period = Period.parse(row["period"])
    plan = await plan_key(
        uow,
        repo,
        actor,
        (row["facility_code"], row["insurance_type"], row["care_type"]),
        None,
        lambda p: "",
        period,
    )
    if any(Period.parse(w["period"]) == period for w, _ in plan.writes):
        raise Conflict(
            "clearing_stale",
            "清算表的数据已变化，请重新清算后再办理",
            f"{row['period']} 的录入、指标或前月结转在上次清算后有变化",
        )


def _ledger_rows(row: dict, order: dict, actor: Principal) -> list[dict]:
    """The month's own line 41 and each adjustment line, per month they pay for."""
    common = {"clearing_id": row["id"], "facility_code": row["facility_code"], "insurance_type": row["insurance_type"],
              "care_type": row["care_type"], "order_no": order["order_no"], "paid_on": date.fromisoformat(order["paid_on"]),
              "paid_by": actor.subject}  # fmt: skip
    rows = [{"id": uuid.uuid4(), **common, "period": row["period"], "declaration_version": row["declaration_version"], "kind": "table",
             "amount": Decimal(row["lines"]["41"])}]  # fmt: skip
    rows += [{"id": uuid.uuid4(), **common, "period": a["period"], "declaration_version": None, "kind": "adjustment", "amount": Decimal(a["amount"])}
             for a in row.get("adjustments") or []]  # fmt: skip
    return rows


async def clearing_history(uow: UnitOfWork, actor: Principal, clearing_id: uuid.UUID) -> list[dict]:
    await clearing_view(uow, actor, clearing_id)
    return await Repository(uow).clearing_history(clearing_id)


AT_RISK_WORKING_DAYS = 5


async def payment_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's probe: clearing tables not yet paid and declarations flagged for want of a budget, near or
    past the 30-working-day limit."""
    repo = Repository(uow)
    rows = await repo.unpaid_deadline_rows()
    # Declarations of a care type without a budget have no table yet, but the same limit runs for them.
    rows += [{"declared_on": r["declared_on"], "period": r["period"], "payment": None}
             for r in await repo.unbudgeted_declarations(None)]  # fmt: skip
    today, at_risk, overdue, oldest_due = uow.clock.today(), 0, 0, None
    for row in rows:
        deadline = deadline_of(row, today)
        if deadline.overdue:
            overdue, oldest_due = overdue + 1, min(deadline.due_on, oldest_due or deadline.due_on)
        elif deadline.working_days_left <= AT_RISK_WORKING_DAYS:
            at_risk += 1
    return DeadlineCounts(at_risk, overdue, overdue_seconds(oldest_due, uow.clock) if oldest_due else None)
