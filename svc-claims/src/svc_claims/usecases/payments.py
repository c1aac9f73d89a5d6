"""Benefit payments computed by rule: maternity and the personal account's one-time withdrawal.

Filing computes the amount with the pure rules (``domain.maternity``, ``domain.account``) and explains
it; the office accepts (the 20 or 15 working days start), the city approves, the payment is made. The
same overdue scan and ops probe as reimbursements watch the limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import new_envelope
from shared.events.catalog import (
    ClaimsApprovedV1,
    ClaimsPaidV1,
    ClaimsRejectedV1,
)
from shared.identity import IdType, InvalidIdentifier, facts_for, normalize_id, person_id_for
from shared.money import to_money
from svc_claims.domain.access import (
    listing_scope,
    require_filer_reach,
    require_own_filing,
)
from svc_claims.domain.account import (
    Circumstances,
    EntryKind,
    Reason,
    WithdrawalError,
    withdrawable,
    withdrawal_key,
)
from svc_claims.domain.eligibility import Coverage, eligibility_on
from svc_claims.domain.maternity import (
    ALLOWANCE,
    DELIVERIES,
    MaternityError,
    Pregnancy,
    allowance,
    event_key,
    item_problems,
    maternity_item,
    prenatal,
    prenatal_band_weeks,
    require_in_filing_window,
)
from svc_claims.domain.payment import OPEN, BenefitPayment, Line, PaymentKind, new_payment
from svc_claims.domain.reimbursement import AccountOwner, check_account_owner
from svc_claims.repository import applications
from svc_claims.repository import payments as repository
from svc_claims.repository.coverage import Repository
from svc_claims.repository.policies import (
    PolicyNotFound,
    allowance_in_force,
    deployment_region,
    load_policy,
    maternity_in_force,
)
from svc_claims.usecases.applications import Applications
from svc_claims.usecases.eligibility import require_payable


async def _coverage_on(
    uow: UnitOfWork, person_id: uuid.UUID, day: date, actor: Principal, scheme: str | None = None
) -> Coverage:
    require_own_filing(actor, person_id)
    found = await Repository(uow).coverages_of(person_id)
    # another office's person: 404 before any other check
    require_filer_reach(actor, found, unknown_person=False)
    eligibility = eligibility_on(person_id, day, [c for c in found if scheme is None or c.scheme == scheme])
    if not eligibility.eligible or eligibility.coverage is None:
        raise Invalid(
            "not_eligible",
            "该日期不在待遇享受期内",
            eligibility.reason,
            errors=[{"field": "event_date", "message": eligibility.reason}],
        )
    return eligibility.coverage


def _maternity_errors(exc: MaternityError | WithdrawalError | PolicyNotFound, field: str) -> Invalid:
    return Invalid("not_payable", "不符合支付条件", str(exc), errors=[{"field": field, "message": str(exc)}])


# ------------------------------------------------------------------------------------------ maternity


@dataclass(frozen=True)
class Identity:
    """What the person's record says about them: the sex, from the coverage projection (registration.approved)
    or, when that has none, from the 17th digit of a resident ID number that is shown to be this person's
    (its keyed pseudonym is the person id) — never a sex a filer types."""

    number: str | None
    key: bytes


async def file_resident_maternity(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, event_date: date, facility_level: int,
    items: list[dict], bank_account: str, identity: Identity | None = None,
) -> BenefitPayment:  # fmt: skip
    """居民生育医疗费: prenatal checks by weeks, deliveries and family-planning items by the seed 001 table."""
    coverage = await _coverage_on(uow, person_id, event_date, actor, "resident")
    event = await _maternity_event(uow, coverage, event_date, [i["item"] for i in items], identity)
    lines, sample, policy = await _maternity_lines(
        uow, coverage, event_date, facility_level, items, event.pregnancy
    )
    basis = {
        "event_date": event_date.isoformat(),
        "facility_level": facility_level,
        "items": _items_basis(items),
        "policy": policy,
        **event.basis,
    }
    payment = new_payment(PaymentKind.maternity_resident, person_id, coverage.office_code, None, lines, basis, bank_account,
                          actor.subject, uow.clock.now(), sample)  # fmt: skip
    await _hold_events(uow, payment, event.keys_for(items, event_date))
    await APPLICATIONS.store.add(uow, payment)
    return payment


async def file_employee_maternity(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, event_date: date, facility_level: int | None, items: list[dict],
    allowance_claim: dict | None, remote: bool, account_owner: AccountOwner, bank_account: str, identity: Identity | None = None,
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
    if items and facility_level is None:
        raise Invalid(
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "facility_level", "message": "申报生育医疗费须填写医疗机构级别"}],
        )
    if allowance_claim is not None:
        await _require_registrations(uow, person_id, remote, event_date)
    paid_items = [i["item"] for i in items] + ([ALLOWANCE] if allowance_claim is not None else [])
    event = await _maternity_event(uow, coverage, event_date, paid_items, identity)
    lines: tuple[Line, ...] = ()
    sample, policy = False, None
    if items:
        level: int = facility_level  # type: ignore[assignment]  # required with items, checked above
        lines, sample, policy = await _maternity_lines(
            uow, coverage, event_date, level, items, event.pregnancy
        )
    basis: dict = {
        "event_date": event_date.isoformat(),
        "remote": remote,
        "account_owner": account_owner.value,
        "sample": True,
        **event.basis,
    }
    if items:
        basis |= {"facility_level": facility_level, "items": _items_basis(items), "policy": policy}
    if allowance_claim is not None:
        line, allowance_basis, allowance_sample = await _allowance_line(uow, event_date, **allowance_claim)
        lines, basis, sample = (*lines, line), basis | allowance_basis, sample or allowance_sample
    kind = PaymentKind.maternity_employee if items else PaymentKind.maternity_allowance
    payment = new_payment(kind, person_id, coverage.office_code, coverage.unit_code, lines, basis, bank_account, actor.subject,
                          uow.clock.now(), sample)  # fmt: skip
    keys = event.keys_for(items, event_date) | (
        {event_key(ALLOWANCE, event_date, event.pregnancy)} if allowance_claim is not None else set()
    )
    await _hold_events(uow, payment, keys)
    await APPLICATIONS.store.add(uow, payment)
    return payment


@dataclass(frozen=True)
class MaternityEvent:
    """The pregnancy (if registered) and the person's recorded sex a maternity filing is judged by."""

    pregnancy: Pregnancy | None
    sex: str | None

    @property
    def basis(self) -> dict:
        return {
            "pregnancy_registration": self.pregnancy.registration_id if self.pregnancy else None,
            "sex": self.sex,
        }

    def keys_for(self, items: list[dict], event_date: date) -> set[str]:
        return {event_key(i["item"], event_date, self.pregnancy) for i in items}


async def _maternity_event(
    uow: UnitOfWork, coverage: Coverage, event_date: date, items: list[str], identity: Identity | None
) -> MaternityEvent:
    """Who may be paid these items for this event: every problem told at once (the other sex's item, no
    recorded sex, no pregnancy registration, one event twice in the filing)."""
    pregnancy = await _pregnancy_on(uow, coverage.person_id, event_date)
    verified = _sex_of_verified_id(
        coverage.person_id, identity
    )  # a number given is checked even when the record has the sex
    sex = coverage.sex or verified
    problems = item_problems(items, sex, pregnancy)  # type: ignore[arg-type]
    if problems:
        code = problems[0]["code"]
        refusal = Conflict if code == "pregnancy_registration_required" else Invalid
        raise refusal(code, MATERNITY_REFUSALS[code], "；".join(p["message"] for p in problems),
                      errors=[{"field": p["field"], "message": p["message"]} for p in problems])  # fmt: skip
    return MaternityEvent(pregnancy, sex)


MATERNITY_REFUSALS = {
    "maternity_item_sex": "生育项目与参保人性别不符",
    "sex_not_recorded": "参保记录中没有性别",
    "pregnancy_registration_required": "须有生育保险妊娠登记",
    "maternity_event_repeated": "同一生育事件重复申报",
}


def _sex_of_verified_id(person_id: uuid.UUID, identity: Identity | None) -> str | None:
    """The sex a resident ID encodes, only when the number is this person's (its pseudonym is the person id)."""
    if identity is None or identity.number is None:
        return None
    try:
        number = normalize_id(IdType.resident_id, identity.number)
    except InvalidIdentifier as exc:
        raise Invalid(
            exc.code,
            "证件号码不合法",
            exc.message,
            errors=[{"field": "id_number", "message": exc.message}],
        ) from None
    if person_id_for(IdType.resident_id, number, identity.key) != person_id:
        raise Invalid(
            "identity_mismatch",
            "证件号码与参保人不符",
            errors=[{"field": "id_number", "message": "不是该参保人的身份证号码"}],
        )
    facts = facts_for(IdType.resident_id, number)
    return facts.sex if facts else None


async def _pregnancy_on(uow: UnitOfWork, person_id: uuid.UUID, day: date) -> Pregnancy | None:
    """The pregnancy registration valid on the day (the latest started, if ever two)."""
    found = [
        e
        for e in await Repository(uow).entitlements_of(person_id)
        if e.kind == "pregnancy" and e.applies_on(day)
    ]
    latest = max(found, key=lambda e: e.valid_from, default=None)
    if latest is None:
        return None
    started = latest.details.get(
        "pregnancy_started_on"
    )  # registration records the start; it is valid from the day registered
    return Pregnancy(
        str(latest.registration_id), date.fromisoformat(started) if started else latest.valid_from
    )


async def _hold_events(
    uow: UnitOfWork, payment: BenefitPayment, keys: set[str], withdrawal: bool = False
) -> None:
    """Each maternity event (and each account balance) is paid once (UNIQUE person + event key): a second
    filing of it names the first."""
    if not await repository.hold_events(uow.session, payment.person_id, keys, payment.id):
        held = await repository.event_holder(uow.session, payment.person_id, keys)
        if withdrawal:
            raise Conflict("withdrawal_already_filed", "个人账户余额已申请支取", f"已在待遇支付申请 {held} 中申请",
                          existing_payment=str(held), errors=[{"field": "reason", "message": "该余额已申请支取"}])  # fmt: skip
        raise Conflict("maternity_already_claimed", "该生育事件已申报", f"已在待遇支付申请 {held} 中申报（每次妊娠、每项手术只支付一次）",
                      existing_payment=str(held), errors=[{"field": "items", "message": "同一生育事件已申报"}])  # fmt: skip


async def _maternity_lines(uow: UnitOfWork, coverage: Coverage, event_date: date, facility_level: int, items: list[dict],
                           pregnancy: Pregnancy | None) -> tuple[tuple[Line, ...], bool, str]:  # fmt: skip
    """Each item by the table version of the person's scheme in force on the event day; the pregnancy's prenatal
    checks summed under one limit (the band of the weeks at its end); (lines, whether the table is sample data,
    the version the payment names)."""
    try:
        table = await maternity_in_force(uow, None, coverage.scheme, event_date)
        ratio = _inpatient_ratio(coverage, facility_level, event_date)
        checks = [i for i in items if i["item"] == "prenatal"]
        benefits = []
        if checks:
            # Registered: the weeks come from the registration and a delivery from this filing, not from typed flags.
            typed = pregnancy is None and any(i.get("delivered") for i in checks)
            delivered = typed or any(i["item"] in DELIVERIES for i in items)
            weeks = prenatal_band_weeks(pregnancy, event_date, [i.get("weeks") for i in checks])
            benefits.append(
                prenatal(table, sum((to_money(i["cost"]) for i in checks), Decimal("0.00")), weeks, delivered)
            )
        benefits += [
            maternity_item(table, i["item"], i["cost"], facility_level, ratio)
            for i in items
            if i["item"] != "prenatal"
        ]
    except (MaternityError, PolicyNotFound) as exc:
        raise _maternity_errors(exc, "items") from None
    return tuple(Line(b.item, b.label, b.cost, b.fund, b.rule) for b in benefits), table.sample, table.key


def _items_basis(items: list[dict]) -> list[dict]:
    return [{**i, "cost": f"{i['cost']:.2f}"} for i in items]


def _inpatient_ratio(coverage: Coverage, level: int, day: date) -> Decimal | None:
    """The scheme's inpatient ratio for a delivery with a severe comorbidity (the basic policy's table)."""
    default_tier = "adult_middle" if coverage.scheme == "resident" else "in_service"
    try:
        return load_policy(deployment_region(), coverage.scheme, day.year).basic.inpatient_ratios.ratio(
            level, coverage.tier or default_tier
        )
    except (PolicyNotFound, ValueError, KeyError):
        return None


async def _require_registrations(
    uow: UnitOfWork, person_id: uuid.UUID, remote: bool, event_date: date
) -> None:
    """The allowance needs the pregnancy registration valid on the birth or termination day, and for care in
    another region a maternity remote-care registration."""
    registrations = await Repository(uow).entitlements_of(person_id)
    if not any(e.kind == "pregnancy" and e.applies_on(event_date) for e in registrations):
        raise Conflict("pregnancy_registration_required", "生育津贴须有生育保险妊娠登记",
                      errors=[{"field": "person_id", "message": "该日期没有有效的妊娠登记"}])  # fmt: skip
    if remote and "maternity_remote" not in {
        e.kind for e in registrations if e.status in ("active", "expired")
    }:
        raise Conflict("maternity_remote_registration_required", "异地生育须有生育保险异地就医登记",
                      errors=[{"field": "remote", "message": "未办理生育保险异地就医登记"}])  # fmt: skip


async def _allowance_line(
    uow: UnitOfWork,
    event_date: date,
    case: str,
    average_monthly_wage: Decimal,
    extra_babies: int = 0,
    difficult: bool = False,
) -> tuple[Line, dict, bool]:
    try:
        policy = await allowance_in_force(uow, None, event_date)
        days, amount = allowance(policy, average_monthly_wage, case, extra_babies, difficult)
    except (MaternityError, PolicyNotFound) as exc:
        raise _maternity_errors(exc, "allowance") from None
    line = Line("maternity_allowance", f"生育津贴：单位上年度职工月平均工资 {average_monthly_wage:.2f} ÷ 30 × {days} 天（示例天数表）",
                average_monthly_wage, amount, "社会保险法第五十六条；产假天数为示例数据")  # fmt: skip
    return line, {"case": case, "average_monthly_wage": f"{average_monthly_wage:.2f}", "leave_days": days, "extra_babies": extra_babies,
                  "difficult": difficult, "allowance_policy": policy.key}, policy.sample  # fmt: skip


# --------------------------------------------------------------------------------- account withdrawal


async def file_withdrawal(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, reason: Reason, heirs_commitment: bool, proxy_commitment: bool,
    to_proxy: bool, contribution_years: int, pension_account_settled: bool, bank_account: str,
) -> BenefitPayment:  # fmt: skip
    """个人账户一次性支取: the whole balance of the account's history, once employee insurance has ended."""
    require_own_filing(actor, person_id)
    found = await Repository(uow).coverages_of(person_id)
    working = [c for c in found if c.scheme in ("employee", "flexible")]
    if not working or not (
        actor.role is Role.insured or any(actor.serves_office(c.office_code) for c in working)
    ):
        raise NotFound("职工医保参保记录")
    today = uow.clock.today()
    ended = {c.ended_reason for c in working if c.ended_reason}
    facts = Circumstances(
        employee_insurance_ended=not any(c.covers(today) for c in working), died="death" in ended, emigrated="emigration" in ended,
        transferred_out="transfer_out" in ended, contribution_years=contribution_years, pension_account_settled=pension_account_settled,
        heirs_commitment=heirs_commitment, proxy_commitment=proxy_commitment,
    )  # fmt: skip
    entries = await Repository(uow).account_history(person_id)
    try:
        amount = withdrawable(entries, reason, facts, to_proxy)
    except WithdrawalError as exc:
        raise _maternity_errors(exc, "reason") from None
    line = Line("account_balance", "个人账户余额一次性支取", amount, amount, f"支取原因：{reason.value}")
    basis = {"reason": reason.value, "to_proxy": to_proxy, "entries": len(entries)}
    latest = max(working, key=lambda c: c.benefit_start)
    payment = new_payment(PaymentKind.account_withdrawal, person_id, latest.office_code, latest.unit_code, (line,), basis,
                          bank_account, actor.subject, uow.clock.now())  # fmt: skip
    # One withdrawal at a time: a second filing before the first is paid or rejected is refused, even if money was
    # credited in between (the payment books its withdrawal entry, then what is credited later may be withdrawn).
    await _hold_events(uow, payment, {withdrawal_key(entries)}, withdrawal=True)
    await APPLICATIONS.store.add(uow, payment)
    return payment


# ----------------------------------------------------------------------------------------- the flow


def _fact(p: BenefitPayment) -> dict:
    return {
        "claim_id": p.id,
        "person_id": p.person_id,
        "office_code": p.office_code,
        "care_type": p.kind.value,
    }


APPLICATIONS = Applications(repository.PAYMENTS, OPEN, _fact, lambda a: a.amount, "待遇支付申请")


async def accept(uow: UnitOfWork, actor: Principal, payment_id: uuid.UUID, *, version: int) -> BenefitPayment:
    return await APPLICATIONS.accept(uow, actor, payment_id, version=version)


async def approve(
    uow: UnitOfWork, actor: Principal, payment_id: uuid.UUID, *, version: int, allow_sample: bool = False
) -> BenefitPayment:
    payment = await APPLICATIONS.handled(uow, actor, payment_id, city=True)
    require_payable(payment.sample, allow_sample)
    approved = await APPLICATIONS.saved(
        uow, payment, payment.approve(version, actor.subject, uow.clock.now())
    )
    uow.emit(new_envelope(ClaimsApprovedV1(**_fact(approved), fund=approved.amount, person_share=Decimal("0.00"),
                                           due_on=approved.due_on), uow.clock))  # fmt: skip
    return approved


async def pay(
    uow: UnitOfWork,
    actor: Principal,
    payment_id: uuid.UUID,
    *,
    version: int,
    reference: str,
    allow_sample: bool = False,
) -> BenefitPayment:
    payment = await APPLICATIONS.handled(uow, actor, payment_id)
    require_payable(payment.sample, allow_sample)
    paid = await APPLICATIONS.saved(
        uow, payment, payment.pay(version, actor.subject, uow.clock.now(), reference)
    )
    today = uow.clock.today()
    # The account is emptied by the withdrawal: booked here at once, under the reference registration debits it
    # with when it hears claims.paid, so its account_debited finds the entry already there.
    if paid.kind is PaymentKind.account_withdrawal:
        await Repository(uow).book_account_entry(
            paid.person_id, EntryKind.withdrawal.value, paid.amount, today, f"withdrawal:{paid.id}"
        )
    uow.emit(new_envelope(ClaimsPaidV1(**_fact(paid), amount=paid.amount, paid_on=today,
                                       within_limit=paid.due_on is None or today <= paid.due_on), uow.clock))  # fmt: skip
    return paid


async def reject(
    uow: UnitOfWork, actor: Principal, payment_id: uuid.UUID, *, reason: str, note: str | None, version: int
) -> BenefitPayment:
    payment = await APPLICATIONS.handled(uow, actor, payment_id)
    rejected = await APPLICATIONS.saved(
        uow, payment, payment.reject(reason, note, version, actor.subject, uow.clock.now())
    )
    await repository.release_events(uow.session, payment.id)  # may be filed again
    uow.emit(
        new_envelope(
            ClaimsRejectedV1(**_fact(rejected), reason=reason, reason_text=rejected.steps[-1].note or reason),
            uow.clock,
        )
    )
    return rejected


async def payments_of(
    uow: UnitOfWork, actor: Principal, *, offset: int, limit: int
) -> tuple[list[BenefitPayment], int]:
    """The person's own payments, a unit's employees', those of the offices staff reach (shared.access)."""
    scope = listing_scope(actor)
    return await applications.page(uow.session, APPLICATIONS.store, scope=scope, offset=offset, limit=limit)


async def visible_payment(uow: UnitOfWork, actor: Principal, payment_id: uuid.UUID) -> BenefitPayment:
    """The payment, if the actor may see it (else 404)."""
    return await APPLICATIONS.visible(uow, actor, payment_id)
