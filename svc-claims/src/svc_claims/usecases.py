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
from shared.events.catalog import ClaimsEligibleV1, ClaimsIneligibleV1, RegistrationApprovedV1, RegistrationStoppedV1
from svc_claims.domain.benefits import Bill, QuoteContext, quote
from svc_claims.domain.eligibility import Coverage, Eligibility, eligibility_on
from svc_claims.models import benefit_settlements
from svc_claims.policy import Policy
from svc_claims.repository import Repository

BILL = TypeAdapter(Bill)


class CoverageNotYetKnown(Exception):
    """registration.stopped overtook its registration.approved: retried until the approval is in."""


async def record_stopped_registration(uow: UnitOfWork, envelope: Envelope, event: RegistrationStoppedV1) -> None:
    """中止参保: benefits end on the day coverage stopped (the person is eligible up to that day)."""
    if not await Repository(uow.session).end_coverage(event.enrollment_id, event.stopped_on):
        raise CoverageNotYetKnown(f"enrollment {event.enrollment_id} not recorded yet")
    uow.emit(new_envelope(ClaimsIneligibleV1(
        person_id=event.person_id, enrollment_id=event.enrollment_id, office_code=event.office_code,
        last_covered_day=event.stopped_on, reason=f"中止参保：{event.reason}",
    ), uow.clock))  # fmt: skip


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


def may_see(actor: Principal, person_id: uuid.UUID, coverages: list[Coverage]) -> bool:
    if actor.role is Role.insured:
        return actor.person_id == person_id
    if actor.role is Role.staff:
        return any(actor.serves_office(c.office_code) for c in coverages)
    return actor.role is Role.admin


async def eligibility(uow: UnitOfWork, person_id: uuid.UUID, day: date | None, actor: Principal) -> Eligibility:
    """Eligibility on `day` (default: today), for callers allowed to see this person; else 404."""
    coverages = await Repository(uow.session).coverages_of(person_id)
    if not coverages or not may_see(actor, person_id, coverages):
        raise not_found("参保人资格记录")
    return eligibility_on(person_id, day or uow.clock.today(), coverages)


async def settle_bill(
    uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, service_date: date, context: QuoteContext, policy: Policy,
    request: dict[str, Any],
) -> tuple[uuid.UUID, Bill]:
    """待遇结算: the bill computed against what the person's earlier bills of the year used, then recorded.

    The year's accumulators are locked for the transaction, so two bills of one person settled at
    once run one after the other: never both taking the deductible, never together passing a cap.
    """
    repo = Repository(uow.session)
    eligibility = eligibility_on(person_id, service_date, await repo.coverages_of(person_id))
    if not eligibility.eligible:
        raise Problem(422, "not_eligible", "就医日期不在待遇享受期内", eligibility.reason)
    year = service_date.year
    bill = quote(replace(context, ytd=await repo.lock_benefit_year(person_id, year)), policy)
    await repo.save_benefit_year(person_id, year, bill.accumulators)
    settlement_id = uuid.uuid4()
    await uow.session.execute(
        insert(benefit_settlements).values(
            id=settlement_id, person_id=person_id, year=year, request=request, bill=BILL.dump_python(bill, mode="json"),
            settled_by=actor.subject, settled_at=uow.clock.now(),
        )
    )
    return settlement_id, bill


async def benefit_year(uow: UnitOfWork, actor: Principal, person_id: uuid.UUID, year: int) -> Any:
    if not (actor.person_id == person_id if actor.role is Role.insured else actor.role in (Role.staff, Role.admin)):
        raise not_found("参保人年度累计")
    return await Repository(uow.session).read_benefit_year(person_id, year)
