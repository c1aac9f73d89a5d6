"""Identity documents and unit credit codes: normalisation, validation, masking, pseudonyms.

ID numbers are sensitive personal data (PIPL): they never go into URLs or logs (``mask_id``,
``mask_sensitive``), and services identify a person by ``person_id_for`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from stdnum.cn import ric, uscc


class IdType(StrEnum):
    resident_id = "resident_id"
    passport = "passport"
    hk_macao_permit = "hk_macao_permit"
    taiwan_permit = "taiwan_permit"
    hmt_residence_card = "hmt_residence_card"
    foreign_permanent_residence = "foreign_permanent_residence"


ID_TYPE_LABELS: Mapping[IdType, str] = MappingProxyType(
    {
        IdType.resident_id: "居民身份证",
        IdType.passport: "护照",
        IdType.hk_macao_permit: "港澳居民来往内地通行证",
        IdType.taiwan_permit: "台湾居民来往大陆通行证",
        IdType.hmt_residence_card: "港澳台居民居住证",
        IdType.foreign_permanent_residence: "外国人永久居留身份证",
    }
)


class InvalidIdentifier(ValueError):
    """A malformed identifier; ``code`` is stable for machines, ``message`` is Chinese for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ResidentIdFacts:
    birth_date: date
    sex: Literal["male", "female"]
    region_code: str


# --------------------------------------------------------------------------- ID numbers

_GB11643_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_HMT_PREFIXES = ("810000", "820000", "830000")  # Hong Kong, Macao, Taiwan
_PASSPORT = re.compile(r"[A-Z0-9]+")
_HK_MACAO_PERMIT = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")
_TAIWAN_PERMIT = re.compile(r"[0-9]{8}")
_OLD_FOREIGN_CARD = re.compile(r"[A-Z]{3}[0-9]{12}")
_EARLIEST_BIRTH_YEAR = 1800


def _compact(number: str) -> str:
    # NFKC folds full-width digits and letters typed with Chinese input methods (１２３ｘ) to ASCII.
    if not isinstance(number, str):
        raise TypeError(f"expected str, got {type(number).__name__}")
    folded = unicodedata.normalize("NFKC", number)
    return "".join(folded.split()).upper()


def _label(id_type: IdType) -> str:
    return ID_TYPE_LABELS[id_type] + "号码"


def _code(id_type: IdType) -> str:
    return "invalid_resident_id" if id_type is IdType.resident_id else "invalid_id_number"


def _check_gb11643(number: str, label: str, code: str) -> None:
    """18 characters: 17 digits, an ISO 7064 MOD 11-2 check character, a real birth date."""
    if len(number) != 18:
        raise InvalidIdentifier(code, f"{label}应为18位")
    if not _GB11643_SHAPE.fullmatch(number):
        raise InvalidIdentifier(code, f"{label}只能包含数字，最后一位可以是X")
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdentifier(code, f"{label}校验位错误")
    if _birth_date_or_none(number) is None:
        raise InvalidIdentifier(code, f"{label}中的出生日期无效")


def _birth_date_or_none(number: str) -> date | None:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if born.year >= _EARLIEST_BIRTH_YEAR else None


def _check_resident_id(number: str) -> None:
    _check_gb11643(number, _label(IdType.resident_id), _code(IdType.resident_id))


def _check_hmt_residence_card(number: str) -> None:
    label, code = _label(IdType.hmt_residence_card), _code(IdType.hmt_residence_card)
    if len(number) == 18 and not number.startswith(_HMT_PREFIXES):
        raise InvalidIdentifier(code, f"{label}应以810000、820000或830000开头")
    _check_gb11643(number, label, code)


def _check_foreign_permanent_residence(number: str) -> None:
    label, code = _label(IdType.foreign_permanent_residence), _code(IdType.foreign_permanent_residence)
    if len(number) == 15:
        # The 2004 card: nationality (3 letters) + 12 digits; its check digit is not published.
        if not _OLD_FOREIGN_CARD.fullmatch(number):
            raise InvalidIdentifier(code, f"15位{label}应为3个字母加12位数字")
        return
    if len(number) != 18:
        raise InvalidIdentifier(code, f"{label}应为15位或18位")
    if not number.startswith("9"):
        raise InvalidIdentifier(code, f"18位{label}应以9开头")
    _check_gb11643(number, label, code)


def _check_passport(number: str) -> None:
    label, code = _label(IdType.passport), _code(IdType.passport)
    if not 5 <= len(number) <= 17:
        raise InvalidIdentifier(code, f"{label}应为5至17位")
    if not _PASSPORT.fullmatch(number):
        raise InvalidIdentifier(code, f"{label}只能包含字母和数字")


def _check_hk_macao_permit(number: str) -> None:
    if not _HK_MACAO_PERMIT.fullmatch(number):
        label, code = _label(IdType.hk_macao_permit), _code(IdType.hk_macao_permit)
        raise InvalidIdentifier(code, f"{label}应为H或M加8位或10位数字")


def _check_taiwan_permit(number: str) -> None:
    if not _TAIWAN_PERMIT.fullmatch(number):
        label, code = _label(IdType.taiwan_permit), _code(IdType.taiwan_permit)
        raise InvalidIdentifier(code, f"{label}应为8位数字")


_CHECKS: Mapping[IdType, Callable[[str], None]] = MappingProxyType(
    {
        IdType.resident_id: _check_resident_id,
        IdType.passport: _check_passport,
        IdType.hk_macao_permit: _check_hk_macao_permit,
        IdType.taiwan_permit: _check_taiwan_permit,
        IdType.hmt_residence_card: _check_hmt_residence_card,
        IdType.foreign_permanent_residence: _check_foreign_permanent_residence,
    }
)


def normalize_id(id_type: IdType, number: str) -> str:
    """The canonical form (no spaces, upper case) of a valid number; else InvalidIdentifier."""
    id_type = IdType(id_type)
    compact = _compact(number)
    if not compact:
        raise InvalidIdentifier(_code(id_type), f"{_label(id_type)}不能为空")
    _CHECKS[id_type](compact)
    return compact


def _facts_of_valid(number: str) -> ResidentIdFacts:
    birth_date = _birth_date_or_none(number)
    assert birth_date is not None  # checked by _check_gb11643
    return ResidentIdFacts(
        birth_date=birth_date,
        sex="male" if int(number[16]) % 2 == 1 else "female",
        region_code=number[:6],
    )


def resident_id_facts(number: str) -> ResidentIdFacts:
    """Birth date, sex (17th digit odd = male) and first six digits of any 18-digit GB 11643 number."""
    compact = _compact(number)
    _check_gb11643(compact, _label(IdType.resident_id), _code(IdType.resident_id))
    return _facts_of_valid(compact)


def facts_for(id_type: IdType, number: str) -> ResidentIdFacts | None:
    """What the number encodes, or None for document types that encode no birth date or sex."""
    normalized = normalize_id(id_type, number)
    encodes_facts = id_type in (IdType.resident_id, IdType.hmt_residence_card) or (
        id_type == IdType.foreign_permanent_residence and len(normalized) == 18
    )
    return _facts_of_valid(normalized) if encodes_facts else None


# --------------------------------------------------------------------------- unit credit codes

_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")  # GB 32100: no I, O, Z, S, V


def normalize_credit_code(code: str) -> str:
    """The canonical form of a valid unified social credit code (GB 32100); else InvalidIdentifier."""
    compact = _compact(code)
    if len(compact) != 18:
        raise InvalidIdentifier("invalid_credit_code", "统一社会信用代码应为18位")
    # The first two characters may be letters (e.g. N for rural collectives, Y for "other"),
    # which stdnum's validate() refuses, so only its check-character computation is used.
    if not set(compact) <= _USCC_ALPHABET:
        raise InvalidIdentifier("invalid_credit_code", "统一社会信用代码包含无效字符（不使用I、O、Z、S、V）")
    if not compact[2:8].isdigit():
        raise InvalidIdentifier("invalid_credit_code", "统一社会信用代码第3至8位应为行政区划代码")
    if uscc.calc_check_digit(compact) != compact[17]:
        raise InvalidIdentifier("invalid_credit_code", "统一社会信用代码校验位错误")
    return compact


# --------------------------------------------------------------------------- masking

# 17 digits and a digit or X, not inside a longer digit run.
_RESIDENT_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def mask_id(number: str) -> str:
    """Keep the first 4 and last 4 characters (first 1 and last 1 below 9 characters)."""
    length = len(number)
    if length >= 9:
        return number[:4] + "*" * (length - 8) + number[-4:]
    if length <= 2:
        return "*" * length  # keeping both ends would show the whole number
    return number[0] + "*" * (length - 2) + number[-1]


def _mask_match(match: re.Match[str]) -> str:
    return mask_id(match.group())


def mask_sensitive(text: str) -> str:
    """Mask every resident-ID-like token in free text (log lines)."""
    if len(text) < 18:
        return text
    return _RESIDENT_ID_LIKE.sub(_mask_match, text)


# Keys whose values are personal (PIPL: identity, contact, health): masked whole wherever they
# appear in a payload shown to operators. Matched as fragments of the key, so `person_name`,
# `holder_id_number` or `diagnosis_code` are caught too. Deliberately broad: a facility's name is
# masked as well, which costs an operator little.
PERSONAL_KEY_FRAGMENTS = (
    "name", "id_number", "id_no", "idcard", "phone", "mobile", "email", "address", "birth", "sex", "gender",
    "diagnos", "disease", "medical", "drug", "prescription", "bank", "account_no", "certificate_number",
)  # fmt: skip
MASKED = "***"


def is_personal_key(key: str) -> bool:
    lowered = key.lower()
    return any(fragment in lowered for fragment in PERSONAL_KEY_FRAGMENTS)


def mask_personal_fields(value: object) -> object:
    """A copy of a JSON-like value safe to show operators: personal keys masked whole, ID-like text masked."""
    if isinstance(value, dict):
        return {
            k: MASKED if is_personal_key(str(k)) and v not in (None, "") else mask_personal_fields(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_personal_fields(v) for v in value]
    if isinstance(value, str):
        return mask_sensitive(value)
    return value


# --------------------------------------------------------------------------- pseudonyms

_MIN_KEY_BYTES = 16


def person_id_for(id_type: IdType, normalized_number: str, key: bytes) -> uuid.UUID:
    """A keyed, stable pseudonym for a person: HMAC-SHA256 shaped as a version-8 UUID.

    Without the key nobody can recompute it from a list of ID numbers.
    """
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"person id key must be at least {_MIN_KEY_BYTES} bytes")
    id_type = IdType(id_type)
    # Normalising again is idempotent and guarantees "x" and "X" give the same person.
    number = normalize_id(id_type, normalized_number)
    digest = hmac.new(key, f"{id_type}:{number}".encode(), hashlib.sha256).digest()
    return _uuid8(digest[:16])


def _uuid8(raw: bytes) -> uuid.UUID:
    shaped = bytearray(raw)
    shaped[6] = (shaped[6] & 0x0F) | 0x80  # version 8 (custom)
    shaped[8] = (shaped[8] & 0x3F) | 0x80  # RFC 4122 variant
    return uuid.UUID(bytes=bytes(shaped))
