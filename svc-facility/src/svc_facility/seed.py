"""Seeding the registry with the sample of data/registry_sample.json (demo and test deployments only)."""

from __future__ import annotations

from shared.clock import SystemClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from svc_facility.domain.registry import RegistryRecord
from svc_facility.sample import RegistryEntry, load_registry_sample
from svc_facility.usecases import registry as usecases


def record_of(entry: RegistryEntry) -> RegistryRecord:
    agreement = entry.agreement
    return RegistryRecord(
        code=entry.code,
        name=entry.name,
        kind=entry.kind,
        institution_type=entry.institution_type,
        level=entry.level,
        district_code=entry.district_code,
        office_code=entry.office_code,
        programmes=tuple(entry.programmes),
        physical_hospital_code=entry.physical_hospital_code,
        agreement_number=agreement.number if agreement else None,
        agreement_valid_from=agreement.valid_from if agreement else None,
        agreement_valid_to=agreement.valid_to if agreement else None,
        status=entry.status,
        version=1,
    )


async def seed_sample_registry(database_url: str) -> int:
    """Idempotent: records already present are left alone; new ones are announced by event."""
    engine = make_engine(database_url, pool_size=1, schema="facility")
    try:
        async with UnitOfWork(make_session_factory(engine), SystemClock(), "facility") as uow:
            added = await usecases.seed_registry(uow, [record_of(e) for e in load_registry_sample()])
            await uow.commit()
        return added
    finally:
        await engine.dispose()
