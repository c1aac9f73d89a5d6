"""Facility use cases: one transaction each (load → domain → save → outbox; the caller commits)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound
from shared.events import new_envelope
from svc_facility.domain.access import may_change_record
from svc_facility.domain.registry import RegistryRecord, announcement
from svc_facility.repository.registry import RegistryFilter, Repository, search


async def seed_registry(uow: UnitOfWork, records: Iterable[RegistryRecord]) -> int:
    """Add the records not yet in the registry and announce each; returns how many were new."""
    repo = Repository(uow.session)
    added = 0
    for record in records:
        if await repo.add_record(record):
            uow.emit(new_envelope(announcement(record, first_time=True), uow.clock))
            added += 1
    return added


async def search_registry(
    uow: UnitOfWork, where: RegistryFilter, *, page: int, size: int
) -> tuple[list[RegistryRecord], int]:
    return await search(uow, where, (page - 1) * size, size)


async def registry_record(uow: UnitOfWork, code: str) -> RegistryRecord:
    record = await Repository(uow.session).get_record(code)
    if record is None:
        raise NotFound("定点医药机构")
    return record


async def _record_for_staff(uow: UnitOfWork, actor: Principal, code: str, version: int) -> RegistryRecord:
    record = await Repository(uow.session).get_record(code, for_update=True)
    if record is None or not may_change_record(actor, record.office_code):
        raise NotFound("定点医药机构")
    if record.version != version:
        raise Conflict(
            "version_conflict",
            "记录已被他人修改",
            f"当前版本为 {record.version}，请刷新后重试",
            current_version=record.version,
        )
    return record


async def change_registry(
    uow: UnitOfWork,
    actor: Principal,
    code: str,
    *,
    version: int,
    change: str,
    reason: str | None,
    **arguments: Any,
) -> RegistryRecord:
    """One change of a registry record by staff of its office (or the city): saved, recorded, announced."""
    current = await _record_for_staff(uow, actor, code, version)
    record, event = getattr(current, change)(reason=reason, **arguments)
    repo = Repository(uow.session)
    await repo.save_record(record)
    await repo.record_history(record, change, actor.subject, uow.clock.now(), reason, arguments)
    uow.emit(new_envelope(event, uow.clock))
    return record


async def registry_history(uow: UnitOfWork, actor: Principal, code: str) -> list[dict]:
    record = await Repository(uow.session).get_record(code)
    if record is None or not may_change_record(actor, record.office_code):
        raise NotFound("定点医药机构")
    return await Repository(uow.session).history(code)
