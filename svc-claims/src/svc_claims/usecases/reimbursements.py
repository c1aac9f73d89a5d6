"""Manual reimbursement use cases (手工报销): one transaction each; the same ones behind HTTP and jobs.

The fund's share is computed at city approval by ``usecases.settle_bill``, the same engine and the same
locked yearly accumulators as every settled bill, so a reimbursement uses the deductible and the caps
exactly once and equals what ``POST /claims/quote`` gives for the same context.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

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
from shared.ops import DeadlineCounts, overdue_seconds
from svc_claims.domain.benefits import QuoteContext, QuoteError
from svc_claims.domain.benefits.model import RemoteClass
from svc_claims.domain.eligibility import Coverage, eligibility_on
from svc_claims.domain.reimbursement import (
    ENGINE_CARE_TYPE,
    OPEN,
    AccountOwner,
    CareType,
    Channel,
    Receipt,
    Reimbursement,
    ReviewLine,
    Status,
    Step,
    check_account_owner,
    check_channel,
    check_receipts,
)
from svc_claims.models import reimbursement_receipts, reimbursements
from svc_claims.repository.coverage import Repository
from svc_claims.repository.policies import Policy, PolicyNotFound, policy_in_force
from svc_claims.usecases import payments
from svc_claims.usecases.deadlines import Applications, open_due_dates
from svc_claims.usecases.eligibility import BILL, require_office_staff, require_payable, settle_bill

CLAIM = TypeAdapter(Reimbursement)
AT_RISK_WORKING_DAYS = 5


@dataclass(frozen=True)
class Filing:
    person_id: uuid.UUID
    care_type: CareType
    facility_code: str
    facility_level: int | None  # None: the registry's level
    service_from: date
    service_to: date
    receipts: tuple[Receipt, ...]
    materials: frozenset[str]
    accident: bool
    bank_account: str
    channel: Channel
    resubmits: uuid.UUID | None = None
    remote_emergency: bool = False
    account_owner: AccountOwner = AccountOwner.person
    out_of_province: bool = False


# ------------------------------------------------------------------------------------------- storage


async def _save(uow: UnitOfWork, claim: Reimbursement, new: bool = False) -> None:
    values = {"person_id": claim.person_id, "office_code": claim.office_code, "unit_code": claim.unit_code,
              "status": claim.status.value, "due_on": claim.due_on, "due_provisional": claim.due_provisional,
              "overdue_announced": claim.overdue_announced,
              "document": CLAIM.dump_python(claim, mode="json")}  # fmt: skip
    if new:
        await uow.session.execute(
            insert(reimbursements).values(id=claim.id, filed_at=claim.steps[0].at, **values)
        )
    else:
        await uow.session.execute(
            update(reimbursements).where(reimbursements.c.id == claim.id).values(**values)
        )


async def _load(uow: UnitOfWork, claim_id: uuid.UUID, for_update: bool = False) -> Reimbursement | None:
    query = select(reimbursements.c.document).where(reimbursements.c.id == claim_id)
    row = (await uow.session.execute(query.with_for_update() if for_update else query)).first()
    return CLAIM.validate_python(row[0]) if row else None


def may_see(actor: Principal, claim: Reimbursement) -> bool:
    if actor.role is Role.insured:
        return actor.person_id == claim.person_id
    if actor.role is Role.unit:
        return claim.unit_code is not None and actor.unit_id == claim.unit_code
    return actor.serves_office(claim.office_code) or actor.role is Role.admin


async def visible_claim(
    uow: UnitOfWork, claim_id: uuid.UUID, actor: Principal, for_update: bool = False
) -> Reimbursement:
    claim = await _load(uow, claim_id, for_update)
    if claim is None or not may_see(actor, claim):
        raise not_found("报销申请")
    return claim


# -------------------------------------------------------------------------------------------- filing


async def file_claim(uow: UnitOfWork, filing: Filing, actor: Principal) -> Reimbursement:
    """A claim is stored complete (filed) or with every missing paper named (awaiting_materials)."""
    await _require_reach(uow, filing.person_id, actor)  # an object out of reach is 404 before any other check
    check_channel(actor.role.value, filing.channel)
    check_receipts(filing.receipts, filing.service_from, filing.service_to, uow.clock.today())
    coverage = await _coverage_for(uow, filing, actor)
    check_account_owner(filing.account_owner, coverage.unit_code)
    await _policy(uow, coverage.scheme, filing.service_to)
    level = await _facility_level(uow, filing)
    if filing.care_type is CareType.special_disease:
        await _require_special_disease_registration(uow, filing)
    now, claim_id = uow.clock.now(), uuid.uuid4()
    original = await _resubmitted_claim(uow, filing, claim_id, actor)
    claim = Reimbursement(
        id=claim_id, person_id=filing.person_id, office_code=coverage.office_code, unit_code=coverage.unit_code,
        channel=filing.channel, care_type=filing.care_type, facility_code=filing.facility_code,
        facility_level=level, service_from=filing.service_from, service_to=filing.service_to,
        receipts=filing.receipts, materials=filing.materials, accident=filing.accident, bank_account=filing.bank_account,
        status=Status.awaiting_materials, version=1, steps=(), resubmits=filing.resubmits,
        remote_emergency=filing.remote_emergency, account_owner=filing.account_owner, out_of_province=filing.out_of_province,
    )  # fmt: skip
    status = Status.awaiting_materials if claim.missing else Status.filed
    note = (
        "材料不全，一次性告知：" + "；".join(r.name for r in claim.missing) if claim.missing else "材料齐全"
    )
    claim = replace(claim, status=status, steps=(Step(status, actor.subject, now, note),))
    await _hold_receipts(uow, claim)
    await _save(uow, claim, new=True)
    if original is not None:
        await _save(uow, original)
    return claim


async def _resubmitted_claim(
    uow: UnitOfWork, filing: Filing, claim_id: uuid.UUID, actor: Principal
) -> Reimbursement | None:
    """The rejected claim this one corrects, marked with the link (locked: it is followed up once)."""
    if filing.resubmits is None:
        return None
    original = await visible_claim(uow, filing.resubmits, actor, for_update=True)
    return original.resubmitted(filing.person_id, claim_id, actor.subject, uow.clock.now())


async def _require_reach(uow: UnitOfWork, person_id: uuid.UUID, actor: Principal) -> None:
    """A unit files for its employees, staff for their office's people (city staff: all); else 404."""
    coverages = await Repository(uow.session).coverages_of(person_id)
    if actor.role is Role.unit and not any(c.unit_code == actor.unit_id for c in coverages):
        raise not_found("参保人")
    if (
        actor.role is Role.staff
        and coverages
        and not any(actor.serves_office(c.office_code) for c in coverages)
    ):
        raise not_found("参保人")


async def _coverage_for(uow: UnitOfWork, filing: Filing, actor: Principal) -> Coverage:
    """The coverage of the service dates; who may file for whom (the person, their unit, staff)."""
    coverages = await Repository(uow.session).coverages_of(filing.person_id)
    if actor.role is Role.insured and actor.person_id != filing.person_id:
        raise Problem(403, "not_own_claim", "只能为本人申请报销")
    first = eligibility_on(filing.person_id, filing.service_from, coverages)
    last = eligibility_on(filing.person_id, filing.service_to, coverages)
    if actor.role is Role.unit and not any(c.unit_code == actor.unit_id for c in coverages):
        raise not_found("参保人")
    if (
        actor.role is Role.staff
        and coverages
        and not any(actor.serves_office(c.office_code) for c in coverages)
    ):
        raise not_found("参保人")
    if not (first.eligible and last.eligible) or first.coverage is None:
        reason = first.reason if not first.eligible else last.reason
        raise Problem(
            422,
            "not_eligible",
            "就医日期不在待遇享受期内",
            reason,
            errors=[{"field": "service_from", "message": reason}],
        )
    return first.coverage


async def _facility_level(uow: UnitOfWork, filing: Filing) -> int:
    """The level the bill is computed at: the registry's, for a facility of this region (a level filed
    must agree with it); the filed one for care in another province, whose facility is not in it."""
    filed, code = filing.facility_level, filing.facility_code
    if filing.out_of_province:
        if filed is None:
            raise Problem(422, "facility_level_required", "须填写医疗机构级别", "跨省异地就医的医疗机构不在本市定点名录中",
                          errors=[{"field": "facility_level", "message": "须填写异地医疗机构级别"}])  # fmt: skip
        return filed
    facility = await Repository(uow.session).facility(code)
    if facility is None or facility["kind"] not in ("medical_institution", "retail_pharmacy"):
        raise Problem(422, "facility_unknown", "未知的定点医疗机构", f"{code} 不在本市定点医疗机构和零售药店名录中",
                      errors=[{"field": "facility_code", "message": "未知的定点医疗机构"}])  # fmt: skip
    level = facility["level"] or filed
    if level is None:
        raise Problem(422, "facility_level_required", "须填写医疗机构级别", f"{facility['name']}在定点名录中未定级",
                      errors=[{"field": "facility_level", "message": "该机构未定级，须填写级别"}])  # fmt: skip
    if filed is not None and filed != level:
        raise Problem(422, "facility_level_mismatch", "医疗机构级别与定点名录不符", f"{facility['name']}在定点名录中为{level}级",
                      errors=[{"field": "facility_level", "message": f"应为{level}级"}])  # fmt: skip
    return level


async def _require_special_disease_registration(uow: UnitOfWork, filing: Filing) -> None:
    """门特 is paid at the special-disease ratio only under a special-disease registration valid over the
    service dates, at the treatment hospital or pharmacy it names (seed 000: the person picks it)."""
    registrations = [e for e in await Repository(uow.session).entitlements_of(filing.person_id)
                     if e.kind == "special_disease" and e.applies_on(filing.service_from) and e.applies_on(filing.service_to)]  # fmt: skip
    if not registrations:
        raise Problem(422, "special_disease_registration_required", "门诊特定疾病须先办理门特登记", "就医期间没有有效的门特登记",
                      errors=[{"field": "care_type", "message": "就医期间无有效门特登记"}])  # fmt: skip
    if not filing.out_of_province and not any(
        filing.facility_code in e.facility_codes for e in registrations
    ):
        raise Problem(422, "special_disease_facility_not_registered", "非门特登记的治疗机构", "门特费用须在登记的治疗医院或药店发生",
                      errors=[{"field": "facility_code", "message": "不是门特登记的治疗机构"}])  # fmt: skip


async def registered_outpatient_hospital(uow: UnitOfWork, claim: Reimbursement) -> bool:
    """城乡居民门(急)诊就医登记: the reformed level-2 hospital the resident registered is paid as a level-1 one."""
    return any(e.kind == "resident_outpatient" and e.applies_on(claim.service_from) and claim.facility_code in e.facility_codes
               for e in await Repository(uow.session).entitlements_of(claim.person_id))  # fmt: skip


async def _policy(uow: UnitOfWork, scheme: str, day: date) -> Policy:
    """The deployment region's version in force on the last service date."""
    try:
        return await policy_in_force(uow.session, None, scheme, day)
    except PolicyNotFound as exc:
        raise Problem(
            422,
            "policy_not_found",
            "没有适用的待遇政策",
            str(exc),
            errors=[{"field": "service_to", "message": str(exc)}],
        ) from None


async def _hold_receipts(uow: UnitOfWork, claim: Reimbursement) -> None:
    """Each receipt of a facility is claimed once; a second filing names the claim that holds it."""
    for receipt in claim.receipts:
        held = await uow.session.scalar(
            select(reimbursement_receipts.c.reimbursement_id).where(
                reimbursement_receipts.c.facility_code == claim.facility_code, reimbursement_receipts.c.receipt_no == receipt.number)
        )  # fmt: skip
        if held is not None:
            raise Problem(409, "duplicate_receipt", "该票据已申请报销", f"票据 {receipt.number} 已在报销申请 {held} 中",
                          existing_claim=str(held), errors=[{"field": "receipts", "message": f"票据 {receipt.number} 重复"}])  # fmt: skip
    try:
        async with uow.session.begin_nested():
            await uow.session.execute(insert(reimbursement_receipts), [
                {"facility_code": claim.facility_code, "receipt_no": r.number, "reimbursement_id": claim.id} for r in claim.receipts
            ])  # fmt: skip
    except IntegrityError:  # filed at the same moment by someone else
        raise Problem(409, "duplicate_receipt", "该票据已申请报销", "同一票据正在另一申请中提交") from None


async def file_batch(
    uow: UnitOfWork, filings: Sequence[Filing], actor: Principal
) -> list[tuple[int, Reimbursement | None, Problem | None]]:
    """单位批量申报: each claim its own savepoint, so one refused claim leaves the others filed."""
    outcomes: list[tuple[int, Reimbursement | None, Problem | None]] = []
    for row, filing in enumerate(filings, start=1):
        try:
            async with uow.session.begin_nested():
                outcomes.append((row, await file_claim(uow, filing, actor), None))
        except Problem as refusal:
            outcomes.append((row, None, refusal))
    return outcomes


async def supplement(
    uow: UnitOfWork, claim_id: uuid.UUID, materials: frozenset[str], version: int, actor: Principal
) -> Reimbursement:
    claim = (await visible_claim(uow, claim_id, actor, for_update=True)).supplement(
        materials, version, actor.subject, uow.clock.now()
    )
    await _save(uow, claim)
    return claim


# ------------------------------------------------------------------------------------- the office's flow


def _fact(claim: Reimbursement) -> dict[str, Any]:
    return {
        "claim_id": claim.id,
        "person_id": claim.person_id,
        "office_code": claim.office_code,
        "care_type": claim.care_type.value,
    }


async def accept(uow: UnitOfWork, claim_id: uuid.UUID, version: int, actor: Principal) -> Reimbursement:
    claim = await visible_claim(uow, claim_id, actor, for_update=True)
    require_office_staff(actor, claim.office_code)
    accepted = claim.accept(version, actor.subject, uow.clock.now(), uow.clock.today(), default_calendar())
    await _save(uow, accepted)
    uow.emit(new_envelope(ClaimsAcceptedV1(**_fact(accepted), accepted_on=accepted.accepted_on, due_on=accepted.due_on,
                                           claimed=accepted.claimed), uow.clock))  # fmt: skip
    return accepted


async def review(
    uow: UnitOfWork, claim_id: uuid.UUID, lines: Sequence[ReviewLine], version: int, actor: Principal
) -> Reimbursement:
    claim = await visible_claim(uow, claim_id, actor, for_update=True)
    require_office_staff(actor, claim.office_code)
    reviewed = claim.reviewed(lines, version, actor.subject, uow.clock.now())
    await _save(uow, reviewed)
    return reviewed


async def remote_class(uow: UnitOfWork, claim: Reimbursement) -> RemoteClass:
    """Care in another province: the class of the remote-care filing valid on the service date (referred,
    long-term resident, emergency); without one the care was self-referred (seed 000: +10 points at a
    level-2/3 hospital, nothing elsewhere)."""
    filings = [e for e in await Repository(uow.session).entitlements_of(claim.person_id)
               if e.kind == "remote_care" and e.applies_on(claim.service_from)]  # fmt: skip
    # The class was checked when registration recorded the filing; the engine checks it again.
    return (
        cast(RemoteClass, filings[0].details.get("remote_class", "self_referred"))
        if filings
        else "self_referred"
    )


async def approve(
    uow: UnitOfWork, claim_id: uuid.UUID, version: int, actor: Principal, allow_sample: bool = False
) -> Reimbursement:
    """核准: the bill computed on the accepted in-scope amounts against the person's year, and the payment order."""
    claim = await visible_claim(uow, claim_id, actor, for_update=True)
    require_office_staff(actor, claim.office_code, city=True)
    claim.require_move(Status.approved, version)
    coverage = eligibility_on(
        claim.person_id, claim.service_to, await Repository(uow.session).coverages_of(claim.person_id)
    ).coverage
    if coverage is None:
        raise Problem(409, "not_eligible", "参保状态已变化，就医日期不在待遇享受期内")
    in_scope = claim.accepted_in_scope()
    remote = await remote_class(uow, claim) if claim.out_of_province else None
    reformed = claim.care_type is CareType.outpatient_large and await registered_outpatient_hospital(
        uow, claim
    )
    context = QuoteContext(
        scheme=coverage.scheme, tier=(coverage.tier or coverage.category or "in_service"), facility_level=claim.facility_level,
        care_type=ENGINE_CARE_TYPE[claim.care_type], in_scope=in_scope, out_of_scope=claim.claimed - in_scope,  # type: ignore[arg-type]
        special_groups=coverage.special_groups_on(claim.service_to), service_date=claim.service_to,
        admission_date=claim.service_from if ENGINE_CARE_TYPE[claim.care_type] == "inpatient" else None, remote=remote,
        reformed_level2=reformed,
    )  # fmt: skip
    try:
        settlement_id, bill = await settle_bill(uow, actor, claim.person_id, claim.service_to, context,
                                                await _policy(uow, coverage.scheme, claim.service_to), {"reimbursement": str(claim.id)},
                                                allow_sample)  # fmt: skip
    except QuoteError as exc:
        raise Problem(422, "invalid_quote", "无法计算待遇", str(exc)) from None
    approved = claim.approved(
        BILL.dump_python(bill, mode="json"), settlement_id, version, actor.subject, uow.clock.now()
    )
    await _save(uow, approved)
    funds = bill.total - bill.person
    uow.emit(
        new_envelope(
            ClaimsApprovedV1(**_fact(approved), fund=funds, person_share=bill.person, due_on=approved.due_on),
            uow.clock,
        )
    )
    return approved


async def pay(
    uow: UnitOfWork,
    claim_id: uuid.UUID,
    version: int,
    reference: str,
    actor: Principal,
    allow_sample: bool = False,
) -> Reimbursement:
    claim = await visible_claim(uow, claim_id, actor, for_update=True)
    require_office_staff(actor, claim.office_code)
    require_payable(
        bool(claim.bill and claim.bill.get("sample")), allow_sample
    )  # approved before the setting changed
    today = uow.clock.today()
    paid = claim.paid(version, actor.subject, uow.clock.now(), today, reference)
    await _save(uow, paid)
    order = paid.payment_order()
    amount = order.amount if order else Decimal("0.00")
    uow.emit(new_envelope(ClaimsPaidV1(**_fact(paid), amount=amount, paid_on=today,
                                       within_limit=paid.due_on is None or today <= paid.due_on), uow.clock))  # fmt: skip
    return paid


async def reject(
    uow: UnitOfWork, claim_id: uuid.UUID, reason: str, note: str | None, version: int, actor: Principal
) -> Reimbursement:
    """不予受理 / 不予支付: with the reason; the receipts are freed so a corrected claim can be filed again.
    A reviewed claim waits for the city's decision, so only city-level staff refuse it then."""
    claim = await visible_claim(uow, claim_id, actor, for_update=True)
    require_office_staff(actor, claim.office_code, city=claim.status is Status.reviewed)
    rejected = claim.rejected(reason, note, version, actor.subject, uow.clock.now())
    await _save(uow, rejected)
    await uow.session.execute(
        delete(reimbursement_receipts).where(reimbursement_receipts.c.reimbursement_id == claim.id)
    )
    uow.emit(
        new_envelope(
            ClaimsRejectedV1(**_fact(rejected), reason=reason, reason_text=rejected.steps[-1].note or reason),
            uow.clock,
        )
    )
    return rejected


async def claims_of(
    uow: UnitOfWork, actor: Principal, status: Status | None, offset: int, limit: int
) -> tuple[list[Reimbursement], int]:
    """The person's own claims, a unit's employees', an office's (city staff: all)."""
    conditions = []
    if actor.role is Role.insured:
        conditions.append(reimbursements.c.person_id == actor.person_id)
    elif actor.role is Role.unit:
        conditions.append(reimbursements.c.unit_code == actor.unit_id)
    elif not actor.is_city_staff:
        conditions.append(reimbursements.c.office_code == actor.office_code)
    if status is not None:
        conditions.append(reimbursements.c.status == status.value)
    total = await uow.session.scalar(select(func.count()).select_from(reimbursements).where(*conditions))
    query = (
        select(reimbursements.c.document)
        .where(*conditions)
        .order_by(reimbursements.c.filed_at.desc())
        .offset(offset)
        .limit(limit)
    )
    return [CLAIM.validate_python(row[0]) for row in await uow.session.execute(query)], total or 0


# ------------------------------------------------------------------------------------------- deadlines


APPLICATIONS = Applications(reimbursements, CLAIM, OPEN, _save, _fact)


async def payment_deadlines(uow: UnitOfWork) -> DeadlineCounts:
    """The ops page's probe: open claims and payments near or past their limit (no personal data)."""
    today = uow.clock.today()
    soon = default_calendar().add_working_days(today, AT_RISK_WORKING_DAYS).date
    dues = await open_due_dates(uow, APPLICATIONS) + await open_due_dates(uow, payments.APPLICATIONS)
    overdue = [d for d in dues if d < today]
    at_risk = [d for d in dues if today <= d <= soon]
    return DeadlineCounts(
        len(at_risk), len(overdue), overdue_seconds(min(overdue), uow.clock) if overdue else None
    )


def masked_account(account: str) -> str:
    return "*" * max(0, len(account) - 4) + account[-4:]
