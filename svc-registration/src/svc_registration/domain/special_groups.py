"""Special groups (特殊人员) recorded at enrollment with their evidence and validity (seed 001).

Each group is certified by another department (民政 civil affairs, 残联 the disabled persons'
federation, 退役军人事务部门 veterans' affairs, 老干部管理部门 the cadre bureau): the office records
which department certified it, the document number and the period it is valid for, and claims
applies the group's medical assistance or veterans' share only on days inside that period. A group
is never taken from what a caller types without this evidence.

The groups are those of the 2021 resident rules: the ones whose personal contribution the
government pays in full (二(三): subsistence, low income, extreme poverty, severe disability,
entitled veterans' groups, spouses of retired cadres without income) and the medical-assistance
groups of the assistance table (五): children in difficulty, other special hardship, low-income
families receiving the price subsidy, families impoverished by illness. The veterans' groups are
the three rows of the 优抚救助 table, since each has its own share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from shared.errors import Invalid


class SpecialGroup(StrEnum):
    subsistence = "subsistence"  # 城乡低保
    extreme_poverty = "extreme_poverty"  # 城乡特困人员
    low_income = "low_income"  # 低收入家庭
    severe_disability = "severe_disability"  # 重度残疾人
    children_in_difficulty = "children_in_difficulty"  # 困境儿童（孤儿、艾滋病毒感染儿童、事实无人抚养儿童）
    other_hardship = "other_hardship"  # 其他特殊困难人员
    price_subsidy_low_income = "price_subsidy_low_income"  # 领取物价补贴的低收入家庭人员
    illness_impoverished = "illness_impoverished"  # 因病支出型困难家庭
    martyrs_family = "martyrs_family"  # 烈士遗属、因公牺牲军人遗属
    old_soldier = "old_soldier"  # 在乡老复员军人、病故军人遗属、七至十级伤残军人
    veteran_sent_home = "veteran_sent_home"  # 带病回乡退伍军人、参战参试退役人员
    retired_cadre_spouse = "retired_cadre_spouse"  # 无固定收入的离休干部配偶
    # Recorded before the veterans' groups were told apart: read from old enrollments, never filed
    # again (claims cannot tell which veterans' share it would be).
    entitled_veteran = "entitled_veteran"


class Department(StrEnum):
    civil_affairs = "civil_affairs"  # 民政部门
    disabled_persons_federation = "disabled_persons_federation"  # 残疾人联合会
    veterans_affairs = "veterans_affairs"  # 退役军人事务部门
    cadre_bureau = "cadre_bureau"  # 老干部管理部门


@dataclass(frozen=True)
class GroupRule:
    name: str
    certified_by: Department
    contribution_by_government: bool  # 二(三): the personal contribution is paid in full by the government


RULES: dict[SpecialGroup, GroupRule] = {
    SpecialGroup.subsistence: GroupRule("城乡低保对象", Department.civil_affairs, True),
    SpecialGroup.extreme_poverty: GroupRule("城乡特困人员", Department.civil_affairs, True),
    SpecialGroup.low_income: GroupRule("低收入家庭成员", Department.civil_affairs, True),
    SpecialGroup.severe_disability: GroupRule("重度残疾人", Department.disabled_persons_federation, True),
    SpecialGroup.children_in_difficulty: GroupRule("困境儿童", Department.civil_affairs, False),
    SpecialGroup.other_hardship: GroupRule("其他特殊困难人员", Department.civil_affairs, False),
    SpecialGroup.price_subsidy_low_income: GroupRule(
        "领取物价补贴的低收入家庭人员", Department.civil_affairs, False
    ),
    SpecialGroup.illness_impoverished: GroupRule("因病支出型困难家庭人员", Department.civil_affairs, False),
    SpecialGroup.martyrs_family: GroupRule("烈士遗属、因公牺牲军人遗属", Department.veterans_affairs, True),
    SpecialGroup.old_soldier: GroupRule(
        "在乡老复员军人、病故军人遗属、七至十级伤残军人", Department.veterans_affairs, True
    ),
    SpecialGroup.veteran_sent_home: GroupRule(
        "带病回乡退伍军人、参战参试退役人员", Department.veterans_affairs, True
    ),
    SpecialGroup.retired_cadre_spouse: GroupRule("无固定收入的离休干部配偶", Department.cadre_bureau, True),
    SpecialGroup.entitled_veteran: GroupRule("优抚对象（未分类别）", Department.veterans_affairs, True),
}

FILEABLE = tuple(g for g in SpecialGroup if g is not SpecialGroup.entitled_veteran)
VETERANS = frozenset({SpecialGroup.martyrs_family, SpecialGroup.old_soldier, SpecialGroup.veteran_sent_home})


@dataclass(frozen=True)
class SpecialGroupRecord:
    """One certified group: who certified it, the document, and the days it is valid (valid_to None: until revoked)."""

    group: SpecialGroup
    department: Department
    document_number: str
    valid_from: date
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group.value, "department": self.department.value, "document_number": self.document_number,
                "valid_from": self.valid_from.isoformat(), "valid_to": self.valid_to.isoformat() if self.valid_to else None}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpecialGroupRecord:
        return cls(SpecialGroup(d["group"]), Department(d["department"]), d["document_number"], date.fromisoformat(d["valid_from"]),
                   date.fromisoformat(d["valid_to"]) if d.get("valid_to") else None)  # fmt: skip


def check_records(
    records: tuple[SpecialGroupRecord, ...],
    coverage_start: date,
    coverage_end: date | None,
    field: str = "special_groups",
) -> None:
    """Every problem of the evidence at once: a group filed twice or no longer filed, a department that
    does not certify it, a validity that ends before it starts or lies outside the coverage."""
    errors = []
    seen: set[SpecialGroup] = set()
    for i, r in enumerate(records):
        where, rule = f"{field}[{i}]", RULES[r.group]
        if r.group in seen:
            errors.append({"field": f"{where}.group", "message": "同一特殊人员类别只能登记一次"})
        seen.add(r.group)
        if r.group not in FILEABLE:
            errors.append(
                {
                    "field": f"{where}.group",
                    "message": "请选择具体的优抚对象类别：martyrs_family、old_soldier、veteran_sent_home",
                }
            )
        if r.department is not rule.certified_by:
            errors.append(
                {
                    "field": f"{where}.department",
                    "message": f"{rule.name}由{DEPARTMENT_NAMES[rule.certified_by]}认定",
                }
            )
        if r.valid_to is not None and r.valid_to < r.valid_from:
            errors.append({"field": f"{where}.valid_to", "message": "有效期止不得早于有效期起"})
        elif (r.valid_to is not None and r.valid_to < coverage_start) or (
            coverage_end is not None and r.valid_from > coverage_end
        ):
            errors.append(
                {
                    "field": f"{where}.valid_from",
                    "message": f"认定有效期与待遇享受期（{coverage_start} 至 {coverage_end or '长期'}）不重叠",
                }
            )
    if errors:
        raise Invalid("special_group_evidence_invalid", "特殊人员认定信息有误", "特殊人员须由相关部门认定，并写明认定文号和有效期",
                      errors=errors)  # fmt: skip


DEPARTMENT_NAMES = {
    Department.civil_affairs: "民政部门",
    Department.disabled_persons_federation: "残疾人联合会",
    Department.veterans_affairs: "退役军人事务部门",
    Department.cadre_bureau: "老干部管理部门",
}
