"""Claims use cases."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast

from pydantic import TypeAdapter

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Envelope, new_envelope
from shared.events.catalog import (
    ClaimsEligibleV1,
    ClaimsIneligibleV1,
    RegistrationApprovedV1,
    RegistrationBenefitExpiredV1,
    RegistrationBenefitRegisteredV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
    TransferTransferredOutV1,
)
from shared.events.consumer import OutOfOrder
from svc_claims.domain.access import may_see_person, require_visible_person
from svc_claims.domain.benefits import Accumulators, Bill, QuoteContext, next_year, quote
from svc_claims.domain.benefits.model import RemoteClass
from svc_claims.domain.eligibility import Coverage, Eligibility, Entitlement, eligibility_on
from svc_claims.repository import receipts
from svc_claims.repository.coverage import Repository
from svc_claims.repository.policies import Policy, PolicyNotFound, policy_in_force

BILL = TypeAdapter(Bill)


class CoverageNotYetKnown(OutOfOrder):
    """An end of coverage overtook its registration.approved: retried until the approval is in."""


async def _end_coverage(uow: UnitOfWork, event: RegistrationStoppedV1 | RegistrationSuspendedV1 | RegistrationTerminatedV1,
                        last_day: date, reason: str, reason_code: str | None = None) -> None:  # fmt: skip
    """Benefits end on `last_day` (the person is eligible up to that day), and claims.ineligible says so."""
    if not await Repository(uow).end_coverage(event.enrollment_id, last_day, reason_code):
        raise CoverageNotYetKnown(f"enrollment {event.enrollment_id} not recorded yet")
    uow.emit(new_envelope(ClaimsIneligibleV1(
        person_id=event.person_id, enrollment_id=event.enrollment_id, office_code=event.office_code,
        last_covered_day=last_day, reason=reason,
    ), uow.clock))  # fmt: skip


async def record_stopped_registration(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationStoppedV1
) -> None:
    await _end_coverage(uow, event, event.stopped_on, f"中止参保：{event.reason}")


async def record_suspended_registration(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationSuspendedV1
) -> None:
    await _end_coverage(uow, event, event.last_covered_day, f"中断参保：{event.reason}")


async def record_terminated_registration(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationTerminatedV1
) -> None:
    await _end_coverage(uow, event, event.last_covered_day, f"终止参保：{event.reason_text}", event.reason)


async def record_approved_registration(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationApprovedV1
) -> None:
    """registration.approved → the person's coverage is recorded and claims.eligible announced."""
    coverage = Coverage(
        enrollment_id=event.enrollment_id,
        person_id=event.person_id,
        office_code=event.office_code,
        scheme=event.scheme,
        tier=event.tier,
        benefit_start=event.benefit_start,
        benefit_end=event.benefit_end,
        unit_code=event.unit_code,
        category=event.category,
        special_groups=tuple(event.special_groups),
        sex=event.sex,
        special_group_records=tuple(r.model_dump(mode="json") for r in event.special_group_records),
    )
    await Repository(uow).record_coverage(coverage, envelope.event_id)
    uow.emit(
        new_envelope(
            ClaimsEligibleV1(
                person_id=coverage.person_id,
                enrollment_id=coverage.enrollment_id,
                office_code=coverage.office_code,
                scheme=event.scheme,
                tier=coverage.tier,
                benefit_start=coverage.benefit_start,
                benefit_end=coverage.benefit_end,
            ),
            uow.clock,
        )
    )


async def record_benefit_registered(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationBenefitRegisteredV1
) -> None:
    """A benefit registration (special disease, remote care with its class, maternity …) now applies."""
    entitlement = Entitlement(
        registration_id=event.registration_id, person_id=event.person_id, kind=event.kind, facility_codes=tuple(event.facility_codes),
        valid_from=event.valid_from, valid_to=event.valid_to, status="active", details=event.details,
    )  # fmt: skip
    await Repository(uow).record_entitlement(entitlement, event.replaces)


async def record_benefit_expired(
    uow: UnitOfWork, envelope: Envelope, event: RegistrationBenefitExpiredV1
) -> None:
    if not await Repository(uow).expire_entitlement(event.registration_id, event.expired_on):
        raise OutOfOrder(f"benefit registration {event.registration_id} not recorded yet")


async def require_reach(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID) -> None:
    require_visible_person(actor, person_id, await Repository(uow).coverages_of(person_id))


async def eligibility(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, *, day: date | None
) -> Eligibility:
    """Eligibility on `day` (default: today), for callers allowed to see this person; else 404."""
    coverages, entitlements = await Repository(uow).coverages_and_entitlements_of(person_id)
    if not coverages or not may_see_person(actor, person_id, coverages):
        raise NotFound("参保人资格记录")
    return eligibility_on(person_id, day or uow.clock.today(), coverages, entitlements)


class SamplePolicyData(Invalid):
    """A bill computed with sample values (not in the documents) may be quoted but is never paid in production."""

    def __init__(self) -> None:
        super().__init__("sample_policy_data", "示例政策数据不能用于实际支付",
                         "本次计算用到了文件未给出的示例数值（sample），仅可测算；须发布正式政策后办理，演示环境可开启 allow_sample_policy_data")  # fmt: skip


def require_payable(sample: bool, allow_sample: bool) -> None:
    if sample and not allow_sample:
        raise SamplePolicyData()


async def settle_bill(
    uow: UnitOfWork,
    actor: Principal,
    person_id: uuid.UUID,
    *,
    service_date: date,
    context: QuoteContext,
    policy: Policy,
    request: dict[str, Any],
    allow_sample: bool = False,
    settlement_id: uuid.UUID | None = None,
    coverages: list[Coverage] | None = None,
) -> tuple[uuid.UUID, Bill]:
    """待遇结算: the bill computed against what the person's earlier bills of the year used, then recorded.

    The year's accumulators (per person, scheme and year) are locked for the transaction, so two bills
    of one person settled at once run one after the other: never both taking the deductible, never
    together passing a cap. A year seen for the first time starts with what the previous year carries
    in (``rollover.next_year``: outpatient deductible relief and the carried-over outpatient cap).
    The tier and the special groups are the coverage's (a real claim is the quote of the recorded facts);
    a bill using sample policy data is refused unless the deployment allows it (demos). A caller that
    has read the person's coverages in this transaction passes them.
    """
    repo = Repository(uow)
    coverages = coverages if coverages is not None else await repo.coverages_of(person_id)
    require_visible_person(actor, person_id, coverages)
    eligibility = eligibility_on(person_id, service_date, coverages)
    if not eligibility.eligible or eligibility.coverage is None:
        raise Invalid("not_eligible", "就医日期不在待遇享受期内", eligibility.reason)
    coverage = eligibility.coverage
    if coverage.scheme != context.scheme:
        raise Invalid("scheme_mismatch", "险种与参保记录不符", "请按该日期的参保险种结算")
    if coverage.tier is not None and coverage.tier != context.tier:
        raise Invalid("tier_mismatch", "缴费档次与参保记录不符", "请按该日期参保记录的缴费档次结算")
    context = replace(context, special_groups=recorded_special_groups(coverage, service_date))
    scheme, year = context.scheme, policy.year
    ytd, previous = await repo.benefit_year_and_previous(person_id, scheme, year)
    if ytd is None:  # the year's first bill: its row is made with the bill counted
        start = await _year_start(uow, previous, policy)
        bill = _payable(quote(replace(context, ytd=start), policy), allow_sample)
        if not await repo.first_benefit_year(person_id, scheme, year, bill.accumulators):
            # A concurrent first bill made the row first (this one waited for it): counted after it.
            ytd = await repo.lock_benefit_year(person_id, scheme, year)
    if ytd is not None:
        bill = _payable(quote(replace(context, ytd=ytd), policy), allow_sample)
        await repo.save_benefit_year(person_id, scheme, year, bill.accumulators)
    settlement_id = settlement_id or uuid.uuid4()
    await receipts.record_settlement(
        uow, settlement_id=settlement_id, person_id=person_id, scheme=scheme, year=year, request=request,
        bill=BILL.dump_python(bill, mode="json"), settled_by=actor.subject, settled_at=uow.clock.now(),
    )  # fmt: skip
    return settlement_id, bill


def recorded_special_groups(coverage: Coverage, day: date) -> frozenset[str]:
    """The special groups the coverage records as valid on the day (entitlement from records, never typed)."""
    return coverage.special_groups_on(day)


async def settle_receipt(
    uow: UnitOfWork,
    actor: Principal,
    person_id: uuid.UUID,
    *,
    receipt: tuple[str, str],
    service_date: date,
    context: QuoteContext,
    policy: Policy,
    request: dict[str, Any],
    allow_sample: bool = False,
) -> tuple[uuid.UUID, dict | Bill, bool]:
    """A facility's receipt settled once (natural key: facility code and receipt number, the same key a manual
    reimbursement holds): the same request again answers the first settlement (replayed), another request
    for the receipt is refused. Returns (id, bill, replayed)."""
    coverages, entitlements = await Repository(uow).coverages_and_entitlements_of(person_id)
    require_visible_person(actor, person_id, coverages)
    _require_recorded_remote_class(remote_class_on(entitlements, service_date), context.remote)
    signed_on = family_doctor_signed_on(entitlements, service_date)
    _require_recorded_signing(context.family_doctor_signed_on, signed_on)
    context = replace(context, family_doctor_signed_on=signed_on)
    settlement_id = uuid.uuid4()
    held = await hold_receipt(uow, receipt, settlement_id)
    if held is not None:
        row = await receipts.settlement(uow.session, held)
        if row is not None and row["person_id"] == person_id and row["request"] == request:
            return row["id"], row["bill"], True
        raise duplicate_receipt(receipt[1], held)
    _, bill = await settle_bill(
        uow, actor, person_id, service_date=service_date, context=context, policy=policy, request=request,
        allow_sample=allow_sample, settlement_id=settlement_id, coverages=coverages,
    )  # fmt: skip
    return settlement_id, bill, False


def remote_class_on(entitlements: list[Entitlement], day: date) -> RemoteClass:
    """Care away from home: the class of the person's remote-care filing valid on the day (referred,
    long-term resident, emergency), as registration recorded it; without one the care was self-referred
    (seed 000: +10 points at a level-2/3 hospital, nothing elsewhere)."""
    filings = [e for e in entitlements if e.kind == "remote_care" and e.applies_on(day)]
    # The class was checked when registration recorded the filing; the engine checks it again.
    return (
        cast(RemoteClass, filings[0].details.get("remote_class", "self_referred"))
        if filings
        else "self_referred"
    )


def _require_recorded_remote_class(recorded: RemoteClass, typed: RemoteClass | None) -> None:
    """A settlement of care away from home is computed with the class the records give, never a typed one:
    a class that differs is refused (like a tier), without telling the recorded one."""
    if typed is not None and typed != recorded:
        raise Invalid("remote_class_mismatch", "异地就医类别与备案记录不符", "请按该参保人就医当日的异地就医备案类别结算",
                      errors=[{"field": "remote", "message": "与异地就医备案记录不符"}])  # fmt: skip


def family_doctor_signed_on(entitlements: list[Entitlement], day: date) -> date | None:
    """The day the person signed with a family doctor (家庭医生签约), from the signing registrations recorded
    (the first of the unbroken run that reaches the day); None without one. The engine applies the benefit from the following month (seed 001:
    个人门诊医保额度增加200元，报销比例提高五个百分点)."""
    signings = [e for e in entitlements if e.kind == "family_doctor"]
    start = min((s.valid_from for s in signings if s.applies_on(day)), default=None)
    # A renewal or a change of doctor replaces the signing from its own day: the person stayed signed, so the
    # benefit runs from the first signing of the unbroken chain, not again from the month after the renewal.
    while start is not None and (earlier := [s.valid_from for s in signings if s.valid_from < start
                                             and s.valid_to is not None and s.valid_to >= start - timedelta(days=1)]):  # fmt: skip
        start = min(earlier)
    return start


def _require_recorded_signing(typed: date | None, recorded: date | None) -> None:
    """A typed signing date is only accepted when it is the recorded one; the record is not told."""
    if typed is not None and typed != recorded:
        raise Invalid("family_doctor_mismatch", "家庭医生签约信息与登记记录不符", "请按该参保人的家庭医生签约登记结算",
                      errors=[{"field": "family_doctor_signed_on", "message": "与家庭医生签约登记不符"}])  # fmt: skip


async def hold_receipt(uow: UnitOfWork, receipt: tuple[str, str], holder: uuid.UUID) -> uuid.UUID | None:
    """Claims the receipt for `holder` (UNIQUE facility code + number); the current holder when taken. A
    concurrent duplicate waits on the unique index and then finds the committed holder."""
    facility_code, number = receipt
    if await receipts.hold(uow, facility_code, [number], holder):
        return None
    return await receipts.holder(uow.session, facility_code, number)


def duplicate_receipt(number: str, held_by: uuid.UUID | None) -> Conflict:
    return Conflict("duplicate_receipt", "该票据已申请报销或结算", f"票据 {number} 已由 {held_by} 办理",
                   existing_claim=str(held_by), errors=[{"field": "receipt_no", "message": f"票据 {number} 重复"}])  # fmt: skip


def _payable(bill: Bill, allow_sample: bool) -> Bill:
    require_payable(bill.sample, allow_sample)
    return bill


async def _year_start(uow: UnitOfWork, previous: Accumulators | None, policy: Policy) -> Accumulators:
    """What a new benefit year starts with: rolled over from the previous year's accumulators, if any."""
    if previous is None:
        return Accumulators()
    try:
        rules = await policy_in_force(uow, policy.region, policy.scheme, date(policy.year - 1, 12, 31))
    except PolicyNotFound:
        rules = policy  # the previous year's rules are not on file: this year's carry-over rules apply
    return next_year(previous, rules)


async def benefit_year(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, *, scheme: str, year: int
) -> Accumulators:
    """The person's own year, or staff of an office that handles the person (city staff: their own city); else 404."""
    repo = Repository(uow)
    if not (actor.role is Role.insured and actor.person_id == person_id):
        require_visible_person(actor, person_id, await repo.coverages_of(person_id), units=False)
    return await repo.read_benefit_year(person_id, scheme, year) or Accumulators()


async def record_transferred_out(
    uow: UnitOfWork, envelope: Envelope, event: TransferTransferredOutV1
) -> None:
    """转出: the ended employee coverage is marked transferred out (a reason for the one-time withdrawal)."""
    await Repository(uow).mark_transferred_out(event.person_id)
