"""Employee-scheme money (职工医保征缴): declared bases, monthly notices, the bank's payment file, the
personal account, and coverage interrupted for want of payment. One transaction each (the batch issue
and the interruption scan commit per page). Rules in `domain.contributions`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events import Envelope
from shared.events.catalog import (
    AccountCreditedV1,
    AccountDebitedV1,
    ClaimsPaidV1,
    ContributionNoticeIssuedV1,
    ContributionPaidV1,
    TransferCompletedV1,
)
from shared.events.envelope import new_envelope
from svc_registration.domain.access import case_office, may_see_account, may_see_notice
from svc_registration.domain.contributions import (
    MAX_ROWS,
    AccountEntry,
    ContributionPolicy,
    EntryKind,
    Insured,
    Line,
    PayerKind,
    PaymentRow,
    RowProblem,
    balance,
    due_on,
    header_columns,
    last_covered_day,
    late_fee,
    lines_for_month,
    notice_number,
    notice_total,
    parse_payment_row,
    policy_for,
    policy_from_data,
    require_issuable,
    retiree_credit_reference,
)
from svc_registration.domain.enrollment import Status
from svc_registration.repository.contributions import Contributions
from svc_registration.repository.enrollments import Enrollments
from svc_registration.usecases.enrollments import save_interruption
from svc_registration.usecases.units import visible_unit

POLICY_DIR = Path(__file__).parent.parent / "data" / "contributions"


def _load_policies() -> tuple[ContributionPolicy, ...]:
    """Read once at import: a new version is a new entry of the data file (each value with its source)."""
    versions = []
    for path in sorted(POLICY_DIR.glob("*.json")):
        versions.extend(json.loads(path.read_text(encoding="utf-8"))["versions"])
    return tuple(policy_from_data(v) for v in versions)


POLICIES = _load_policies()
BATCH_UNITS = 500  # units per page of the batch issue


# ------------------------------------------------------------------------------------------- bases


async def declare_bases(
    uow: UnitOfWork,
    actor: Principal,
    unit_code: str,
    *,
    month: date,
    wages: Sequence[tuple[uuid.UUID, Decimal]],
) -> int:
    """缴费基数申报: the unit (or staff) declares its employees' wages from a month on."""
    unit = await visible_unit(uow, actor, unit_code)
    employees = {e.id for e in await _employees(uow, unit.code)}
    errors = [
        {"field": f"body.bases[{i}].enrollment_id", "message": "不是本单位的参保职工"}
        for i, (enrollment_id, _) in enumerate(wages)
        if enrollment_id not in employees
    ]
    if errors:
        raise Invalid("not_units_employee", "申报的人员不是本单位的参保职工", errors=errors)
    now = uow.clock.now()
    await Contributions(uow.session).declare_bases(
        [
            {
                "enrollment_id": e,
                "effective_from": month,
                "declared_wage": w,
                "declared_by": actor.subject,
                "declared_at": now,
            }
            for e, w in wages
        ]
    )
    return len(wages)


async def _employees(uow: UnitOfWork, unit_code: str):  # type: ignore[no-untyped-def]
    found, _ = await Enrollments(uow).employees_of(unit_code, None, 0, 100_000)
    return found


# ----------------------------------------------------------------------------------------- notices


@dataclass(frozen=True)
class IssuedMonth:
    month: date
    issued: int
    already_issued: int
    lines: int
    total: Decimal


def _notice_row(
    kind: PayerKind,
    payer: str,
    office: str,
    month: date,
    lines: list[Line],
    policy: ContributionPolicy,
    by: str,
    uow: UnitOfWork,
    sequence: int = 1,
) -> dict:
    return {
        "id": uuid.uuid4(),
        "number": notice_number(month, kind, payer, sequence),
        "sequence": sequence,
        "payer_kind": kind.value,
        "payer_code": payer,
        "office_code": office,
        "month": month,
        "due_on": due_on(month),
        "total": notice_total(lines),
        "line_count": len(lines),
        "sample": policy.sample,
        "status": "issued",
        "issued_by": by,
        "issued_at": uow.clock.now(),
    }


def _issued_event(row: dict, uow: UnitOfWork) -> Envelope:
    return new_envelope(
        ContributionNoticeIssuedV1(
            notice_id=row["id"],
            number=row["number"],
            payer_kind=row["payer_kind"],
            payer_code=row["payer_code"],
            office_code=row["office_code"],
            month=row["month"],
            due_on=row["due_on"],
            total=row["total"],
            line_count=row["line_count"],
            sample=row["sample"],
        ),
        uow.clock,
    )


async def _issue_one(
    uow: UnitOfWork, kind: PayerKind, payer: str, office: str, month: date, insured: list[Insured], by: str
) -> dict:
    """The month's notice, or a supplementary one (补收) for those added since: each enrollment is charged
    once a month (UNIQUE enrollment and month on the lines)."""
    policy = policy_for(POLICIES, month)
    lines = lines_for_month(insured, policy, month, kind)
    last = (await Contributions(uow.session).sequences(kind, month, payer)).get(payer, 0)
    number = notice_number(month, kind, payer, last or 1)
    if not lines and last:
        raise Conflict(
            "notice_exists", "该月征缴单已生成", f"征缴单 {number} 已包含该月全部应缴人员", number=number
        )
    if not lines:
        raise Conflict(
            "nothing_to_collect", "该月没有应缴费的参保人员", f"{month:%Y-%m} 没有在职参保职工或缴费人员"
        )
    row = _notice_row(kind, payer, office, month, lines, policy, by, uow, last + 1)
    if not await Contributions(uow.session).add_notices([row], [(row["id"], line) for line in lines]):
        raise Conflict(
            "notice_exists", "该月征缴单已生成", f"征缴单 {row['number']} 已存在", number=row["number"]
        )
    uow.emit(_issued_event(row, uow))
    return row


async def issue_unit_notice(uow: UnitOfWork, actor: Principal, unit_code: str, *, month: date) -> dict:
    """生成征缴单 for one unit: by staff at the counter or by the unit itself (单位自行打印征缴单)."""
    unit = await visible_unit(uow, actor, unit_code)
    require_issuable(month, uow.clock.today())
    insured = await Contributions(uow.session).insured_of_unit(unit.code, month)
    return await _issue_one(uow, PayerKind.unit, unit.code, unit.office_code, month, insured, actor.subject)


async def issue_flexible_notice(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, *, month: date
) -> dict:
    """A flexible worker's own notice: the person, or staff of their office."""
    if actor.role is Role.insured and actor.person_id != person_id:
        raise NotFound("参保人")
    require_issuable(month, uow.clock.today())
    insured, office = await Contributions(uow.session).flexible_of_person(person_id, month)
    if office is None or not may_see_notice(actor, PayerKind.person.value, person_id.hex, office):
        raise NotFound("灵活就业参保记录")
    return await _issue_one(uow, PayerKind.person, person_id.hex, office, month, insured, actor.subject)


async def issue_month(uow: UnitOfWork, actor: Principal, *, month: date, office_code: str) -> IssuedMonth:
    """The month's notices of every unit and flexible worker of an office (staff serving it). A payer
    whose notice exists is skipped, so the batch can be run again after new enrollments."""
    case_office(office_code, actor)
    require_issuable(month, uow.clock.today())
    policy = policy_for(POLICIES, month)
    repo = Contributions(uow.session)
    issued = already = line_count = 0
    total = Decimal("0.00")
    already = await repo.count_notices(PayerKind.unit, month, office_code)
    units_issued = await repo.sequences(PayerKind.unit, month)
    rows: list[dict] = []
    lines: list[tuple[uuid.UUID, Line]] = []

    async def flush() -> None:
        nonlocal issued, line_count, total
        issued += await repo.add_notices(rows, lines)
        line_count += len(lines)
        total += sum((r["total"] for r in rows), Decimal("0.00"))
        for row in rows:
            uow.emit(_issued_event(row, uow))
        rows.clear()
        lines.clear()

    async for code, office, insured in repo.units_insured(month, office_code):
        unit_lines = lines_for_month(insured, policy, month, PayerKind.unit)
        if unit_lines:
            sequence = units_issued.get(code, 0) + 1
            row = _notice_row(
                PayerKind.unit, code, office, month, unit_lines, policy, actor.subject, uow, sequence
            )
            rows.append(row)
            lines.extend((row["id"], line) for line in unit_lines)
        if len(rows) >= BATCH_UNITS:
            await flush()
    persons = await repo.sequences(PayerKind.person, month)
    for office, one in await repo.flexible_insured(month, office_code):
        own = lines_for_month([one], policy, month, PayerKind.person)
        payer = one.person_id.hex
        row = _notice_row(
            PayerKind.person, payer, office, month, own, policy, actor.subject, uow, persons.get(payer, 0) + 1
        )
        rows.append(row)
        lines.extend((row["id"], line) for line in own)
    await flush()
    return IssuedMonth(month, issued, already, line_count, total)


async def visible_notice(uow: UnitOfWork, actor: Principal, number: str) -> tuple[dict, list[dict]]:
    notice = await Contributions(uow.session).notice(number)
    if notice is None or not may_see_notice(
        actor, notice["payer_kind"], notice["payer_code"], notice["office_code"]
    ):
        raise NotFound("征缴单")
    return notice, await Contributions(uow.session).lines_of(notice["id"])


async def notices(
    uow: UnitOfWork,
    actor: Principal,
    *,
    unit_code: str | None,
    month: date | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    """A unit its own notices; an insured person their own; district staff their office's, city staff any
    (or one unit's); unpaid ones (`status` issued) are the arrears."""
    payer: str | None = None
    offices: list[str] | None = None
    if actor.role is Role.unit:
        payer = actor.unit_id or ""
    elif actor.role is Role.insured:
        payer = actor.person_id.hex if actor.person_id else ""
    elif unit_code is not None:
        payer = (await visible_unit(uow, actor, unit_code)).code
    elif not (actor.role is Role.admin or actor.is_city_staff):
        offices = [actor.office_code or ""]
    return await Contributions(uow.session).notices_of(
        payer_code=payer, offices=offices, month=month, status=status, offset=offset, limit=limit
    )


# ------------------------------------------------------------------------------------------ payments


@dataclass(frozen=True)
class ImportReport:
    rows: int
    applied: int
    already_applied: int
    amount: Decimal
    late_fees: Decimal


def _rows_of(text: str, today: date) -> tuple[list[PaymentRow], list[RowProblem]]:
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not table:
        return [], [RowProblem(1, "file", "文件为空")]
    columns = header_columns(table[0])
    if isinstance(columns, RowProblem):
        return [], [columns]
    if len(table) - 1 > MAX_ROWS:
        return [], [RowProblem(1, "file", f"每个文件最多 {MAX_ROWS} 行")]
    rows: list[PaymentRow] = []
    problems: list[RowProblem] = []
    for line, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        parsed = parse_payment_row(line, cells, columns, today)
        if isinstance(parsed, list):
            problems.extend(parsed)
        else:
            rows.append(parsed)
    if not rows and not problems:
        problems.append(RowProblem(1, "file", "文件没有缴费记录"))
    return rows, problems


async def import_payments(uow: UnitOfWork, actor: Principal, *, text: str, digest: str) -> ImportReport:
    """The collecting bank's or tax system's payment file: every row checked against its notice (known to
    the clerk's office, not paid by another reference, the amount the notice and its late fee on the
    payment day); any bad row refuses the whole file with every problem listed, nothing applied. A row
    already applied (same bank reference, notice and amount) is skipped: the same file twice applies once."""
    rows, problems = _rows_of(text, uow.clock.today())
    repo = Contributions(uow.session)
    found = await repo.notices_by_number({r.notice_number for r in rows})
    recorded = await repo.payments_by_reference({r.bank_reference for r in rows})
    to_apply: list[tuple[PaymentRow, dict, Decimal]] = []
    seen_numbers: dict[str, int] = {}
    seen_references: dict[str, int] = {}
    already = 0
    for row in rows:
        notice = found.get(row.notice_number)
        row_problems = _duplicates_in_file(row, seen_numbers, seen_references)
        if notice is None or not may_see_notice(
            actor, notice["payer_kind"], notice["payer_code"], notice["office_code"]
        ):
            problems.append(RowProblem(row.line, "notice_number", f"征缴单 {row.notice_number} 不存在"))
            continue
        earlier = recorded.get(row.bank_reference)
        if earlier is not None:
            if earlier["notice_id"] == notice["id"] and earlier["amount"] == row.amount and not row_problems:
                already += 1  # this very payment was imported before
                continue
            row_problems.append(
                RowProblem(row.line, "bank_reference", f"银行流水号 {row.bank_reference} 已用于另一笔缴费")
            )
        elif notice["status"] == "paid":
            row_problems.append(
                RowProblem(
                    row.line,
                    "notice_number",
                    f"征缴单已于 {notice['paid_on']} 缴费（流水号 {notice['bank_reference']}）",
                )
            )
        if row.paid_on < notice["month"]:
            row_problems.append(
                RowProblem(row.line, "paid_on", f"缴费日期早于征缴月份 {notice['month']:%Y-%m}")
            )
        fee = late_fee(notice["total"], notice["due_on"], row.paid_on, policy_for(POLICIES, notice["month"]))
        if row.amount != notice["total"] + fee:
            row_problems.append(
                RowProblem(
                    row.line,
                    "amount",
                    f"应缴 {notice['total'] + fee}（费款 {notice['total']}，滞纳金 {fee}），实缴 {row.amount}",
                )
            )
        problems.extend(row_problems)
        to_apply.append((row, notice, fee))
    if problems:
        raise Invalid(
            "payment_rows_invalid",
            "缴费文件有错误，未导入任何记录",
            f"{len(problems)} 处错误，请改正后重新上传整个文件",
            errors=[p.as_dict() for p in sorted(problems, key=lambda p: (p.line, p.column))],
            rows=len(rows),
        )
    for row, notice, fee in to_apply:
        await _apply_payment(uow, actor, row, notice, fee, digest)
    return ImportReport(
        len(rows),
        len(to_apply),
        already,
        sum((r.amount for r, _, _ in to_apply), Decimal("0.00")),
        sum((fee for _, _, fee in to_apply), Decimal("0.00")),
    )


def _duplicates_in_file(
    row: PaymentRow, numbers: dict[str, int], references: dict[str, int]
) -> list[RowProblem]:
    problems = []
    if row.notice_number in numbers:
        problems.append(RowProblem(row.line, "notice_number", f"与第 {numbers[row.notice_number]} 行重复"))
    if row.bank_reference in references:
        problems.append(
            RowProblem(row.line, "bank_reference", f"与第 {references[row.bank_reference]} 行重复")
        )
    numbers.setdefault(row.notice_number, row.line)
    references.setdefault(row.bank_reference, row.line)
    return problems


async def _apply_payment(
    uow: UnitOfWork, actor: Principal, row: PaymentRow, notice: dict, fee: Decimal, digest: str
) -> None:
    repo = Contributions(uow.session)
    await repo.add_payment(
        {
            "bank_reference": row.bank_reference,
            "notice_id": notice["id"],
            "amount": row.amount,
            "late_fee": fee,
            "paid_on": row.paid_on,
            "file_sha256": digest,
            "imported_by": actor.subject,
            "imported_at": uow.clock.now(),
        }
    )
    await repo.mark_paid(notice["id"], row.paid_on, fee, row.bank_reference)
    uow.emit(
        new_envelope(
            ContributionPaidV1(
                notice_id=notice["id"],
                number=notice["number"],
                payer_kind=notice["payer_kind"],
                payer_code=notice["payer_code"],
                office_code=notice["office_code"],
                month=notice["month"],
                amount=row.amount,
                late_fee=fee,
                paid_on=row.paid_on,
                bank_reference=row.bank_reference,
            ),
            uow.clock,
        )
    )
    for line in await repo.lines_of(notice["id"]):
        entry = AccountEntry(
            EntryKind.contribution, line["account_credit"], row.paid_on, f"notice:{notice['number']}"
        )
        if await repo.book(line["person_id"], entry, notice["month"]):
            await _announce_credit(uow, line["person_id"], notice["office_code"], entry, notice["month"])


def file_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# ------------------------------------------------------------------------------------------- account


async def _announce_credit(
    uow: UnitOfWork, person_id: uuid.UUID, office: str, entry: AccountEntry, month: date | None
) -> None:
    total, months = await Contributions(uow.session).balance_and_months(person_id)
    uow.emit(
        new_envelope(
            AccountCreditedV1(
                person_id=person_id,
                office_code=office,
                kind=entry.kind.value,
                amount=entry.amount,  # type: ignore[arg-type]
                booked_on=entry.on,
                month=month,
                reference=entry.reference,
                balance=total,
                contribution_months=months,
            ),
            uow.clock,
        )
    )


@dataclass(frozen=True)
class Account:
    person_id: uuid.UUID
    entries: list[tuple[AccountEntry, date | None]]

    @property
    def balance(self) -> Decimal:
        return balance(e for e, _ in self.entries)


@dataclass(frozen=True)
class RetireeCredits:
    credited: int
    already_credited: int
    amount: Decimal


async def credit_retirees(
    uow: UnitOfWork, actor: Principal, *, month: date, office_code: str
) -> RetireeCredits:
    """退休人员个人账户划入: a retiree pays no contribution; each month the pooled fund credits the policy's amount
    to every retired employee of the office covered in the month (staff serving it), once per person and
    month, so the batch can be run again."""
    case_office(office_code, actor)
    require_issuable(month, uow.clock.today())
    amount = policy_for(POLICIES, month).retiree_monthly_credit
    repo = Contributions(uow.session)
    credited = already = 0
    for person_id in await repo.retirees_of_office(office_code, month):
        entry = AccountEntry(
            EntryKind.retiree_allocation, amount, uow.clock.today(), retiree_credit_reference(month)
        )
        if await repo.book(person_id, entry, month):
            credited += 1
            await _announce_credit(uow, person_id, office_code, entry, month)
        else:
            already += 1
    return RetireeCredits(credited, already, amount)


async def account_of(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID | None) -> Account:
    """个人账户: the history and its sum. A person their own; staff of an office holding the person."""
    whose = actor.person_id if actor.role is Role.insured else person_id
    if whose is None:
        raise Invalid(
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "query.person_id", "message": "请提供参保人"}],
        )
    person = await Enrollments(uow).get_person(whose)
    held = await Enrollments(uow).enrollments_of(whose)
    if not may_see_account(actor, whose, held, person.office_code if person else None):
        raise NotFound("个人账户")
    return Account(whose, await Contributions(uow.session).history(whose))


async def credit_transfer_in(uow: UnitOfWork, envelope: Envelope, event: TransferCompletedV1) -> None:
    """转入办结: the balance the other region sent is credited once (per transfer)."""
    if event.account_balance <= 0:
        return
    entry = AccountEntry(
        EntryKind.transfer_in, event.account_balance, event.completed_on, f"transfer:{event.transfer_id}"
    )
    if await Contributions(uow.session).book(event.person_id, entry):
        await _announce_credit(uow, event.person_id, event.office_code, entry, None)


def is_withdrawal(event: ClaimsPaidV1) -> bool:
    return event.care_type == "account_withdrawal"


async def record_withdrawal_paid(uow: UnitOfWork, envelope: Envelope, event: ClaimsPaidV1) -> None:
    """一次性支取 paid by claims: the account is debited what was paid, once per payment."""
    if not is_withdrawal(event):
        return
    entry = AccountEntry(EntryKind.withdrawal, event.amount, event.paid_on, f"withdrawal:{event.claim_id}")
    if not await Contributions(uow.session).book(event.person_id, entry):
        return
    total, _ = await Contributions(uow.session).balance_and_months(event.person_id)
    uow.emit(
        new_envelope(
            AccountDebitedV1(
                person_id=event.person_id,
                office_code=event.office_code,
                kind="withdrawal",
                amount=event.amount,
                booked_on=event.paid_on,
                reference=entry.reference,
                balance=total,
            ),
            uow.clock,
        )
    )


# ---------------------------------------------------------------------- coverage follows payment


async def interrupt_unpaid(uow: UnitOfWork, after: object = None, batch: int = 50) -> int | None:
    """One page of the scan (shared.scans): a notice still unpaid `interrupt_after_days` after its due
    date interrupts its employees' coverage from the first day of its month (registration.suspended
    tells claims); each notice once. Returns how many notices it handled, None when none was due."""
    today = uow.clock.today()
    policy = policy_for(POLICIES, today.replace(day=1))
    due = await Contributions(uow.session).overdue_unpaid(
        today - timedelta(days=policy.interrupt_after_days), batch
    )
    for notice in due:
        for line in await Contributions(uow.session).lines_of(notice["id"]):
            await _interrupt(uow, line["enrollment_id"], notice)
        await Contributions(uow.session).mark_interrupted(notice["id"], today)
    return len(due) or None


async def _interrupt(uow: UnitOfWork, enrollment_id: uuid.UUID, notice: dict) -> None:
    enrollment = await Enrollments(uow).get_enrollment(enrollment_id, for_update=True)
    if enrollment is None or enrollment.status is not Status.approved:
        return  # already ended otherwise
    last_day = last_covered_day(notice["month"], enrollment.benefit_start)
    if enrollment.benefit_end is not None and enrollment.benefit_end <= last_day:
        return
    reason = f"欠缴 {notice['month']:%Y-%m} 医疗保险费（征缴单 {notice['number']}）"
    await save_interruption(
        uow, enrollment, by="contributions", version=enrollment.version, reason=reason, last_day=last_day
    )


def require_staff(actor: Principal) -> None:
    if actor.role is not Role.staff:
        raise Forbidden("staff_only", "须由经办机构工作人员办理")
