"""Materials of the enrollment items (申请材料), told all at once when some are missing (一次性告知).

The lists are those of the service catalogue (seed 004, items 132036001001–132036001006 and the
township items; `shared.directory` holds the catalogue). They are checked at the counter, where a
clerk receives the papers: online self-service (the person's app, the unit's web hall) identifies
the applicant by their login, and the seeds say self-service needs no papers (自助登记无需提供证件).

A written commitment (承诺书) may replace a paper only where the item is marked 承诺制 or 容缺受理;
a proxy (代办人) acts with their own ID document, which is then required as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.directory import load_catalogue
from shared.errors import Invalid


class Form(StrEnum):
    original = "original"  # 原件
    copy = "copy"  # 复印件
    commitment = "commitment"  # 承诺书 in place of the paper


@dataclass(frozen=True)
class Material:
    code: str
    name: str
    commitment_allowed: bool = False


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    catalogue_id: str  # the item of shared.directory's catalogue it follows
    materials: tuple[Material, ...]


ID_DOCUMENT = Material("id_document", "有效身份证件")
PROXY_ID_DOCUMENT = Material("proxy_id_document", "代办人有效身份证件")

ITEMS: Mapping[str, Item] = {
    item.key: item
    for item in (
        Item("unit_enrollment", "单位参保登记", "qhd-132036001001", (
            Material("credit_code_certificate", "统一社会信用代码证书或单位批准成立的文件"),
            Material("unit_registration_form", "《基本医疗保险单位参保信息登记表》（加盖单位公章）"),
            Material("legal_representative_id_copy", "法人身份证复印件"),
        )),
        Item("employee_enrollment", "职工参保登记", "qhd-132036001002", (
            Material("employee_registration_form", "《职工基本医疗保险参保登记表》（加盖单位公章）"),
            Material("id_document_copy", "参保人员有效身份证件复印件"),
            Material("wage_proof", "工资证明材料"),
        )),
        Item("flexible_enrollment", "灵活就业人员参保登记", "qhd-132036001002", (
            ID_DOCUMENT,
            Material("household_register", "户口本"),
            Material("medical_card", "医保卡"),
        )),
        Item("resident_enrollment", "城乡居民参保登记", "qhd-132036001003", (ID_DOCUMENT,)),
        Item("newborn_enrollment", "城乡居民新生儿参保登记", "qhd-township-03", (
            Material("household_register", "户口本"),
            Material("birth_certificate", "出生医学证明"),
        )),
        Item("collective_enrollment", "城乡居民集体参保登记", "qhd-township-01", (
            Material("member_roster", "参保人员花名册（加盖公章）"),
        )),
        Item("termination_death", "终止参保（死亡）", "qhd-township-04", (
            Material("id_document_copy", "身份证复印件"),
            Material("death_certificate", "死亡证明复印件"),
        )),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Handling:
    """How an item was handled at the counter: the papers received and the proxy, for the record."""

    channel: str  # counter | online
    materials: Mapping[str, Form]
    proxy_name: str | None = None
    proxy_id_masked: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "materials": {k: v.value for k, v in self.materials.items()},
                "proxy_name": self.proxy_name, "proxy_id_masked": self.proxy_id_masked}  # fmt: skip


ONLINE = Handling("online", {})


def required(item: Item, by_proxy: bool) -> tuple[Material, ...]:
    return (*item.materials, PROXY_ID_DOCUMENT) if by_proxy else item.materials


def accepts_commitments(item: Item) -> bool:
    """承诺制 / 容缺受理 items of the catalogue take a commitment in place of any missing paper."""
    flags = next((c.flags for c in load_catalogue() if c.id == item.catalogue_id), ())
    return "commitment" in flags or "missing_materials_acceptance" in flags


def check_materials(item: Item, given: Mapping[str, Form], by_proxy: bool) -> None:
    """Every missing paper at once (一次性告知); a commitment only where the item accepts one."""
    needed = required(item, by_proxy)
    commitments_accepted = accepts_commitments(item)
    missing = [m for m in needed if m.code not in given]
    refused = [
        m
        for m in needed
        if given.get(m.code) is Form.commitment and not (commitments_accepted or m.commitment_allowed)
    ]
    unknown = sorted(set(given) - {m.code for m in needed})
    errors = [{"field": f"materials.{m.code}", "message": f"缺少：{m.name}"} for m in missing]
    errors += [
        {"field": f"materials.{m.code}", "message": f"{m.name}不适用承诺制，须提供原件或复印件"}
        for m in refused
    ]
    errors += [{"field": f"materials.{code}", "message": "不是本事项的申请材料"} for code in unknown]
    if errors:
        raise Invalid(
            "materials_missing",
            "申请材料不全，请一次性补正",
            f"{item.name}须提供：" + "；".join(m.name for m in needed),
            errors=errors,
            required_materials=[{"code": m.code, "name": m.name} for m in needed],
        )
