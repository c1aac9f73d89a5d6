"""Money: ``Decimal`` in code, two-decimal strings on the wire (``"1234.50"``), never float.

Rounding is ROUND_HALF_UP to the fen (分) at each documented step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    getcontext,
    setcontext,
)
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

CENT = Decimal("0.01")
FORMAT_MESSAGE = "金额格式错误：最多两位小数"

_MONEY_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
# An explicit context: results must not depend on whatever a thread's decimal context happens to be.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])
_EXACT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
_exact_multiply = _EXACT.multiply
_P = ParamSpec("_P")
_R = TypeVar("_R")


def to_money(value: Decimal | int | str) -> Decimal:
    """``value`` rounded ROUND_HALF_UP to two decimal places."""
    amount = _as_decimal(value)
    if not amount.is_finite():
        raise ValueError(f"金额必须是有限数值: {value!r}")
    try:
        rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)
    except InvalidOperation as exc:
        raise ValueError(f"金额超出范围: {value!r}") from exc
    # "-0.00" would surprise every reader of a statement.
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _as_decimal(value: object) -> Decimal:
    # bool is an int subclass and float is inexact: both are refused, loudly.
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{FORMAT_MESSAGE}: {value!r}") from exc


def parse_money(text: str) -> Decimal:
    """Strict parse of ``-?digits[.d[d]]``; anything else is a ValueError."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    if not _MONEY_TEXT.fullmatch(text):
        raise ValueError(FORMAT_MESSAGE)
    return to_money(text)


def money_text(amount: Decimal) -> str:
    """The wire form: exactly two decimals, no exponent (``"1234.50"``)."""
    return format(to_money(amount), "f")


def is_whole_fen(amount: Decimal) -> bool:
    """True when ``amount`` needs no rounding to be money."""
    return amount.is_finite() and to_money(amount) == amount


# --------------------------------------------------------------------------- splitting


def split_ratio(amount: Decimal, ratio: Decimal) -> tuple[Decimal, Decimal]:
    """(amount × ratio rounded ROUND_HALF_UP to the fen, the rest); the two always sum to ``amount``."""
    money = _exact_money(amount)
    share = rate_share(money, _ratio(ratio))
    return share, to_money(_CONTEXT.subtract(money, share))


def rate_share(amount: Decimal, ratio: Decimal) -> Decimal:
    """``amount`` × ``ratio`` rounded ROUND_HALF_UP to the fen, for amounts and ratios already checked.

    The checked form is ``split_ratio``; this one is for hot paths (the benefit engine) that validated
    their inputs once and apply many rates.
    """
    try:
        product = _exact_multiply(amount, ratio)
    except Inexact:
        product = _wide_product(amount, ratio)
    share = product.quantize(CENT, ROUND_HALF_UP, _CONTEXT)  # positional: keywords cost twice the quantize
    return share if share else share.copy_abs()


def in_money_context(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` run with money's decimal context as the thread's current one, whatever the caller's.

    Inside it the plain operators are money arithmetic: sums and products exact to 60 digits (an amount
    under 10^12 yuan times a ratio of a few digits needs 20), ``x.quantize(CENT)`` rounds ROUND_HALF_UP,
    and an invalid operation raises. For hot paths (the benefit engine): one switch of context per call
    instead of a context passed to every operation, which costs twice the operation.
    """

    @wraps(function)
    def in_context(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        outer = getcontext()
        setcontext(_CONTEXT)
        try:
            return function(*args, **kwargs)
        finally:
            setcontext(outer)

    return in_context


def _exact_money(amount: Decimal | int) -> Decimal:
    value = _number(amount)
    rounded = to_money(value)
    if rounded != value:
        # Rounding the amount here would break "the parts add up to the amount".
        raise ValueError(f"amount must be Decimal or int with at most two decimals: {amount!r}")
    return rounded


def _ratio(ratio: Decimal | int) -> Decimal:
    value = _number(ratio)
    if not value.is_finite() or not 0 <= value <= 1:
        raise ValueError(f"ratio must be a Decimal between 0 and 1: {ratio!r}")
    return value


def _number(value: Decimal | int) -> Decimal:
    if isinstance(value, str):
        raise TypeError("expected Decimal or int; parse text with parse_money first")
    return _as_decimal(value)


def _wide_product(a: Decimal, b: Decimal) -> Decimal:
    # The product must be exact, so the only rounding is the documented one: money times a ratio fits
    # the 60 digits of the exact context; only a longer one needs a context of its own size.
    digits = len(a.as_tuple().digits) + len(b.as_tuple().digits) + 1
    return Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation]).multiply(a, b)


# --------------------------------------------------------------------------- pydantic types

_INPUT_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
_OUTPUT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


def _format_error() -> PydanticCustomError:
    return PydanticCustomError("money_format", FORMAT_MESSAGE)


def _money_from_input(value: Any) -> Decimal:
    """Whatever a request may carry, as money; ValidationError-friendly errors otherwise."""
    if isinstance(value, bool):
        raise PydanticCustomError("money_type", "金额应为字符串或数字")
    if isinstance(value, str):
        return _parse_or_error(value)
    if isinstance(value, float):
        # Apps send JSON numbers: accept 12.5 (its repr is exact enough), refuse 0.1 + 0.2.
        return _parse_or_error(repr(value))
    if isinstance(value, int):
        return to_money(value)
    if isinstance(value, Decimal):
        if not is_whole_fen(value):
            raise _format_error()
        return to_money(value)
    raise PydanticCustomError("money_type", "金额应为字符串或数字")


def _parse_or_error(text: str) -> Decimal:
    try:
        return parse_money(text)
    except ValueError:
        raise _format_error() from None


@dataclass(frozen=True)
class MoneyAnnotation:
    """Pydantic hooks for ``Money`` and ``NonNegativeMoney``."""

    non_negative: bool = False

    def validate(self, value: Any) -> Decimal:
        amount = _money_from_input(value)
        if self.non_negative and amount < 0:
            raise PydanticCustomError("money_negative", "金额不能为负数")
        return amount

    def __get_pydantic_core_schema__(
        self, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate,
            serialization=core_schema.plain_serializer_function_ser_schema(money_text, when_used="json"),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        pattern = _INPUT_PATTERN if handler.mode == "validation" else _OUTPUT_PATTERN
        if self.non_negative:
            pattern = pattern.replace("^-?", "^")
        return {
            "type": "string",
            "pattern": pattern,
            "examples": ["1234.50"],
            "description": "金额（元），最多两位小数"
            if handler.mode == "validation"
            else "金额（元），两位小数",
        }


Money = Annotated[Decimal, MoneyAnnotation()]
NonNegativeMoney = Annotated[Decimal, MoneyAnnotation(non_negative=True)]


@dataclass(frozen=True)
class MoneyOutAnnotation:
    """Pydantic hooks for ``MoneyOut``: an amount the platform computed or stored, on its way out.

    Unlike ``Money`` (a request's input, refused beyond two decimals), it takes any finite amount the
    engine or an older stored document holds (``Decimal("0.000000")`` from a product with a rate) and
    writes it as money always is: rounded ROUND_HALF_UP to the fen, two decimals (``"0.00"``).
    """

    def validate(self, value: Any) -> Decimal:
        if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int, str)):
            raise PydanticCustomError("money_type", "金额应为字符串或数字")
        try:
            return to_money(value)
        except (ValueError, TypeError):
            raise _format_error() from None

    def __get_pydantic_core_schema__(
        self, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate,
            serialization=core_schema.plain_serializer_function_ser_schema(money_text, when_used="json"),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": _OUTPUT_PATTERN,
            "examples": ["1234.50"],
            "description": "金额（元），两位小数",
        }


MoneyOut = Annotated[Decimal, MoneyOutAnnotation()]
