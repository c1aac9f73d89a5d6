"""Unit use cases (单位参保登记 and 变更登记), and a unit's employees. One transaction each."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from svc_registration.domain.access import case_office, may_see_unit, require_own_unit
from svc_registration.domain.enrollment import (
    HOLDS_COVERAGE,
    Enrollment,
)
from svc_registration.domain.unit import ChangeKind, Unit, UnitChange, UnitStatus
from svc_registration.domain.unit import register_unit as new_unit
from svc_registration.repository.enrollments import Enrollments
from svc_registration.repository.units import Units
from svc_registration.usecases.counter import ONLINE_REQUEST, Counter, handled


async def register_unit(
    uow: UnitOfWork,
    actor: Principal,
    code: str,
    *,
    name: str,
    legal_representative: str,
    office_code: str,
    person_key: bytes,
    counter: Counter = ONLINE_REQUEST,
) -> Unit:
    """单位参保登记: immediate; by the unit in the employer web hall or by staff at the counter."""
    handling = handled("unit_enrollment", actor, counter, person_key)
    unit = new_unit(code, name, legal_representative, office_code, actor.subject, uow.clock.now(), handling)
    require_own_unit(actor, unit.code)
    case_office(office_code, actor)
    if await Units(uow.session).get_unit(unit.code) is not None:
        raise Conflict("unit_exists", "该单位已参保登记", f"统一社会信用代码 {unit.code} 已登记")
    await Units(uow.session).add_unit(unit)
    return unit


async def visible_unit(uow: UnitOfWork, actor: Principal, code: str, *, for_update: bool = False) -> Unit:
    unit = await Units(uow.session).get_unit(code, for_update=for_update)
    if unit is None or not may_see_unit(actor, unit):
        raise NotFound("参保单位")
    return unit


async def change_unit(
    uow: UnitOfWork, actor: Principal, code: str, *, change: UnitChange, version: int
) -> Unit:
    """单位变更登记: suspension, cancellation, split, merger, or a change of name, code, representative."""
    unit = await visible_unit(uow, actor, code, for_update=True)
    if change.kind in (ChangeKind.split, ChangeKind.merge):
        await _require_related_units(uow.session, change)
    holding = [s.value for s in HOLDS_COVERAGE]
    if change.kind is ChangeKind.cancel and (
        active := await Enrollments(uow).count_employees(unit.code, holding)
    ):
        raise Conflict(
            "unit_has_employees",
            "单位尚有参保职工，不能注销",
            f"尚有 {active} 名职工在保，请先办理减员或中断",
        )
    if (
        change.kind is ChangeKind.credit_code
        and change.after
        and await Units(uow.session).get_unit(change.after.strip().upper())
    ):
        raise Conflict("unit_exists", "该统一社会信用代码已被其他单位使用")
    changed = unit.apply(replace(change, before=_before(unit, change.kind)), version)
    await Units(uow.session).update_unit(changed, previous_code=unit.code)
    if change.kind is ChangeKind.merge:  # 合并: the absorbed unit's employees continue at the successor
        await Enrollments(uow).move_employees(unit.code, change.related_units[0], holding)
    return changed


def _before(unit: Unit, kind: ChangeKind) -> str | None:
    return {
        ChangeKind.name: unit.name,
        ChangeKind.credit_code: unit.code,
        ChangeKind.legal_representative: unit.legal_representative,
    }.get(kind)


async def _require_related_units(session: AsyncSession, change: UnitChange) -> None:
    expected = "1" if change.kind is ChangeKind.merge else "1 个以上"
    if not change.related_units or (change.kind is ChangeKind.merge and len(change.related_units) != 1):
        raise Invalid(
            "validation_failed",
            "请求参数不合法",
            errors=[{"field": "related_units", "message": f"须填写 {expected} 个相关单位"}],
        )
    for code in change.related_units:
        related = await Units(session).get_unit(code)
        if related is None or related.status is not UnitStatus.active:
            raise Invalid(
                "related_unit_unknown",
                "相关单位未参保登记或已注销",
                f"单位 {code} 须先办理参保登记",
                errors=[{"field": "related_units", "message": f"{code} 不是有效的参保单位"}],
            )


async def employees_of_unit(
    uow: UnitOfWork, actor: Principal, code: str, *, statuses: list[str] | None, offset: int, limit: int
) -> tuple[list[Enrollment], int]:
    unit = await visible_unit(uow, actor, code)
    return await Enrollments(uow).employees_of(unit.code, statuses, offset, limit)
