"""Money: Decimal arithmetic, strict parsing, pydantic types, ratio splits."""

from __future__ import annotations

import json
import re
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.money import (
    CENT,
    FORMAT_MESSAGE,
    Money,
    NonNegativeMoney,
    money_text,
    parse_money,
    split_ratio,
    to_money,
)

TWO_DECIMALS = re.compile(r"-?[0-9]+\.[0-9]{2}")


class Claim(BaseModel):
    amount: Money
    paid: NonNegativeMoney = Decimal("0")


# --------------------------------------------------------------------------- to_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.005"), "1.01"),
        ("2.675", "2.68"),  # as a float this would round down to 2.67
        (Decimal("-1.005"), "-1.01"),  # half up means away from zero
        (Decimal("1.004999"), "1.00"),
        (5, "5.00"),
        ("1234.5", "1234.50"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("-0.001"), "0.00"),  # no negative zero
        ("-0", "0.00"),
    ],
)
def test_to_money_rounds_half_up_to_the_fen(value: Decimal | int | str, expected: str) -> None:
    result = to_money(value)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_to_money_ignores_the_thread_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 3
        context.rounding = "ROUND_DOWN"
        assert str(to_money(Decimal("123456.785"))) == "123456.79"


@pytest.mark.parametrize("value", [1.5, True, None, [1]])
def test_to_money_refuses_float_and_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        to_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), "nan", "abc", "1e60"]
)
def test_to_money_refuses_non_finite_and_malformed_values(value: Decimal | str) -> None:
    with pytest.raises(ValueError):
        to_money(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15))
def test_to_money_is_idempotent(value: Decimal) -> None:
    once = to_money(value)
    assert to_money(once) == once
    assert once.as_tuple().exponent == -2
    assert abs(once - value) <= CENT / 2


# --------------------------------------------------------------------------- parse_money


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", "0.00"), ("1234.5", "1234.50"), ("1234.50", "1234.50"), ("-0.01", "-0.01"), ("007.10", "7.10")],
)
def test_parse_money_accepts_plain_amounts(text: str, expected: str) -> None:
    assert str(parse_money(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.234",
        "1.",
        ".5",
        "+1",
        " 1",
        "1 ",
        "1e3",
        "1,000",
        "1_000",
        "NaN",
        "Infinity",
        "１２",
        "--1",
        "1.2.3",
        "¥1",
    ],
)
def test_parse_money_is_strict(text: str) -> None:
    with pytest.raises(ValueError, match=FORMAT_MESSAGE):
        parse_money(text)


def test_money_text_always_has_two_decimals() -> None:
    assert money_text(Decimal("1E+3")) == "1000.00"
    assert money_text(Decimal("12.5")) == "12.50"


# --------------------------------------------------------------------------- pydantic types


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", "12.50"),
        (12, "12.00"),
        (Decimal("12.50"), "12.50"),
        (Decimal("12.500"), "12.50"),
        (12.5, "12.50"),
    ],
)
def test_money_field_accepts_text_int_decimal_and_exact_floats(value: object, expected: str) -> None:
    assert Claim(amount=value).amount == Decimal(expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [('{"amount": "1234.5"}', "1234.50"), ('{"amount": 1234.5}', "1234.50"), ('{"amount": 7}', "7.00")],
)
def test_money_field_from_json(body: str, expected: str) -> None:
    assert str(Claim.model_validate_json(body).amount) == expected


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ('{"amount": "1.234"}', "money_format"),
        ('{"amount": 0.30000000000000004}', "money_format"),
        ('{"amount": 1e-7}', "money_format"),
        ('{"amount": "abc"}', "money_format"),
        ('{"amount": ""}', "money_format"),
        ('{"amount": true}', "money_type"),
        ('{"amount": null}', "money_type"),
        ('{"amount": [1]}', "money_type"),
        ('{"amount": "1", "paid": "-0.01"}', "money_negative"),
        ('{"amount": "1", "paid": -1}', "money_negative"),
    ],
)
def test_money_field_errors_are_validation_errors_naming_the_field(body: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Claim.model_validate_json(body)
    [error] = caught.value.errors()
    assert error["type"] == error_type
    assert error["loc"] in (("amount",), ("paid",))


def test_money_error_message_is_chinese() -> None:
    with pytest.raises(ValidationError) as caught:
        Claim(amount="1.234")
    assert caught.value.errors()[0]["msg"] == FORMAT_MESSAGE


def test_money_field_refuses_inexact_decimals() -> None:
    with pytest.raises(ValidationError):
        Claim(amount=Decimal("1.005"))
    with pytest.raises(ValidationError):
        Claim(amount=Decimal("NaN"))


def test_non_negative_money_accepts_zero() -> None:
    assert Claim(amount="-5", paid="0").paid == Decimal("0.00")


def test_money_serializes_as_two_decimal_strings_in_json_only() -> None:
    claim = Claim(amount="1234.5", paid=3)
    assert json.loads(claim.model_dump_json()) == {"amount": "1234.50", "paid": "3.00"}
    assert claim.model_dump() == {"amount": Decimal("1234.50"), "paid": Decimal("3.00")}
    assert TypeAdapter(Money).dump_json(Decimal("1E+3")) == b'"1000.00"'


def test_money_json_schema_is_a_string_with_a_pattern() -> None:
    properties = Claim.model_json_schema()["properties"]
    assert properties["amount"]["type"] == "string"
    assert re.fullmatch(properties["amount"]["pattern"].strip("^$"), "-1234.5")
    assert not re.fullmatch(properties["paid"]["pattern"].strip("^$"), "-1234.5")
    output = Claim.model_json_schema(mode="serialization")["properties"]["amount"]
    assert output["type"] == "string"
    assert re.fullmatch(output["pattern"].strip("^$"), "1234.50")
    assert not re.fullmatch(output["pattern"].strip("^$"), "1234.5")


AMOUNTS = st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False)


@given(AMOUNTS, st.decimals(min_value=0, max_value=10**12, places=2))
def test_json_round_trip(amount: Decimal, paid: Decimal) -> None:
    claim = Claim(amount=amount, paid=paid)
    wire = json.loads(claim.model_dump_json())
    assert TWO_DECIMALS.fullmatch(wire["amount"]) and TWO_DECIMALS.fullmatch(wire["paid"])
    assert Claim.model_validate_json(claim.model_dump_json()) == claim
    assert claim.amount == amount


# --------------------------------------------------------------------------- split_ratio


@pytest.mark.parametrize(
    ("amount", "ratio", "share", "rest"),
    [
        ("100.01", "0.85", "85.01", "15.00"),  # 85.0085 rounds up
        ("0.01", "0.5", "0.01", "0.00"),  # exactly half a fen rounds up
        ("0.03", "0.5", "0.02", "0.01"),
        ("-0.01", "0.5", "-0.01", "0.00"),  # a refund rounds away from zero too
        ("1234.56", "0", "0.00", "1234.56"),
        ("1234.56", "1", "1234.56", "0.00"),
        ("10", "0.333333333333333333333333333333", "3.33", "6.67"),
    ],
)
def test_split_ratio_examples(amount: str, ratio: str, share: str, rest: str) -> None:
    assert split_ratio(Decimal(amount), Decimal(ratio)) == (Decimal(share), Decimal(rest))


def test_split_ratio_results_have_two_decimals() -> None:
    share, rest = split_ratio(Decimal("10"), Decimal("0.7"))
    assert (str(share), str(rest)) == ("7.00", "3.00")


@pytest.mark.parametrize(
    ("amount", "ratio", "error"),
    [
        (Decimal("10.005"), Decimal("0.5"), ValueError),
        (Decimal("10"), Decimal("1.01"), ValueError),
        (Decimal("10"), Decimal("-0.1"), ValueError),
        (Decimal("10"), Decimal("NaN"), ValueError),
        (10.0, Decimal("0.5"), TypeError),
        (Decimal("10"), 0.5, TypeError),
        ("10", Decimal("0.5"), TypeError),
    ],
)
def test_split_ratio_refuses_bad_input(amount: object, ratio: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        split_ratio(amount, ratio)  # type: ignore[arg-type]


RATIOS = st.decimals(min_value=0, max_value=1, places=6)


@given(AMOUNTS, RATIOS)
def test_split_parts_sum_exactly(amount: Decimal, ratio: Decimal) -> None:
    share, rest = split_ratio(amount, ratio)
    assert share + rest == amount
    assert share == to_money(amount * ratio)  # amount * ratio is exact at these sizes
    assert share.as_tuple().exponent == rest.as_tuple().exponent == -2


@given(st.decimals(min_value=0, max_value=10**12, places=2), RATIOS)
def test_split_of_a_positive_amount_has_no_negative_part(amount: Decimal, ratio: Decimal) -> None:
    share, rest = split_ratio(amount, ratio)
    assert share >= 0 and rest >= 0


# --------------------------------------------------------------------------- in_money_context


def test_in_money_context_gives_money_arithmetic_and_restores_the_callers_context() -> None:
    from decimal import ROUND_DOWN, getcontext

    from shared.money import in_money_context

    @in_money_context
    def share(amount: Decimal, ratio: Decimal) -> Decimal:
        return (amount * ratio).quantize(CENT)

    @in_money_context
    def fails() -> None:
        raise RuntimeError("boom")

    with localcontext(prec=3, rounding=ROUND_DOWN) as coarse:
        # 123456.78 × 0.65 = 80246.907: exact in 60 digits, then half up to the fen (not 3 digits, not down)
        assert share(Decimal("123456.78"), Decimal("0.65")) == Decimal("80246.91")
        assert getcontext() is coarse
        with pytest.raises(RuntimeError):
            fails()
        assert getcontext() is coarse and getcontext().rounding == ROUND_DOWN


def test_an_amount_on_its_way_out_is_always_written_with_two_decimals() -> None:
    from pydantic import BaseModel

    from shared.money import MoneyOut

    class Computed(BaseModel):
        amount: MoneyOut

    # A product with a rate keeps the rate's places: "0.000000" must still reach the app as "0.00".
    assert Computed(amount=Decimal("0.00") * Decimal("0.9000")).model_dump_json() == '{"amount":"0.00"}'
    assert Computed(amount="12.345").model_dump(mode="json") == {"amount": "12.35"}
    assert (
        Computed.model_json_schema(mode="serialization")["properties"]["amount"]["pattern"]
        == r"^-?[0-9]+\.[0-9]{2}$"
    )
