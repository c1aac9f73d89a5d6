"""Identity documents, credit codes, masking and person pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from shared.identity import (
    IdType,
    InvalidIdentifier,
    ResidentIdFacts,
    facts_for,
    mask_id,
    mask_sensitive,
    normalize_credit_code,
    normalize_id,
    person_id_for,
    resident_id_facts,
)

KEY = b"k" * 32


def with_check_digit(first17: str) -> str:
    """A GB 11643 number computed with stdnum (its function ignores the last character given)."""
    assert len(first17) == 17
    return first17 + ric.calc_check_digit(first17 + "0")


def wrong_check_digit(number: str) -> str:
    replacement = "0" if number[-1] != "0" else "1"
    return number[:-1] + replacement


def with_uscc_check(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


KNOWN_RESIDENT_ID = "11010519491231002X"  # the example of GB 11643; female, born 1949-12-31
MALE_RESIDENT_ID = with_check_digit("44030419900307001")
HK_RESIDENCE = with_check_digit("81000019800101003")
MACAO_RESIDENCE = with_check_digit("82000019850615002")
TAIWAN_RESIDENCE = with_check_digit("83000019701120005")
NEW_FOREIGN_CARD = with_check_digit("91184019900101001")  # 9, province 11, nationality 840


def expect_invalid(id_type: IdType, number: str, code: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_id(id_type, number)
    assert caught.value.code == code
    assert caught.value.message == message
    assert str(caught.value) == message


# --------------------------------------------------------------------------- resident ID


def test_known_resident_id_is_valid() -> None:
    assert ric.calc_check_digit(KNOWN_RESIDENT_ID) == "X"
    assert normalize_id(IdType.resident_id, KNOWN_RESIDENT_ID) == KNOWN_RESIDENT_ID


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "110105\u300019491231002X",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_resident_id_is_normalized(typed: str) -> None:
    assert normalize_id(IdType.resident_id, typed) == KNOWN_RESIDENT_ID


def test_id_type_may_be_given_as_text() -> None:
    assert normalize_id("resident_id", KNOWN_RESIDENT_ID) == KNOWN_RESIDENT_ID  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "居民身份证号码不能为空"),
        ("   ", "居民身份证号码不能为空"),
        ("11010519491231002", "居民身份证号码应为18位"),
        ("11010519491231002X1", "居民身份证号码应为18位"),
        ("1101051949123100XX", "居民身份证号码只能包含数字，最后一位可以是X"),
        ("11010519491231A02X", "居民身份证号码只能包含数字，最后一位可以是X"),
        (wrong_check_digit(KNOWN_RESIDENT_ID), "居民身份证号码校验位错误"),
        (with_check_digit("11010519490230002"), "居民身份证号码中的出生日期无效"),  # 30 February
        (with_check_digit("11010519491301002"), "居民身份证号码中的出生日期无效"),  # month 13
        (with_check_digit("11010517000101002"), "居民身份证号码中的出生日期无效"),  # year 1700
    ],
)
def test_invalid_resident_ids(number: str, message: str) -> None:
    expect_invalid(IdType.resident_id, number, "invalid_resident_id", message)


def test_invalid_identifier_is_a_value_error() -> None:
    assert issubclass(InvalidIdentifier, ValueError)


def test_resident_id_facts() -> None:
    assert resident_id_facts(KNOWN_RESIDENT_ID) == ResidentIdFacts(date(1949, 12, 31), "female", "110105")
    assert resident_id_facts(MALE_RESIDENT_ID) == ResidentIdFacts(date(1990, 3, 7), "male", "440304")
    assert resident_id_facts("11010519491231002x").sex == "female"


def test_resident_id_facts_refuse_invalid_numbers() -> None:
    with pytest.raises(InvalidIdentifier, match="校验位错误"):
        resident_id_facts(wrong_check_digit(KNOWN_RESIDENT_ID))


# --------------------------------------------------------------------------- other documents


@pytest.mark.parametrize(
    ("id_type", "typed", "normalized"),
    [
        (IdType.passport, "e12345678", "E12345678"),
        (IdType.passport, "G 1234 5678", "G12345678"),
        (IdType.passport, "AB123", "AB123"),
        (IdType.passport, "A" * 17, "A" * 17),
        (IdType.hk_macao_permit, "h12345678", "H12345678"),
        (IdType.hk_macao_permit, "M1234567890", "M1234567890"),
        (IdType.taiwan_permit, "12345678", "12345678"),
        (IdType.hmt_residence_card, HK_RESIDENCE, HK_RESIDENCE),
        (IdType.hmt_residence_card, MACAO_RESIDENCE.lower(), MACAO_RESIDENCE),
        (IdType.hmt_residence_card, TAIWAN_RESIDENCE, TAIWAN_RESIDENCE),
        (IdType.foreign_permanent_residence, "usa123456789012", "USA123456789012"),
        (IdType.foreign_permanent_residence, NEW_FOREIGN_CARD, NEW_FOREIGN_CARD),
    ],
)
def test_valid_documents(id_type: IdType, typed: str, normalized: str) -> None:
    assert normalize_id(id_type, typed) == normalized


@pytest.mark.parametrize(
    ("id_type", "number", "message"),
    [
        (IdType.passport, "E123", "护照号码应为5至17位"),
        (IdType.passport, "E" * 18, "护照号码应为5至17位"),
        (IdType.passport, "E1234-5678", "护照号码只能包含字母和数字"),
        (IdType.passport, "护照12345", "护照号码只能包含字母和数字"),
        (IdType.hk_macao_permit, "H1234567", "港澳居民来往内地通行证号码应为H或M加8位或10位数字"),
        (IdType.hk_macao_permit, "H123456789", "港澳居民来往内地通行证号码应为H或M加8位或10位数字"),
        (IdType.hk_macao_permit, "C12345678", "港澳居民来往内地通行证号码应为H或M加8位或10位数字"),
        (IdType.taiwan_permit, "1234567", "台湾居民来往大陆通行证号码应为8位数字"),
        (IdType.taiwan_permit, "T1234567", "台湾居民来往大陆通行证号码应为8位数字"),
        (IdType.hmt_residence_card, KNOWN_RESIDENT_ID, "港澳台居民居住证号码应以810000、820000或830000开头"),
        (IdType.hmt_residence_card, wrong_check_digit(HK_RESIDENCE), "港澳台居民居住证号码校验位错误"),
        (IdType.hmt_residence_card, HK_RESIDENCE[:-1], "港澳台居民居住证号码应为18位"),
        (
            IdType.foreign_permanent_residence,
            "US1234567890123",
            "15位外国人永久居留身份证号码应为3个字母加12位数字",
        ),
        (IdType.foreign_permanent_residence, "USA12345678901", "外国人永久居留身份证号码应为15位或18位"),
        (IdType.foreign_permanent_residence, KNOWN_RESIDENT_ID, "18位外国人永久居留身份证号码应以9开头"),
        (
            IdType.foreign_permanent_residence,
            wrong_check_digit(NEW_FOREIGN_CARD),
            "外国人永久居留身份证号码校验位错误",
        ),
        (IdType.foreign_permanent_residence, "", "外国人永久居留身份证号码不能为空"),
    ],
)
def test_invalid_documents(id_type: IdType, number: str, message: str) -> None:
    expect_invalid(id_type, number, "invalid_id_number", message)


def test_facts_for_documents_that_encode_them() -> None:
    assert facts_for(IdType.resident_id, KNOWN_RESIDENT_ID) == ResidentIdFacts(
        date(1949, 12, 31), "female", "110105"
    )
    assert facts_for(IdType.hmt_residence_card, HK_RESIDENCE) == ResidentIdFacts(
        date(1980, 1, 1), "male", "810000"
    )
    assert facts_for(IdType.hmt_residence_card, MACAO_RESIDENCE) == ResidentIdFacts(
        date(1985, 6, 15), "female", "820000"
    )
    assert facts_for(IdType.foreign_permanent_residence, NEW_FOREIGN_CARD) == ResidentIdFacts(
        date(1990, 1, 1), "male", "911840"
    )


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        (IdType.passport, "E12345678"),
        (IdType.hk_macao_permit, "H12345678"),
        (IdType.taiwan_permit, "12345678"),
        (IdType.foreign_permanent_residence, "USA123456789012"),
    ],
)
def test_facts_for_documents_that_encode_nothing(id_type: IdType, number: str) -> None:
    assert facts_for(id_type, number) is None


def test_facts_for_validates() -> None:
    with pytest.raises(InvalidIdentifier):
        facts_for(IdType.resident_id, wrong_check_digit(KNOWN_RESIDENT_ID))


# --------------------------------------------------------------------------- credit codes

RURAL_COLLECTIVE = with_uscc_check("N2110105MA0000001")  # registered by agriculture departments


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("91110000600037341L", "91110000600037341L"),
        ("91110000600037341l", "91110000600037341L"),
        ("9111 0000 6000 3734 1L", "91110000600037341L"),
        (RURAL_COLLECTIVE, RURAL_COLLECTIVE),
    ],
)
def test_valid_credit_codes(typed: str, normalized: str) -> None:
    assert normalize_credit_code(typed) == normalized


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91110000600037341", "统一社会信用代码应为18位"),
        ("", "统一社会信用代码应为18位"),
        ("91110000600037341A", "统一社会信用代码校验位错误"),
        ("9111000060003734IL", "统一社会信用代码包含无效字符（不使用I、O、Z、S、V）"),
        ("91110000600037341-", "统一社会信用代码包含无效字符（不使用I、O、Z、S、V）"),
        ("911A0000600037341L", "统一社会信用代码第3至8位应为行政区划代码"),
    ],
)
def test_invalid_credit_codes(code: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_credit_code(code)
    assert (caught.value.code, caught.value.message) == ("invalid_credit_code", message)


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "1101**********002X"),
        ("USA123456789012", "USA1*******9012"),
        ("123456789", "1234*6789"),
        ("H1234567", "H******7"),
        ("AB123", "A***3"),
        ("AB", "**"),
        ("", ""),
    ],
)
def test_mask_id(number: str, masked: str) -> None:
    assert mask_id(number) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证11010519491231002X已受理", "身份证1101**********002X已受理"),
        ('{"id": "11010519491231002x", "n": 1}', '{"id": "1101**********002x", "n": 1}'),
        (
            f"a={KNOWN_RESIDENT_ID} b={MALE_RESIDENT_ID}",
            f"a=1101**********002X b=4403**********{MALE_RESIDENT_ID[-4:]}",
        ),
        ("ID" + KNOWN_RESIDENT_ID, "ID1101**********002X"),
        # 18 digits then an X: masked too, erring on the side of privacy.
        ("0" + KNOWN_RESIDENT_ID, "0110**********1002X"),
    ],
)
def test_mask_sensitive_masks_ids_in_text(text: str, masked: str) -> None:
    assert mask_sensitive(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nothing personal here",
        "order 1234567890123456789 has 19 digits",  # a longer digit run is not an ID
        "0" + MALE_RESIDENT_ID,  # 19 digits
        "12345678901234567 has 17 digits",
        "金额 1234.50 元，事项编号 2026-000123",
    ],
)
def test_mask_sensitive_leaves_other_text_alone(text: str) -> None:
    assert mask_sensitive(text) == text


ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
TEXT = st.text(alphabet=st.sampled_from("0123456789Xx *-:身份证\n\"'"), max_size=200) | st.text(max_size=100)


@given(TEXT)
def test_mask_sensitive_leaves_no_id_and_keeps_length(text: str) -> None:
    masked = mask_sensitive(text)
    assert ID_LIKE.search(masked) is None
    assert len(masked) == len(text)
    assert mask_sensitive(masked) == masked


# --------------------------------------------------------------------------- pseudonyms


def test_person_id_is_deterministic_and_shaped_as_uuid8() -> None:
    first = person_id_for(IdType.resident_id, KNOWN_RESIDENT_ID, KEY)
    assert first == person_id_for(IdType.resident_id, KNOWN_RESIDENT_ID, KEY)
    assert first.version == 8
    assert first.variant == uuid.RFC_4122


def test_person_id_is_the_truncated_hmac() -> None:
    digest = hmac.new(KEY, f"resident_id:{KNOWN_RESIDENT_ID}".encode(), hashlib.sha256).digest()
    expected = bytearray(digest[:16])
    expected[6] = (expected[6] & 0x0F) | 0x80
    expected[8] = (expected[8] & 0x3F) | 0x80
    assert person_id_for(IdType.resident_id, KNOWN_RESIDENT_ID, KEY) == uuid.UUID(bytes=bytes(expected))


def test_person_id_depends_on_key_type_and_number() -> None:
    base = person_id_for(IdType.taiwan_permit, "12345678", KEY)
    assert person_id_for(IdType.taiwan_permit, "12345678", b"another key of enough length") != base
    assert person_id_for(IdType.passport, "12345678", KEY) != base
    assert person_id_for(IdType.taiwan_permit, "12345679", KEY) != base


def test_person_id_ignores_how_the_number_was_typed() -> None:
    assert person_id_for(IdType.resident_id, "11010519491231002x", KEY) == person_id_for(
        IdType.resident_id, KNOWN_RESIDENT_ID, KEY
    )


def test_person_id_refuses_short_keys_and_invalid_numbers() -> None:
    with pytest.raises(ValueError, match="key"):
        person_id_for(IdType.resident_id, KNOWN_RESIDENT_ID, b"short")
    with pytest.raises(InvalidIdentifier):
        person_id_for(IdType.resident_id, wrong_check_digit(KNOWN_RESIDENT_ID), KEY)
