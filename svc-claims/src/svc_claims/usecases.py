"""Claims use cases."""

from __future__ import annotations

import uuid
from datetime import date

from shared.auth import Principal, Role
from shared.db import UnitOfWork
from shared.errors import not_found
from shared.events import Envelope, new_envelope
from shared.events.catalog import ClaimsEligibleV1, RegistrationApprovedV1, RegistrationStoppedV1
from svc_claims.domain.eligibility import Coverage, Eligibility, eligibility_on
from svc_claims.repository import Repository


class CoverageNotYetKnown(Exception):
    """registration.stopped overtook its registration.approved: retried until the approval is in."""


async def record_stopped_registration(uow: UnitOfWork, envelope: Envelope, event: RegistrationStoppedV1) -> None:
    """中止参保: benefits end on the day coverage stopped (the person is eligible up to that day)."""
    if not await Repository(uow.session).end_coverage(event.enrollment_id, event.stopped_on):
        raise CoverageNotYetKnown(f"enrollment {event.enrollment_id} not recorded yet")


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
