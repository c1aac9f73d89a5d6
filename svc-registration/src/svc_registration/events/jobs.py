"""Periodic work of svc-registration: benefit registrations that reached their end expire (every
replica runs it; rows are claimed with SKIP LOCKED, so each expiry is announced once)."""

from __future__ import annotations

from shared.service import ServiceRuntime
from svc_registration.usecases import expire_benefits


async def expire_benefit_registrations(runtime: ServiceRuntime) -> None:
    while True:
        async with runtime.uow() as uow:
            expired = await expire_benefits(uow)
            await uow.commit()
        if expired == 0:
            return


JOBS = [expire_benefit_registrations]
