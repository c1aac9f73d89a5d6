"""Employer units (参保单位), seeds 003/004: registered with a valid unified social credit code, the
legal representative and the office; changes of name, code or legal representative need supporting
documents; a unit may be suspended and resumed, cancelled, split or merged into another."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from shared.errors import Conflict, Invalid


class UnitStatus(StrEnum):
    active = "active"
    suspended = "suspended"  # 暂停: no new employees
    cancelled = "cancelled"  # 注销 (also after a merger into another unit)


class ChangeKind(StrEnum):
    name = "name"
    credit_code = "credit_code"
    legal_representative = "legal_representative"
    suspend = "suspend"
    resume = "resume"
    cancel = "cancel"
    split = "split"  # type: ignore[assignment]  # 分立: new units take part of the employees (the member shadows str.split)
    merge = "merge"  # 合并: this unit is absorbed by another; its employees move there


# Changes of registered facts need supporting documents (变更登记须提供相关证明材料).
NEEDS_DOCUMENTS = frozenset(
    {
        ChangeKind.name,
        ChangeKind.credit_code,
        ChangeKind.legal_representative,
        ChangeKind.split,
        ChangeKind.merge,
    }
)

ALLOWED_FROM: dict[ChangeKind, frozenset[UnitStatus]] = {
    ChangeKind.name: frozenset({UnitStatus.active, UnitStatus.suspended}),
    ChangeKind.credit_code: frozenset({UnitStatus.active, UnitStatus.suspended}),
    ChangeKind.legal_representative: frozenset({UnitStatus.active, UnitStatus.suspended}),
    ChangeKind.suspend: frozenset({UnitStatus.active}),
    ChangeKind.resume: frozenset({UnitStatus.suspended}),
    ChangeKind.cancel: frozenset({UnitStatus.active, UnitStatus.suspended}),
    ChangeKind.split: frozenset({UnitStatus.active}),
    ChangeKind.merge: frozenset({UnitStatus.active, UnitStatus.suspended}),
}

RESULTING_STATUS = {ChangeKind.suspend: UnitStatus.suspended, ChangeKind.resume: UnitStatus.active,
                    ChangeKind.cancel: UnitStatus.cancelled, ChangeKind.merge: UnitStatus.cancelled}  # fmt: skip


@dataclass(frozen=True)
class UnitChange:
    kind: ChangeKind
    by: str
    at: datetime
    reason: str | None = None
    documents: tuple[str, ...] = ()
    before: str | None = None
    after: str | None = None
    related_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    id: uuid.UUID
    code: str  # 统一社会信用代码
    name: str
    legal_representative: str
    office_code: str
    status: UnitStatus
    version: int
    registered_by: str
    registered_at: datetime
    changes: tuple[UnitChange, ...] = field(default_factory=tuple)
    handling: dict[str, Any] | None = None  # domain.materials.Handling.as_dict() of the registration

    def apply(self, change: UnitChange, expected_version: int) -> Unit:
        if expected_version != self.version:
            raise Conflict(
                "version_conflict",
                "记录已被他人修改",
                f"当前版本为 {self.version}，请刷新后重试",
                current_version=self.version,
            )
        if self.status not in ALLOWED_FROM[change.kind]:
            raise Conflict(
                "invalid_transition",
                "单位当前状态不允许此变更",
                f"单位状态为 {self.status.value}，不能办理 {change.kind.value}",
            )
        if change.kind in NEEDS_DOCUMENTS and not change.documents:
            raise Invalid(
                "documents_missing",
                "变更登记须提供证明材料",
                errors=[{"field": "documents", "message": "请提供证明材料编号"}],
            )
        updated = replace(self, version=self.version + 1, changes=(*self.changes, change))
        if change.kind in RESULTING_STATUS:
            updated = replace(updated, status=RESULTING_STATUS[change.kind])
        if change.kind is ChangeKind.name:
            updated = replace(updated, name=_required(change.after, "after"))
        if change.kind is ChangeKind.credit_code:
            updated = replace(updated, code=valid_credit_code(_required(change.after, "after"), "after"))
        if change.kind is ChangeKind.legal_representative:
            updated = replace(updated, legal_representative=_required(change.after, "after"))
        return updated


def _required(value: str | None, name: str) -> str:
    if not value or not value.strip():
        raise Invalid(
            "validation_failed", "请求参数不合法", errors=[{"field": name, "message": "请填写变更后的内容"}]
        )
    return value.strip()


def valid_credit_code(code: str, field_name: str = "code") -> str:
    """An 18-character unified social credit code with its GB 32100 check character."""
    try:
        return uscc.validate(code)
    except ValidationError as exc:
        raise Invalid("invalid_credit_code", "统一社会信用代码不合法", f"{code}：{exc}",
                      errors=[{"field": field_name, "message": "统一社会信用代码校验不通过"}]) from exc  # fmt: skip


def register_unit(
    code: str,
    name: str,
    legal_representative: str,
    office_code: str,
    by: str,
    at: datetime,
    handling: dict[str, Any] | None = None,
) -> Unit:
    return Unit(
        id=uuid.uuid4(),
        code=valid_credit_code(code),
        name=name.strip(),
        legal_representative=legal_representative.strip(),
        office_code=office_code,
        status=UnitStatus.active,
        version=1,
        registered_by=by,
        registered_at=at,
        handling=handling,
    )


def require_accepting_employees(unit: Unit) -> None:
    if unit.status is not UnitStatus.active:
        state = {"suspended": "已暂停", "cancelled": "已注销"}[unit.status.value]
        raise Conflict("unit_not_active", "单位当前不能办理职工参保", f"{unit.name}{state}")
