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
from typing import Any

from shared.auth import Principal
from shared.calendar import default_calendar
from shared.db import UnitOfWork
from shared.errors import Conflict, DomainError, Invalid, Problem
from shared.events import new_envelope
from shared.events.catalog import (
    ClaimsApprovedV1,
    ClaimsPaidV1,
    ClaimsRejectedV1,
)
from shared.ops import DeadlineCounts, overdue_seconds
from svc_claims.domain.access import (
    listing_scope,
    require_filer_reach,
    require_office_staff,
    require_own_filing,
)
from svc_claims.domain.benefits import QuoteContext, QuoteError
from svc_claims.domain.eligibility import Coverage, Entitlement, eligibility_on
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
from svc_claims.repository import applications, receipts
from svc_claims.repository import reimbursements as repository
from svc_claims.repository.coverage import Repository
from svc_claims.repository.policies import Policy, PolicyNotFound, policy_in_force
from svc_claims.usecases import payments
from svc_claims.usecases.applications import Applications
from svc_claims.usecases.deadlines import open_due_dates
from svc_claims.usecases.eligibility import (
    BILL,
    family_doctor_signed_on,
    remote_class_on,
    require_payable,
    settle_bill,
)

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


# -------------------------------------------------------------------------------------------- filing


async def file_claim(uow: UnitOfWork, actor: Principal, filing: Filing) -> Reimbursement:
    """A claim is stored complete (filed) or with every missing paper named (awaiting_materials)."""
    coverages = await Repository(uow).coverages_of(filing.person_id)
    require_filer_reach(actor, coverages)  # an object out of reach is 404 before any other check
    check_channel(actor.role.value, filing.channel)
    check_receipts(filing.receipts, filing.service_from, filing.service_to, uow.clock.today())
    coverage = _coverage_for(filing, actor, coverages)
    check_account_owner(filing.account_owner, coverage.unit_code)
    await _policy(uow, coverage.scheme, filing.service_to)
    level = await _facility_level(uow, filing)
    if filing.care_type is CareType.special_disease:
        await _require_special_disease_registration(uow, filing)
    now, claim_id = uow.clock.now(), uuid.uuid4()
    original = await _resubmitted_claim(uow, actor, filing, claim_id)
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
    await APPLICATIONS.store.add(uow, claim)
    if original is not None:
        await APPLICATIONS.store.save(uow, original, loaded_at_version=original.version)
    return claim


async def _resubmitted_claim(
    uow: UnitOfWork, actor: Principal, filing: Filing, claim_id: uuid.UUID
) -> Reimbursement | None:
    """The rejected claim this one corrects, marked with the link (locked: it is followed up once)."""
    if filing.resubmits is None:
        return None
    original = await APPLICATIONS.visible(uow, actor, filing.resubmits, lock=True)
    return original.resubmitted(filing.person_id, claim_id, actor.subject, uow.clock.now())


def _coverage_for(filing: Filing, actor: Principal, coverages: Sequence[Coverage]) -> Coverage:
    """The coverage of the service dates; who may file for whom (the person, their unit, staff)."""
    require_own_filing(actor, filing.person_id, "只能为本人申请报销")
    first = eligibility_on(filing.person_id, filing.service_from, coverages)
    last = eligibility_on(filing.person_id, filing.service_to, coverages)
    if not (first.eligible and last.eligible) or first.coverage is None:
        reason = first.reason if not first.eligible else last.reason
        raise Invalid(
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
            raise Invalid("facility_level_required", "须填写医疗机构级别", "跨省异地就医的医疗机构不在本市定点名录中",
                          errors=[{"field": "facility_level", "message": "须填写异地医疗机构级别"}])  # fmt: skip
        return filed
    facility = await Repository(uow).facility(code)
    if facility is None or facility["kind"] not in ("medical_institution", "retail_pharmacy"):
        raise Invalid("facility_unknown", "未知的定点医疗机构", f"{code} 不在本市定点医疗机构和零售药店名录中",
                      errors=[{"field": "facility_code", "message": "未知的定点医疗机构"}])  # fmt: skip
    level = facility["level"] or filed
    if level is None:
        raise Invalid("facility_level_required", "须填写医疗机构级别", f"{facility['name']}在定点名录中未定级",
                      errors=[{"field": "facility_level", "message": "该机构未定级，须填写级别"}])  # fmt: skip
    if filed is not None and filed != level:
        raise Invalid("facility_level_mismatch", "医疗机构级别与定点名录不符", f"{facility['name']}在定点名录中为{level}级",
                      errors=[{"field": "facility_level", "message": f"应为{level}级"}])  # fmt: skip
    return level


async def _require_special_disease_registration(uow: UnitOfWork, filing: Filing) -> None:
    """门特 is paid at the special-disease ratio only under a special-disease registration valid over the
    service dates, at the treatment hospital or pharmacy it names (seed 000: the person picks it)."""
    registrations = [e for e in await Repository(uow).entitlements_of(filing.person_id)
                     if e.kind == "special_disease" and e.applies_on(filing.service_from) and e.applies_on(filing.service_to)]  # fmt: skip
    if not registrations:
        raise Invalid("special_disease_registration_required", "门诊特定疾病须先办理门特登记", "就医期间没有有效的门特登记",
                      errors=[{"field": "care_type", "message": "就医期间无有效门特登记"}])  # fmt: skip
    if not filing.out_of_province and not any(
        filing.facility_code in e.facility_codes for e in registrations
    ):
        raise Invalid("special_disease_facility_not_registered", "非门特登记的治疗机构", "门特费用须在登记的治疗医院或药店发生",
                      errors=[{"field": "facility_code", "message": "不是门特登记的治疗机构"}])  # fmt: skip


def registered_outpatient_hospital(entitlements: list[Entitlement], claim: Reimbursement) -> bool:
    """城乡居民门(急)诊就医登记: the reformed level-2 hospital the resident registered is paid as a level-1 one."""
    return any(e.kind == "resident_outpatient" and e.applies_on(claim.service_from) and claim.facility_code in e.facility_codes
               for e in entitlements)  # fmt: skip


async def _policy(uow: UnitOfWork, scheme: str, day: date) -> Policy:
    """The deployment region's version in force on the last service date."""
    try:
        return await policy_in_force(uow, None, scheme, day)
    except PolicyNotFound as exc:
        raise Invalid(
            "policy_not_found",
            "没有适用的待遇政策",
            str(exc),
            errors=[{"field": "service_to", "message": str(exc)}],
        ) from None


async def _hold_receipts(uow: UnitOfWork, claim: Reimbursement) -> None:
    """Each receipt of a facility is claimed once; a second filing names the claim that holds it."""
    if await receipts.hold(uow, claim.facility_code, [r.number for r in claim.receipts], claim.id):
        return
    for receipt in claim.receipts:
        held = await receipts.holder(uow.session, claim.facility_code, receipt.number)
        if held is not None:
            raise Conflict("duplicate_receipt", "该票据已申请报销", f"票据 {receipt.number} 已在报销申请 {held} 中",
                          existing_claim=str(held), errors=[{"field": "receipts", "message": f"票据 {receipt.number} 重复"}])  # fmt: skip
    # its holder let it go meanwhile (a claim rejected at this moment): filing again succeeds
    raise Conflict("duplicate_receipt", "该票据已申请报销", "同一票据正在另一申请中提交")


Refusal = DomainError | Problem


async def file_batch(
    uow: UnitOfWork, actor: Principal, filings: Sequence[Filing]
) -> list[tuple[int, Reimbursement | None, Refusal | None]]:
    """单位批量申报: each claim its own savepoint, so one refused claim leaves the others filed."""
    outcomes: list[tuple[int, Reimbursement | None, Refusal | None]] = []
    for row, filing in enumerate(filings, start=1):
        try:
            async with uow.session.begin_nested():
                outcomes.append((row, await file_claim(uow, actor, filing), None))
        except (DomainError, Problem) as refusal:
            outcomes.append((row, None, refusal))
    return outcomes


async def supplement(
    uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID, *, materials: frozenset[str], version: int
) -> Reimbursement:
    claim = await APPLICATIONS.visible(uow, actor, claim_id, lock=True)
    return await APPLICATIONS.saved(
        uow, claim, claim.supplement(materials, version, actor.subject, uow.clock.now())
    )


# ------------------------------------------------------------------------------------- the office's flow


def _fact(claim: Reimbursement) -> dict[str, Any]:
    return {
        "claim_id": claim.id,
        "person_id": claim.person_id,
        "office_code": claim.office_code,
        "care_type": claim.care_type.value,
    }


APPLICATIONS = Applications(repository.REIMBURSEMENTS, OPEN, _fact, lambda a: a.claimed, "报销申请")


async def accept(uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID, *, version: int) -> Reimbursement:
    return await APPLICATIONS.accept(uow, actor, claim_id, version=version)


async def review(
    uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID, *, lines: Sequence[ReviewLine], version: int
) -> Reimbursement:
    claim = await APPLICATIONS.handled(uow, actor, claim_id)
    return await APPLICATIONS.saved(
        uow, claim, claim.reviewed(lines, version, actor.subject, uow.clock.now())
    )


async def approve(
    uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID, *, version: int, allow_sample: bool = False
) -> Reimbursement:
    """核准: the bill computed on the accepted in-scope amounts against the person's year, and the payment order."""
    claim = await APPLICATIONS.handled(uow, actor, claim_id, city=True)
    claim.require_move(Status.approved, version)
    coverages, entitlements = await Repository(uow).coverages_and_entitlements_of(claim.person_id)
    coverage = eligibility_on(claim.person_id, claim.service_to, coverages).coverage
    if coverage is None:
        raise Conflict("not_eligible", "参保状态已变化，就医日期不在待遇享受期内")
    in_scope = claim.accepted_in_scope()
    remote = remote_class_on(entitlements, claim.service_from) if claim.out_of_province else None
    reformed = claim.care_type is CareType.outpatient_large and registered_outpatient_hospital(
        entitlements, claim
    )
    context = QuoteContext(
        scheme=coverage.scheme, tier=(coverage.tier or coverage.category or "in_service"), facility_level=claim.facility_level,
        care_type=ENGINE_CARE_TYPE[claim.care_type], in_scope=in_scope, out_of_scope=claim.claimed - in_scope,  # type: ignore[arg-type]
        special_groups=coverage.special_groups_on(claim.service_to), service_date=claim.service_to,
        admission_date=claim.service_from if ENGINE_CARE_TYPE[claim.care_type] == "inpatient" else None, remote=remote,
        reformed_level2=reformed,
        family_doctor_signed_on=family_doctor_signed_on(entitlements, claim.service_to),
    )  # fmt: skip
    try:
        policy = await _policy(uow, coverage.scheme, claim.service_to)
        settlement_id, bill = await settle_bill(
            uow, actor, claim.person_id, service_date=claim.service_to, context=context, policy=policy,
            request={"reimbursement": str(claim.id)}, allow_sample=allow_sample, coverages=coverages,
        )  # fmt: skip
    except QuoteError as exc:
        raise Invalid("invalid_quote", "无法计算待遇", str(exc)) from None
    approved = await APPLICATIONS.saved(
        uow,
        claim,
        claim.approved(
            BILL.dump_python(bill, mode="json"), settlement_id, version, actor.subject, uow.clock.now()
        ),
    )
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
    actor: Principal,
    claim_id: uuid.UUID,
    *,
    version: int,
    reference: str,
    allow_sample: bool = False,
) -> Reimbursement:
    claim = await APPLICATIONS.handled(uow, actor, claim_id)
    # approved before the setting changed
    require_payable(bool(claim.bill and claim.bill.get("sample")), allow_sample)
    today = uow.clock.today()
    paid = await APPLICATIONS.saved(
        uow, claim, claim.paid(version, actor.subject, uow.clock.now(), today, reference)
    )
    order = paid.payment_order()
    amount = order.amount if order else Decimal("0.00")
    uow.emit(new_envelope(ClaimsPaidV1(**_fact(paid), amount=amount, paid_on=today,
                                       within_limit=paid.due_on is None or today <= paid.due_on), uow.clock))  # fmt: skip
    return paid


async def reject(
    uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID, *, reason: str, note: str | None, version: int
) -> Reimbursement:
    """不予受理 / 不予支付: with the reason; the receipts are freed so a corrected claim can be filed again.
    A reviewed claim waits for the city's decision, so only city-level staff refuse it then."""
    claim = await APPLICATIONS.visible(uow, actor, claim_id, lock=True)
    require_office_staff(actor, claim.office_code, city=claim.status is Status.reviewed)
    rejected = await APPLICATIONS.saved(
        uow, claim, claim.rejected(reason, note, version, actor.subject, uow.clock.now())
    )
    await receipts.release(uow.session, claim.id)
    uow.emit(
        new_envelope(
            ClaimsRejectedV1(**_fact(rejected), reason=reason, reason_text=rejected.steps[-1].note or reason),
            uow.clock,
        )
    )
    return rejected


async def claims_of(
    uow: UnitOfWork, actor: Principal, *, status: Status | None, offset: int, limit: int
) -> tuple[list[Reimbursement], int]:
    """The person's own claims, a unit's employees', those of the offices staff reach (shared.access)."""
    scope, status_code = listing_scope(actor), status.value if status is not None else None
    return await applications.page(
        uow.session, APPLICATIONS.store, scope=scope, status=status_code, offset=offset, limit=limit
    )


# ------------------------------------------------------------------------------------------- deadlines


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


async def visible_claim(uow: UnitOfWork, actor: Principal, claim_id: uuid.UUID) -> Reimbursement:
    """The claim, if the actor may see it (else 404)."""
    return await APPLICATIONS.visible(uow, actor, claim_id)
