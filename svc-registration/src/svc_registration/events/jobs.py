"""Periodic work of svc-registration: benefit registrations that reached their end expire (every
replica runs it; rows are claimed with SKIP LOCKED, so each expiry is announced once)."""

from __future__ import annotations

from shared.scans import scan_in_pages
from shared.service import ServiceRuntime
from svc_registration.usecases.benefits import expire_benefits


async def expire_benefit_registrations(runtime: ServiceRuntime) -> None:
    await scan_in_pages(runtime, expire_benefits)


JOBS = [expire_benefit_registrations]
