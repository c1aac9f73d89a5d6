"""A person (参保人) with a validated identity, consistent with what the ID number encodes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from shared.errors import Invalid
from shared.identity import IdType, InvalidIdentifier, facts_for, normalize_id, person_id_for

Sex = Literal["male", "female"]


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    id_type: IdType
    id_number: str
    name: str
    sex: Sex | None
    birth_date: date | None
    office_code: str
    phone: str | None = None


def identify(
    id_type: IdType,
    id_number: str,
    name: str,
    office_code: str,
    key: bytes,
    sex: Sex | None = None,
    birth_date: date | None = None,
    phone: str | None = None,
) -> Person:
    """Validate the ID and check the stated sex and birth date against what it encodes."""
    try:
        number = normalize_id(id_type, id_number)
    except InvalidIdentifier as exc:
        raise Invalid(
            exc.code,
            "证件号码不合法",
            exc.message,
            errors=[{"field": "person.id_number", "message": exc.message}],
        ) from exc
    facts = facts_for(id_type, number)
    if facts is not None:
        mismatches = []
        if sex is not None and sex != facts.sex:
            mismatches.append({"field": "person.sex", "message": "性别与身份证号码不一致"})
        if birth_date is not None and birth_date != facts.birth_date:
            mismatches.append({"field": "person.birth_date", "message": "出生日期与身份证号码不一致"})
        if mismatches:
            raise Invalid("identity_mismatch", "个人信息与证件不一致", errors=mismatches)
        sex, birth_date = facts.sex, facts.birth_date
    return Person(
        id=person_id_for(id_type, number, key),
        id_type=id_type,
        id_number=number,
        name=name,
        sex=sex,
        birth_date=birth_date,
        office_code=office_code,
        phone=phone,
    )
