"""Periodic work of svc-registration: benefit registrations that reached their end expire, and
contribution notices left unpaid interrupt their employees' coverage (every replica runs them; rows
are claimed with SKIP LOCKED, so each is announced once)."""

from __future__ import annotations

from shared.scans import scan_in_pages
from shared.service import ServiceRuntime
from svc_registration.usecases.benefits import expire_benefits
from svc_registration.usecases.contributions import interrupt_unpaid


async def expire_benefit_registrations(runtime: ServiceRuntime) -> None:
    await scan_in_pages(runtime, expire_benefits)


async def interrupt_unpaid_contributions(runtime: ServiceRuntime) -> None:
    await scan_in_pages(runtime, interrupt_unpaid)


JOBS = [expire_benefit_registrations, interrupt_unpaid_contributions]
