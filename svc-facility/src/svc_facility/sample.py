"""The labelled SAMPLE registry of designated institutions (data/registry_sample.json), for demo and
test deployments."""

from __future__ import annotations

import functools
import json
import re
from datetime import date
from importlib import resources
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.directory import FrozenModel, office_by_code, six_digits, unique_items
from svc_facility.domain.kinds import CODE_PREFIX, ApplicantKind, InstitutionType, Programme

RegistryStatus = Literal["designated", "suspended", "terminated"]


def _read(name: str) -> dict[str, Any]:
    return json.loads(resources.files("svc_facility.data").joinpath(name).read_text(encoding="utf-8"))


class Agreement(FrozenModel):
    number: str = Field(min_length=1)
    valid_from: date
    valid_to: date

    @model_validator(mode="after")
    def _ordered(self) -> Agreement:
        if self.valid_to < self.valid_from:
            raise ValueError(f"agreement {self.number}: valid_to before valid_from")
        return self


class RegistryEntry(FrozenModel):
    """A designated institution as the (sample) registry lists it."""

    code: str = Field(description="kind prefix (H/P/L/A) + 6-digit district code + 5-digit serial")
    name: str = Field(min_length=1)
    kind: ApplicantKind
    institution_type: InstitutionType | None = None
    level: Literal[1, 2, 3] | None = None
    district_code: str
    office_code: str
    programmes: tuple[Programme, ...] = ()
    physical_hospital_code: str | None = None
    agreement: Agreement | None = None
    status: RegistryStatus = "designated"
    note: str | None = None

    @field_validator("district_code", "office_code")
    @classmethod
    def _codes(cls, value: str, info: Any) -> str:
        return six_digits(value, info.field_name)  # type: ignore[return-value]

    @field_validator("programmes")
    @classmethod
    def _programmes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique_items(value, "programmes")

    @model_validator(mode="after")
    def _consistent(self) -> RegistryEntry:
        prefix = CODE_PREFIX[self.kind]  # type: ignore[index]
        if not re.fullmatch(rf"{prefix}\d{{11}}", self.code):
            raise ValueError(f"{self.code}: a {self.kind} code is {prefix} + 11 digits")
        if self.code[1:7] != self.district_code:
            raise ValueError(f"{self.code}: the code must begin with its district code {self.district_code}")
        medical = self.kind == ApplicantKind.medical_institution
        if medical and self.institution_type is None:
            raise ValueError(f"{self.code}: a medical institution needs its institution_type")
        if not medical and (self.institution_type is not None or self.level is not None):
            raise ValueError(f"{self.code}: only medical institutions have an institution_type and a level")
        internet = self.institution_type == InstitutionType.internet_hospital
        if internet:
            physical = self.physical_hospital_code
            if physical is None or not re.fullmatch(r"H\d{11}", physical) or physical == self.code:
                raise ValueError(f"{self.code}: an internet hospital names its physical hospital (H…)")
        elif self.physical_hospital_code is not None:
            raise ValueError(f"{self.code}: only internet hospitals have a physical_hospital_code")
        return self


@functools.cache
def load_registry_sample() -> tuple[RegistryEntry, ...]:
    """The SAMPLE registry (demo and test deployments only; not from the seeds)."""
    document = _read("registry_sample.json")
    if document.get("sample") is not True:
        raise ValueError("registry_sample.json must be labelled as a sample")
    entries = tuple(RegistryEntry.model_validate(e) for e in document["entries"])
    by_code: dict[str, RegistryEntry] = {}
    for entry in entries:
        if entry.code in by_code:
            raise ValueError(f"registry_sample.json: duplicate code {entry.code}")
        by_code[entry.code] = entry
    for entry in entries:
        office = office_by_code(entry.office_code)
        if office is None or office.level != "district":
            raise ValueError(f"registry_sample.json: {entry.code}: no sub-centre {entry.office_code}")
        if office.district_code is not None and office.district_code != entry.district_code:
            raise ValueError(
                f"registry_sample.json: {entry.code} is in {entry.district_code},"
                f" its office serves {office.district_code}"
            )
        if entry.physical_hospital_code is not None:
            physical = by_code.get(entry.physical_hospital_code)
            if physical is None or physical.institution_type == InstitutionType.internet_hospital:
                raise ValueError(f"registry_sample.json: {entry.code} relies on an unknown physical hospital")
    return entries
