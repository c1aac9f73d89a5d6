"""Claims use cases."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import insert

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import Problem, not_found
from shared.events import Envelope, new_envelope
from shared.events.catalog import (
    ClaimsEligibleV1,
    ClaimsIneligibleV1,
    FacilityDesignatedV1,
    RegistrationApprovedV1,
    RegistrationBenefitExpiredV1,
    RegistrationBenefitRegisteredV1,
    RegistrationStoppedV1,
    RegistrationSuspendedV1,
    RegistrationTerminatedV1,
    TransferCompletedV1,
    TransferTransferredOutV1,
)
from shared.events.consumer import OutOfOrder
from svc_claims.domain.account import EntryKind
from svc_claims.domain.benefits import Accumulators, Bill, QuoteContext, next_year, quote
from svc_claims.domain.eligibility import Coverage, Eligibility, Entitlement, eligibility_on
from svc_claims.models import benefit_settlements
from svc_claims.policy import Policy, PolicyNotFound, load_policy
from svc_claims.repository import Repository

BILL = TypeAdapter(Bill)


class CoverageNotYetKnown(OutOfOrder):
    """An end of coverage overtook its registration.approved: retried until the approval is in."""


async def _end_coverage(uow: UnitOfWork, event: RegistrationStoppedV1 | RegistrationSuspendedV1 | RegistrationTerminatedV1,
                        last_day: date, reason: str, reason_code: str | None = None) -> None:  # fmt: skip
    """Benefits end on `last_day` (the person is eligible up to that day), and claims.ineligible says so."""
    if not await Repository(uow.session).end_coverage(event.enrollment_id, last_day, reason_code):
        raise CoverageNotYetKnown(f"enrollment {event.enrollment_id} not recorded yet")
    uow.emit(new_envelope(ClaimsIneligibleV1(
        person_id=event.person_id, enrollment_id=event.enrollment_id, office_code=event.office_code,
        last_covered_day=last_day, reason=reason,
    ), uow.clock))  # fmt: skip


async def record_stopped_registration(uow: UnitOfWork, envelope: Envelope, event: RegistrationStoppedV1) -> None:
    await _end_coverage(uow, event, event.stopped_on, f"中止参保：{event.reason}")


async def record_suspended_registration(uow: UnitOfWork, envelope: Envelope, event: RegistrationSuspendedV1) -> None:
    await _end_coverage(uow, event, event.last_covered_day, f"中断参保：{event.reason}")


async def record_terminated_registration(uow: UnitOfWork, envelope: Envelope, event: RegistrationTerminatedV1) -> None:
    await _end_coverage(uow, event, event.last_covered_day, f"终止参保：{event.reason_text}", event.reason)


async def record_approved_registration(uow: UnitOfWork, envelope: Envelope, event: RegistrationApprovedV1) -> None:
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
    )
    await Repository(uow.session).record_coverage(coverage, envelope.event_id)
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


async def record_benefit_registered(uow: UnitOfWork, envelope: Envelope, event: RegistrationBenefitRegisteredV1) -> None:
    """A benefit registration (special disease, remote care with its class, maternity …) now applies."""
    entitlement = Entitlement(
        registration_id=event.registration_id, person_id=event.person_id, kind=event.kind, facility_codes=tuple(event.facility_codes),
        valid_from=event.valid_from, valid_to=event.valid_to, status="active", details=event.details,
    )  # fmt: skip
    await Repository(uow.session).record_entitlement(entitlement, event.replaces)


async def record_benefit_expired(uow: UnitOfWork, envelope: Envelope, event: RegistrationBenefitExpiredV1) -> None:
    if not await Repository(uow.session).expire_entitlement(event.registration_id, event.expired_on):
        raise OutOfOrder(f"benefit registration {event.registration_id} not recorded yet")


def may_see(actor: Principal, person_id: uuid.UUID, coverages: list[Coverage]) -> bool:
    if actor.role is Role.insured:
        return actor.person_id == person_id
    if actor.role is Role.unit:  # a unit reads its own employees' eligibility
        return actor.unit_id is not None and any(c.unit_code == actor.unit_id for c in coverages)
    if actor.role is Role.staff:
        return any(actor.serves_office(c.office_code) for c in coverages)
    return actor.role is Role.admin


async def eligibility(uow: UnitOfWork, person_id: uuid.UUID, day: date | None, actor: Principal) -> Eligibility:
    """Eligibility on `day` (default: today), for callers allowed to see this person; else 404."""
    repo = Repository(uow.session)
    coverages = await repo.coverages_of(person_id)
    if not coverages or not may_see(actor, person_id, coverages):
        raise not_found("参保人资格记录")
    return eligibility_on(person_id, day or uow.clock.today(), coverages, await repo.entitlements_of(person_id))


async def settle_bill(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, service_date: date, context: QuoteContext, policy: Policy,
    request: dict[str, Any],
) -> tuple[uuid.UUID, Bill]:
    """待遇结算: the bill computed against what the person's earlier bills of the year used, then recorded.

    The year's accumulators (per person, scheme and year) are locked for the transaction, so two bills
    of one person settled at once run one after the other: never both taking the deductible, never
    together passing a cap. A year seen for the first time starts with what the previous year carries
    in (``rollover.next_year``: outpatient deductible relief and the carried-over outpatient cap).
    """
    repo = Repository(uow.session)
    eligibility = eligibility_on(person_id, service_date, await repo.coverages_of(person_id))
    if not eligibility.eligible or eligibility.coverage is None:
        raise Problem(422, "not_eligible", "就医日期不在待遇享受期内", eligibility.reason)
    coverage = eligibility.coverage
    if coverage.scheme != context.scheme:
        raise Problem(422, "scheme_mismatch", "险种与参保记录不符", f"该日期参保险种为 {coverage.scheme}")
    if coverage.tier is not None and coverage.tier != context.tier:
        raise Problem(422, "tier_mismatch", "缴费档次与参保记录不符", f"该日期缴费档次为 {coverage.tier}")
    scheme, year = context.scheme, policy.year
    fresh = await _year_start(repo, person_id, policy)
    bill = quote(replace(context, ytd=await repo.lock_benefit_year(person_id, scheme, year, fresh)), policy)
    await repo.save_benefit_year(person_id, scheme, year, bill.accumulators)
    settlement_id = uuid.uuid4()
    await uow.session.execute(
        insert(benefit_settlements).values(
            id=settlement_id, person_id=person_id, scheme=scheme, year=year, request=request,
            bill=BILL.dump_python(bill, mode="json"), settled_by=actor.subject, settled_at=uow.clock.now(),
        )
    )  # fmt: skip
    return settlement_id, bill


async def _year_start(repo: Repository, person_id: uuid.UUID, policy: Policy) -> Accumulators:
    """What a new benefit year starts with: rolled over from the previous year's row, if there is one."""
    previous = await repo.read_benefit_year(person_id, policy.scheme, policy.year - 1)
    if previous is None:
        return Accumulators()
    try:
        rules = load_policy(policy.region, policy.scheme, policy.year - 1)
    except PolicyNotFound:
        rules = policy  # the previous year's rules are not on file: this year's carry-over rules apply
    return next_year(previous, rules)


async def benefit_year(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, scheme: str, year: int) -> Accumulators:
    if not (actor.person_id == person_id if actor.role is Role.insured else actor.role in (Role.staff, Role.admin)):
        raise not_found("参保人年度累计")
    return await Repository(uow.session).read_benefit_year(person_id, scheme, year) or Accumulators()


async def record_facility(uow: UnitOfWork, envelope: Envelope, event: FacilityDesignatedV1) -> None:
    """facility.designated / updated / suspended / terminated → the registry as claims sees it (newest version wins)."""
    await Repository(uow.session).record_facility_if_newer(
        {"code": event.code, "name": event.name, "kind": event.kind, "level": event.level, "office_code": event.office_code,
         "status": event.status, "version": event.version}  # fmt: skip
    )


async def record_transfer_completed(uow: UnitOfWork, envelope: Envelope, event: TransferCompletedV1) -> None:
    """转入: the balance brought from the other region is credited to the personal account."""
    await Repository(uow.session).book_account_entry(
        event.person_id, EntryKind.transfer_in.value, event.account_balance, event.completed_on, f"transfer:{event.transfer_id}"
    )


async def record_transferred_out(uow: UnitOfWork, envelope: Envelope, event: TransferTransferredOutV1) -> None:
    """转出: the ended employee coverage is marked transferred out (a reason for the one-time withdrawal)."""
    await Repository(uow.session).mark_transferred_out(event.person_id)


def require_office_staff(actor: Principal, office_code: str, city: bool = False) -> None:
    """Staff of the person's office handle an application; city-level staff approve it."""
    if actor.role is not Role.staff or not actor.serves_office(office_code):
        raise Problem(403, "staff_only", "只有参保地经办机构人员可以办理")
    if city and not actor.is_city_staff:
        raise Problem(403, "city_level_required", "核准须由市级经办机构办理")
