"""Reference data every service uses: the office directory and the service catalogue.

svc-facility serves them to the apps; other services read their time limits and office codes here
rather than repeating them. The data are JSON files in ``shared/data/directory`` (extracted from
the seeds; svc-facility's ``data/README.md`` says how):

- ``offices.json``: insurance offices. Tianjin: the city centre and the 21 district sub-centres
  (分中心) that seed file 000 lists after every guide; Tangshan (seed 003) and Qinhuangdao
  (seed 004) as far as the seeds name them.
- ``catalogue.json``: service items — the 32 items of the Tianjin 2021 catalogue (seed 002) with
  the materials and channels of the Tianjin guides (seed 000), the Qinhuangdao items of seed 004
  (with item codes such as 132036003002) and the Tangshan items of its flow charts (seed 003); each
  item names the API operations that carry it out (``operations``, operationIds).

Everything is validated on load: a file that breaks a rule fails loudly instead of serving bad
reference data. Values that are not in the seeds are marked in the data themselves
(``code_assigned``, ``name_assigned``, ``note``).
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DATA_PACKAGE = "shared.data.directory"

_CODE6 = re.compile(r"^\d{6}$")
# Area code (3-4 digits from 0), hyphen, subscriber number. Five digits are allowed: seed 000
# gives one complaint number as "022-" / "12345" (武清分中心).
_PHONE = re.compile(r"^0\d{2,3}-\d{5,8}$")
# "seed 000": which seed document a record comes from.
Source = Annotated[str, Field(pattern=r"^seed \d{3}$")]

OfficeLevel = Literal["city", "district", "township", "village"]
# Digits of an office code by level: a division code for city and county/district offices (or an
# assigned one), the 9-digit township/street and 12-digit village/community statistical code below.
CODE_DIGITS: dict[str, int] = {"city": 6, "district": 6, "township": 9, "village": 12}
# Offices that hold and decide cases; township and village offices accept and forward (seed 004:
# 乡镇（街道）级 办理 through the 基层网厅, 村（社区）级 guides and accepts only when entrusted).
HOLDS_CASES = frozenset({"city", "district"})
Power = Literal["accept", "decide", "forward", "guide"]
LEVEL_POWERS: dict[str, frozenset[str]] = {
    "city": frozenset({"accept", "decide"}),
    "district": frozenset({"accept", "decide"}),
    "township": frozenset({"accept", "forward"}),
    "village": frozenset({"guide", "forward"}),
}
TimeLimitKind = Literal["immediate", "working_days", "months", "none"]

# Flag key -> the column header of seed 002 it comes from.
FLAG_NAMES: dict[str, str] = {
    "immediate": "马上办",
    "online": "网上办",
    "nearby": "就近办",
    "one_visit": "一次办",
    "commitment": "承诺制",
    "zero_visit": "零跑动",
    "same_standard_jjj": "同事同标",
    "citywide": "全市通办",
    "cross_province": "跨省通办",
    "automatic_approval": "无人审批",
    "missing_materials_acceptance": "容缺受理",
}
Flag = Literal[
    "immediate",
    "online",
    "nearby",
    "one_visit",
    "commitment",
    "zero_visit",
    "same_standard_jjj",
    "citywide",
    "cross_province",
    "automatic_approval",
    "missing_materials_acceptance",
]

# Registry code prefix of each kind of institution.


def six_digits(value: str | None, field: str) -> str | None:
    if value is not None and not _CODE6.fullmatch(value):
        raise ValueError(f"{field} must be 6 digits, got {value!r}")
    return value


def unique_items(values: tuple[Any, ...], field: str) -> tuple[Any, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{field} has duplicates: {values!r}")
    return values


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)


# -------------------------------------------------------------------------------------------------- offices


def _as_tuple(phones: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if phones is None:
        return ()
    return (phones,) if isinstance(phones, str) else phones


class Office(FrozenModel):
    """An insurance office (经办机构) of one of the four levels."""

    code: str = Field(
        description="division code (6 digits; township 9, village 12), or assigned (code_assigned)"
    )
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    region: str = Field(min_length=1, description="天津市 / 唐山市 / 秦皇岛市")
    level: OfficeLevel
    parent_code: str | None = None
    district_code: str | None = Field(default=None, description="division code of the district it serves")
    address: str | None = None
    address_as_written: str | None = Field(default=None, description="the seed's cell, windows included")
    windows: str | None = None
    hours: str | None = None
    consultation_phone: str | tuple[str, ...] | None = None
    complaint_phone: str | tuple[str, ...] | None = None
    source: Source
    code_assigned: bool = False
    name_assigned: bool = False
    note: str | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}|\d{9}|\d{12}", value):
            raise ValueError(f"code must be 6, 9 or 12 digits, got {value!r}")
        return value

    @field_validator("parent_code")
    @classmethod
    def _parent(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{6}|\d{9}", value):
            raise ValueError(f"parent_code must be 6 or 9 digits, got {value!r}")
        return value

    @field_validator("district_code")
    @classmethod
    def _codes(cls, value: str | None, info: Any) -> str | None:
        return six_digits(value, info.field_name)

    @field_validator("consultation_phone", "complaint_phone")
    @classmethod
    def _phone(cls, value: str | tuple[str, ...] | None, info: Any) -> str | tuple[str, ...] | None:
        numbers = (value,) if isinstance(value, str) else (value or ())
        if isinstance(value, tuple) and not value:
            raise ValueError(f"{info.field_name}: an empty list, use null")
        for number in numbers:
            if not _PHONE.fullmatch(number):
                raise ValueError(f"{info.field_name}: {number!r} is not a phone number like 022-23226315")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Office:
        if self.level == "city":
            if self.parent_code is not None:
                raise ValueError(f"{self.code}: a city centre has no parent")
        elif self.parent_code is None:
            raise ValueError(f"{self.code}: a {self.level} office needs its parent_code")
        if self.parent_code == self.code:
            raise ValueError(f"{self.code}: its own parent")
        if len(self.code) != CODE_DIGITS[self.level]:
            raise ValueError(f"{self.code}: a {self.level} office has a {CODE_DIGITS[self.level]}-digit code")
        # Whatever is assigned or missing must say why (data not from the seeds are never silent).
        missing = [f for f in ("address", "hours", "consultation_phone") if getattr(self, f) is None]
        if (self.code_assigned or self.name_assigned or missing) and not self.note:
            what = ", ".join(missing) or "assigned values"
            raise ValueError(f"{self.code}: {what} not from the seeds need a note")
        return self

    @property
    def powers(self) -> frozenset[str]:
        """What the office may do with a case: accept, decide, only forward, or guide."""
        return LEVEL_POWERS[self.level]

    @property
    def holds_cases(self) -> bool:
        return self.level in HOLDS_CASES

    @property
    def phones(self) -> dict[str, tuple[str, ...]]:
        return {
            "consultation": _as_tuple(self.consultation_phone),
            "complaint": _as_tuple(self.complaint_phone),
        }


# ------------------------------------------------------------------------------------------------ catalogue


class TimeLimit(FrozenModel):
    """The legal time limit of an item (办事时限 / 办理时限) and the text it was read from."""

    kind: TimeLimitKind
    value: int | None = None
    text: str

    @model_validator(mode="after")
    def _value_fits_kind(self) -> TimeLimit:
        if self.kind in ("working_days", "months"):
            if self.value is None or self.value <= 0:
                raise ValueError(f"a {self.kind} time limit needs a positive value ({self.text!r})")
        elif self.value is not None:
            raise ValueError(f"a {self.kind} time limit has no value ({self.text!r})")
        return self


class CatalogueItem(FrozenModel):
    """One service item (事项 / 子项) of a catalogue."""

    id: str = Field(
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="stable slug assigned by this directory"
    )
    source: Source
    region: str = Field(min_length=1)
    seq: int = Field(ge=1, description="序号 / 子项序号 in its seed table")
    name: str = Field(min_length=1, description="事项名称 / 主项")
    sub_item: str | None = None
    item_code: str | None = Field(
        default=None, pattern=r"^\d{12}$", description="子项编码 of seed 004, e.g. 132036003002"
    )
    main_item_code: str | None = Field(
        default=None, pattern=r"^\d{11}[\dY]$", description="主项编码 of seed 004, e.g. 13203600300Y"
    )
    responsible: str = Field(min_length=1, description="责任部门 (seed 002) / 受理单位 (seed 004)")
    supervisor: str | None = Field(default=None, description="监管部门 (seed 002)")
    level: str = Field(
        min_length=1, description="实施层级 as written (市级, 区级, 区、街道（乡镇）分层级, 市、县区, 乡、村)"
    )
    time_limit: TimeLimit
    channels: tuple[str, ...] = ()
    channels_text: str | None = None
    steps: str | None = None
    service_objects: str | None = None
    materials: tuple[str, ...] = ()
    materials_text: str | None = None
    flags: tuple[Flag, ...] = ()
    query: str | None = None
    supervision_phone_text: str | None = None
    evaluation: str | None = None
    remarks: tuple[str, ...] = ()
    note: str | None = None
    operations: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ...] = Field(
        default=(),
        description="the API operations (operationIds of the merged OpenAPI) that carry the item out",
    )

    @field_validator("flags")
    @classmethod
    def _flags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique_items(value, "flags")

    @model_validator(mode="after")
    def _codes_agree(self) -> CatalogueItem:
        if self.item_code and self.main_item_code and self.item_code[:9] != self.main_item_code[:9]:
            raise ValueError(f"{self.id}: {self.item_code} is not under main item {self.main_item_code}")
        return self


# ------------------------------------------------------------------------------------------------- registry


# -------------------------------------------------------------------------------------------------- loaders


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    )
    return data


_LEVEL_ORDER = ("city", "district", "township", "village")


@functools.cache
def load_offices() -> tuple[Office, ...]:
    """The office directory, in the order of the file (Tianjin sub-centres in the order of seed 000)."""
    offices = tuple(Office.model_validate(o) for o in _read("offices.json")["offices"])
    by_code: dict[str, Office] = {}
    for office in offices:
        if office.code in by_code:
            raise ValueError(f"offices.json: duplicate office code {office.code}")
        by_code[office.code] = office
    for office in offices:
        if office.parent_code is not None:
            parent = by_code.get(office.parent_code)
            if parent is None:
                raise ValueError(f"offices.json: {office.code} has an unknown parent {office.parent_code}")
            if parent.region != office.region:
                raise ValueError(f"offices.json: {office.code} and its parent are in different regions")
            if _LEVEL_ORDER.index(parent.level) >= _LEVEL_ORDER.index(office.level):
                raise ValueError(f"offices.json: {office.code} ({office.level}) is not below its parent")
            if office.level in ("township", "village") and not office.code.startswith(parent.code):
                raise ValueError(
                    f"offices.json: {office.code} does not carry its parent's code {parent.code}"
                )
    return offices


@functools.cache
def _offices_by_code() -> dict[str, Office]:
    return {o.code: o for o in load_offices()}


def office_by_code(code: str) -> Office | None:
    return _offices_by_code().get(code)


@functools.cache
def load_catalogue() -> tuple[CatalogueItem, ...]:
    """The service catalogue: seed 002 items (ids tj-2021-NN), seed 004 items (qhd-…), seed 003 items (ts-NN)."""
    items = tuple(CatalogueItem.model_validate(i) for i in _read("catalogue.json")["items"])
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError("catalogue.json: duplicate item ids")
    codes = [i.item_code for i in items if i.item_code]
    if len(set(codes)) != len(codes):
        raise ValueError("catalogue.json: duplicate item codes")
    return items


@functools.cache
def _catalogue_by_id() -> dict[str, CatalogueItem]:
    return {i.id: i for i in load_catalogue()}


def catalogue_item(item_id: str) -> CatalogueItem | None:
    return _catalogue_by_id().get(item_id)
