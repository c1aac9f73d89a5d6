"""Benefit payments computed by rule: maternity and the personal account's one-time withdrawal.

Filing computes the amount with the pure rules (``domain.maternity``, ``domain.account``) and explains
it; the office accepts (the 20 or 15 working days start), the city approves, the payment is made. The
same overdue scan and ops probe as reimbursements watch the limit.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.auth import Principal, Role
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import new_envelope
from shared.events.catalog import (
    ClaimsAcceptedV1,
    ClaimsApprovedV1,
    ClaimsPaidV1,
    ClaimsRejectedV1,
)
from svc_claims.deadlines import Applications
from svc_claims.domain.account import Circumstances, EntryKind, Reason, WithdrawalError, withdrawable
from svc_claims.domain.eligibility import Coverage, eligibility_on
from svc_claims.domain.maternity import MaternityError, allowance, maternity_item, prenatal, require_in_filing_window
from svc_claims.domain.payment import OPEN, BenefitPayment, Line, PaymentKind, new_payment
from svc_claims.domain.reimbursement import AccountOwner, check_account_owner
from svc_claims.models import benefit_payments
from svc_claims.policy import PolicyNotFound, allowance_policy, deployment_region, load_policy, maternity_table
from svc_claims.repository import Repository
from svc_claims.usecases import require_office_staff

PAYMENT = TypeAdapter(BenefitPayment)


# ------------------------------------------------------------------------------------------- storage


async def _save(uow: UnitOfWork, payment: BenefitPayment, new: bool = False) -> None:
    values = {"person_id": payment.person_id, "office_code": payment.office_code, "unit_code": payment.unit_code,
              "kind": payment.kind.value, "status": payment.status.value, "due_on": payment.due_on, "due_provisional": payment.due_provisional,
              "overdue_announced": payment.overdue_announced, "document": PAYMENT.dump_python(payment, mode="json")}  # fmt: skip
    if new:
        await uow.session.execute(insert(benefit_payments).values(id=payment.id, filed_at=payment.steps[0].at, **values))
    else:
        await uow.session.execute(update(benefit_payments).where(benefit_payments.c.id == payment.id).values(**values))


async def visible_payment(uow: UnitOfWork, payment_id: uuid.UUID, actor: Principal, for_update: bool = False) -> BenefitPayment:
    query = select(benefit_payments.c.document).where(benefit_payments.c.id == payment_id)
    row = (await uow.session.execute(query.with_for_update() if for_update else query)).first()
    payment = PAYMENT.validate_python(row[0]) if row else None
    visible = payment is not None and (
        (actor.role is Role.insured and actor.person_id == payment.person_id)
        or (actor.role is Role.unit and payment.unit_code is not None and actor.unit_id == payment.unit_code)
        or actor.serves_office(payment.office_code) or actor.role is Role.admin
    )  # fmt: skip
    if not visible:
        raise not_found("待遇支付申请")
    return payment  # type: ignore[return-value]


async def _coverage_on(uow: UnitOfWork, person_id: uuid.UUID, day: date, actor: Principal, scheme: str | None = None) -> Coverage:
    if actor.role is Role.insured and actor.person_id != person_id:
        raise Problem(403, "not_own_claim", "只能为本人申请")
    found = await Repository(uow.session).coverages_of(person_id)
    if actor.role is Role.unit and not any(c.unit_code == actor.unit_id for c in found):
        raise not_found("参保人")
    eligibility = eligibility_on(person_id, day, [c for c in found if scheme is None or c.scheme == scheme])
    if not eligibility.eligible or eligibility.coverage is None:
        raise Problem(422, "not_eligible", "该日期不在待遇享受期内", eligibility.reason, errors=[{"field": "event_date", "message": eligibility.reason}])
    return eligibility.coverage


def _maternity_errors(exc: MaternityError | WithdrawalError | PolicyNotFound, field: str) -> Problem:
    return Problem(422, "not_payable", "不符合支付条件", str(exc), errors=[{"field": field, "message": str(exc)}])


# ------------------------------------------------------------------------------------------ maternity


async def file_resident_maternity(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, event_date: date, facility_level: int,
    items: list[dict], bank_account: str,
) -> BenefitPayment:  # fmt: skip
    """居民生育医疗费: prenatal checks by weeks, deliveries and family-planning items by the seed 001 table."""
    coverage = await _coverage_on(uow, person_id, event_date, actor, "resident")
    lines = _maternity_lines(coverage, event_date, facility_level, items)
    basis = {"event_date": event_date.isoformat(), "facility_level": facility_level, "items": _items_basis(items)}
    payment = new_payment(PaymentKind.maternity_resident, person_id, coverage.office_code, None, lines, basis, bank_account,
                          actor.subject, uow.clock.now())  # fmt: skip
    await _save(uow, payment, new=True)
    return payment


async def file_employee_maternity(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, event_date: date, facility_level: int | None, items: list[dict],
    allowance_claim: dict | None, remote: bool, account_owner: AccountOwner, bank_account: str,
) -> BenefitPayment:  # fmt: skip
    """职工生育医疗费（垫付）与生育津贴: filed together by the unit within 12 months from the month after the
    birth or the end of the pregnancy; the allowance needs a pregnancy registration (and a maternity
    remote-care registration when the care was in another region)."""
    coverage = await _coverage_on(uow, person_id, event_date, actor, "employee")
    check_account_owner(account_owner, coverage.unit_code)
    try:
        require_in_filing_window(event_date, uow.clock.today())
    except MaternityError as exc:
        raise _maternity_errors(exc, "event_date") from None
    lines: tuple[Line, ...] = ()
    if items:
        if facility_level is None:
            raise Problem(422, "validation_failed", "请求参数不合法", errors=[{"field": "facility_level", "message": "申报生育医疗费须填写医疗机构级别"}])
        lines = _maternity_lines(coverage, event_date, facility_level, items)
    basis: dict = {"event_date": event_date.isoformat(), "remote": remote, "account_owner": account_owner.value, "sample": True}
    if items:
        basis |= {"facility_level": facility_level, "items": _items_basis(items)}
    if allowance_claim is not None:
        await _require_registrations(uow, person_id, remote)
        line, allowance_basis = _allowance_line(**allowance_claim)
        lines, basis = (*lines, line), basis | allowance_basis
    kind = PaymentKind.maternity_employee if items else PaymentKind.maternity_allowance
    payment = new_payment(kind, person_id, coverage.office_code, coverage.unit_code, lines, basis, bank_account, actor.subject,
                          uow.clock.now())  # fmt: skip
    await _save(uow, payment, new=True)
    return payment


def _maternity_lines(coverage: Coverage, event_date: date, facility_level: int, items: list[dict]) -> tuple[Line, ...]:
    """Each item by the table of the person's scheme: prenatal checks by weeks, the rest by item."""
    try:
        table = maternity_table(deployment_region(), coverage.scheme, event_date.year)
        ratio = _inpatient_ratio(coverage, facility_level, event_date)
        benefits = [
            prenatal(table, item["cost"], item.get("weeks"), item.get("delivered", False)) if item["item"] == "prenatal"
            else maternity_item(table, item["item"], item["cost"], facility_level, ratio)
            for item in items
        ]  # fmt: skip
    except (MaternityError, PolicyNotFound) as exc:
        raise _maternity_errors(exc, "items") from None
    return tuple(Line(b.item, b.label, b.cost, b.fund, b.rule) for b in benefits)


def _items_basis(items: list[dict]) -> list[dict]:
    return [{**i, "cost": f"{i['cost']:.2f}"} for i in items]


def _inpatient_ratio(coverage: Coverage, level: int, day: date) -> Decimal | None:
    """The scheme's inpatient ratio for a delivery with a severe comorbidity (the basic policy's table)."""
    default_tier = "adult_middle" if coverage.scheme == "resident" else "in_service"
    try:
        return load_policy(deployment_region(), coverage.scheme, day.year).basic.inpatient_ratios.ratio(level, coverage.tier or default_tier)
    except (PolicyNotFound, ValueError, KeyError):
        return None


async def _require_registrations(uow: UnitOfWork, person_id: uuid.UUID, remote: bool) -> None:
    kinds = {e.kind for e in await Repository(uow.session).entitlements_of(person_id) if e.status in ("active", "expired")}
    if "pregnancy" not in kinds:
        raise Problem(409, "pregnancy_registration_required", "生育津贴须有生育保险妊娠登记", errors=[{"field": "person_id", "message": "未办理妊娠登记"}])
    if remote and "maternity_remote" not in kinds:
        raise Problem(409, "maternity_remote_registration_required", "异地生育须有生育保险异地就医登记",
                      errors=[{"field": "remote", "message": "未办理生育保险异地就医登记"}])  # fmt: skip


def _allowance_line(case: str, average_monthly_wage: Decimal, extra_babies: int = 0, difficult: bool = False) -> tuple[Line, dict]:
    try:
        days, amount = allowance(allowance_policy(deployment_region()), average_monthly_wage, case, extra_babies, difficult)
    except (MaternityError, PolicyNotFound) as exc:
        raise _maternity_errors(exc, "allowance") from None
    line = Line("maternity_allowance", f"生育津贴：单位上年度职工月平均工资 {average_monthly_wage:.2f} ÷ 30 × {days} 天（示例天数表）",
                average_monthly_wage, amount, "社会保险法第五十六条；产假天数为示例数据")  # fmt: skip
    return line, {"case": case, "average_monthly_wage": f"{average_monthly_wage:.2f}", "leave_days": days, "extra_babies": extra_babies,
                  "difficult": difficult}  # fmt: skip


# --------------------------------------------------------------------------------- account withdrawal


async def file_withdrawal(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, reason: Reason, heirs_commitment: bool, proxy_commitment: bool,
    to_proxy: bool, contribution_years: int, pension_account_settled: bool, bank_account: str,
) -> BenefitPayment:  # fmt: skip
    """个人账户一次性支取: the whole balance of the account's history, once employee insurance has ended."""
    if actor.role is Role.insured and actor.person_id != person_id:
        raise Problem(403, "not_own_claim", "只能为本人申请")
    found = await Repository(uow.session).coverages_of(person_id)
    working = [c for c in found if c.scheme in ("employee", "flexible")]
    if not working or not (actor.role is Role.insured or any(actor.serves_office(c.office_code) for c in working)):
        raise not_found("职工医保参保记录")
    today = uow.clock.today()
    ended = {c.ended_reason for c in working if c.ended_reason}
    facts = Circumstances(
        employee_insurance_ended=not any(c.covers(today) for c in working), died="death" in ended, emigrated="emigration" in ended,
        transferred_out="transfer_out" in ended, contribution_years=contribution_years, pension_account_settled=pension_account_settled,
        heirs_commitment=heirs_commitment, proxy_commitment=proxy_commitment,
    )  # fmt: skip
    entries = await Repository(uow.session).account_history(person_id)
    try:
        amount = withdrawable(entries, reason, facts, to_proxy)
    except WithdrawalError as exc:
        raise _maternity_errors(exc, "reason") from None
    line = Line("account_balance", "个人账户余额一次性支取", amount, amount, f"支取原因：{reason.value}")
    basis = {"reason": reason.value, "to_proxy": to_proxy, "entries": len(entries)}
    latest = max(working, key=lambda c: c.benefit_start)
    payment = new_payment(PaymentKind.account_withdrawal, person_id, latest.office_code, latest.unit_code, (line,), basis,
                          bank_account, actor.subject, uow.clock.now())  # fmt: skip
    await _save(uow, payment, new=True)
    return payment


# ----------------------------------------------------------------------------------------- the flow


def _fact(p: BenefitPayment) -> dict:
    return {"claim_id": p.id, "person_id": p.person_id, "office_code": p.office_code, "care_type": p.kind.value}


async def accept(uow: UnitOfWork, payment_id: uuid.UUID, version: int, actor: Principal) -> BenefitPayment:
    payment = await visible_payment(uow, payment_id, actor, for_update=True)
    require_office_staff(actor, payment.office_code)
    accepted = payment.accept(version, actor.subject, uow.clock.now(), uow.clock.today(), default_calendar())
    await _save(uow, accepted)
    uow.emit(new_envelope(ClaimsAcceptedV1(**_fact(accepted), accepted_on=accepted.accepted_on, due_on=accepted.due_on,
                                           claimed=accepted.amount), uow.clock))  # fmt: skip
    return accepted


async def approve(uow: UnitOfWork, payment_id: uuid.UUID, version: int, actor: Principal) -> BenefitPayment:
    payment = await visible_payment(uow, payment_id, actor, for_update=True)
    require_office_staff(actor, payment.office_code, city=True)
    approved = payment.approve(version, actor.subject, uow.clock.now())
    await _save(uow, approved)
    uow.emit(new_envelope(ClaimsApprovedV1(**_fact(approved), fund=approved.amount, person_share=Decimal("0.00"),
                                           due_on=approved.due_on), uow.clock))  # fmt: skip
    return approved


async def pay(uow: UnitOfWork, payment_id: uuid.UUID, version: int, reference: str, actor: Principal) -> BenefitPayment:
    payment = await visible_payment(uow, payment_id, actor, for_update=True)
    require_office_staff(actor, payment.office_code)
    paid = payment.pay(version, actor.subject, uow.clock.now(), reference)
    await _save(uow, paid)
    today = uow.clock.today()
    if paid.kind is PaymentKind.account_withdrawal:  # the account is emptied by the withdrawal
        await Repository(uow.session).book_account_entry(paid.person_id, EntryKind.withdrawal.value, paid.amount, today, f"withdrawal:{paid.id}")
    uow.emit(new_envelope(ClaimsPaidV1(**_fact(paid), amount=paid.amount, paid_on=today,
                                       within_limit=paid.due_on is None or today <= paid.due_on), uow.clock))  # fmt: skip
    return paid


async def reject(uow: UnitOfWork, payment_id: uuid.UUID, reason: str, note: str | None, version: int, actor: Principal) -> BenefitPayment:
    payment = await visible_payment(uow, payment_id, actor, for_update=True)
    require_office_staff(actor, payment.office_code)
    rejected = payment.reject(reason, note, version, actor.subject, uow.clock.now())
    await _save(uow, rejected)
    uow.emit(new_envelope(ClaimsRejectedV1(**_fact(rejected), reason=reason, reason_text=rejected.steps[-1].note or reason), uow.clock))
    return rejected


APPLICATIONS = Applications(benefit_payments, PAYMENT, OPEN, _save, _fact)


async def payments_of(uow: UnitOfWork, actor: Principal, offset: int, limit: int) -> tuple[list[BenefitPayment], int]:
    conditions = []
    if actor.role is Role.insured:
        conditions.append(benefit_payments.c.person_id == actor.person_id)
    elif actor.role is Role.unit:
        conditions.append(benefit_payments.c.unit_code == actor.unit_id)
    elif not actor.is_city_staff:
        conditions.append(benefit_payments.c.office_code == actor.office_code)
    total = await uow.session.scalar(select(func.count()).select_from(benefit_payments).where(*conditions))
    query = select(benefit_payments.c.document).where(*conditions).order_by(benefit_payments.c.filed_at.desc()).offset(offset).limit(limit)
    return [PAYMENT.validate_python(row[0]) for row in await uow.session.execute(query)], total or 0

