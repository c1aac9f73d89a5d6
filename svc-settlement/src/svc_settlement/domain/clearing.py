"""The fund clearing table (基金清算表) of one facility, month, insurance type and care type: 41 lines.

The seed (file 000) gives the lines, not the arithmetic between them. The arithmetic below is derived
from DOMAIN.md's global-budget rule (津医保局发[2019]19号 art. 27: declarations within the month's quota
are paid, unused quota rolls over, the excess is deferred into next month's settlement) and is written
down ONCE, here, as data: each line is a number, its Chinese name and a formula over other lines of
the same month (``L8``), the previous month's lines (``prev_L18``) and inputs (``quota``). The same
text is evaluated to compute the line and listed to explain it, so no second copy can drift; the
README's table is generated from it (``python -m svc_settlement.domain.clearing``) and a test checks
it matches.

Functions a formula may use: ``min``, ``max``, ``reserve(x)`` (x × the assessment reserve rate,
ROUND_HALF_UP to the fen) and ``within_year(x)`` (x, or 0 in January: the quota is yearly, so its
surplus does not cross the year end).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from shared.errors import Conflict
from shared.money import split_ratio, to_money

ZERO = Decimal("0.00")

# Inputs of a month: name → Chinese description (where it comes from).
INPUTS: dict[str, str] = {
    "quota": "本月指标（年度总额指标按月分解）",
    "pooled_claims": "月结申报：统筹基金申请（本地、省内异地、跨省异地合计）",
    "pooled_adjustments": "经办录入：统筹调整支付",
    "smart_rejections": "经办录入：智能审核拒付",
    "smart_rejection_adjustments": "经办录入：智能审核拒付调整",
    "screening_rejections": "经办录入：筛查审核拒付",
    "screening_adjustments": "经办录入：上月筛查审核拒付调整",
    "reserve_release": "年度考核：返还的统筹考核预留",
    "other_payments": "经办录入：其他支付",
    "recovery_due": "年度清算：新增应收回金额",
    "relief_claims": "月结申报：大额救助申请",
    "relief_adjustments": "经办录入：大额救助调整支付",
    "relief_rejections": "经办录入：大额救助审核拒付",
    "relief_rejection_adjustments": "经办录入：大额救助拒付调整",
    "relief_reserve_release": "年度考核：返还的大额救助考核预留",
    "subsidy_claims": "月结申报：城职大病补助申请",
    "subsidy_adjustments": "经办录入：城职大病补助调整支付",
    "subsidy_rejections": "经办录入：城职大病补助审核拒付",
    "subsidy_rejection_adjustments": "经办录入：城职大病补助拒付调整",
    "civil_servant_subsidy": "月结申报：公务员补助",
    "disabled_soldier_subsidy": "月结申报：军残补助",
    "medical_assistance": "月结申报：医疗救助",
    "civil_affairs_relief": "月结申报：民政优抚",
    "personal_account": "月结申报：个人账户",
}


@dataclass(frozen=True)
class Line:
    number: int
    name: str
    section: str
    formula: str
    # Lines the table forbids to be negative (a negative value refuses the clearing).
    non_negative: bool = True

    @cached_property
    def tree(self) -> ast.expr:
        return ast.parse(self.formula, mode="eval").body

    @cached_property
    def sources(self) -> tuple[str, ...]:
        """The lines, previous-month values and inputs this line is computed from, in formula order."""
        names: list[str] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and node.id not in FUNCTIONS and node.id not in names:
                names.append(node.id)
        return tuple(names)


Q, C, Y, R, P = (
    "本月指标核算",
    "本月完成情况",
    "上年度基金清算收回",
    "大额救助、城职大病补助运行情况",
    "基金支付情况",
)

LINES: tuple[Line, ...] = (
    Line(1, "本月指标", Q, "quota"),
    Line(2, "上月指标结余", Q, "within_year(prev_L18)"),
    Line(3, "本月联网垫付统筹申请", Q, "L9 + L10 - L11 + L12"),
    Line(4, "上月联网垫付超标剩余", Q, "L13"),
    Line(5, "本月筛查审核拒付", Q, "screening_rejections"),
    Line(6, "上月筛查审核拒付剩余", Q, "prev_screening_remaining"),
    Line(7, "上月筛查审核拒付调整", Q, "screening_adjustments"),
    Line(8, "本月有效指标", Q, "max(0, L1 + L2 - L5 - L6 + L7)"),
    Line(9, "本月联网统筹申请", C, "pooled_claims"),
    Line(10, "本月统筹调整支付", C, "pooled_adjustments"),
    Line(11, "本月智能审核拒付", C, "smart_rejections"),
    Line(12, "本月智能审核拒付调整", C, "smart_rejection_adjustments"),
    Line(13, "上月统筹申请超标", C, "prev_L19"),
    Line(14, "本月有效统筹申请", C, "L3 + L4"),
    Line(15, "本月统筹应支付金额", C, "min(L14, L8)"),
    Line(16, "本月考核预留金额", C, "reserve(L15)"),
    Line(17, "本月统筹支付金额", C, "L15 - L16"),
    Line(18, "本月指标结余", C, "L8 - L15"),
    Line(19, "本月统筹申请超标", C, "L14 - L15"),
    Line(20, "其他", C, "reserve_release + other_payments"),
    Line(21, "清算应收回金额", Y, "prev_L23 + recovery_due"),
    Line(22, "清算实际收回金额", Y, "min(L21, L17 + L20)"),
    Line(23, "清算收回剩余额", Y, "L21 - L22"),
    Line(24, "大额救助申请", R, "relief_claims"),
    Line(25, "大额救助调整支付", R, "relief_adjustments"),
    Line(26, "大额救助审核拒付", R, "relief_rejections"),
    Line(27, "大额救助拒付调整", R, "relief_rejection_adjustments"),
    Line(28, "大额救助考核预留", R, "reserve(L24 + L25 - L26 + L27)"),
    Line(29, "城职大病补助申请", R, "subsidy_claims"),
    Line(30, "城职大病补助调整支付", R, "subsidy_adjustments"),
    Line(31, "城职大病补助审核拒付", R, "subsidy_rejections"),
    Line(32, "城职大病补助拒付调整", R, "subsidy_rejection_adjustments"),
    Line(33, "本月实际统筹支付", P, "L17 + L20 - L22"),
    Line(34, "大额救助支付", P, "L24 + L25 - L26 + L27 - L28 + relief_reserve_release"),
    Line(35, "城职大病补助支付", P, "L29 + L30 - L31 + L32"),
    Line(36, "公务员补助金额", P, "civil_servant_subsidy"),
    Line(37, "军残补助金额", P, "disabled_soldier_subsidy"),
    Line(38, "医疗救助金额", P, "medical_assistance"),
    Line(39, "民政优抚金额", P, "civil_affairs_relief"),
    Line(40, "个人账户", P, "personal_account"),
    Line(41, "本月支付合计", P, "L33 + L34 + L35 + L36 + L37 + L38 + L39 + L40"),
)

# What a month hands to the next beyond its lines (not printed on the table, kept with the clearing).
CARRIES: dict[str, tuple[str, str]] = {
    "screening_remaining": ("本月筛查审核拒付剩余（下月第6行）", "max(0, L5 + L6 - L7 - L1 - L2)"),
}

# Previous-month values a formula may name, and which line or carry of the previous month they are.
PREVIOUS: dict[str, str] = {
    "prev_L18": "L18",
    "prev_L19": "L19",
    "prev_L23": "L23",
    "prev_screening_remaining": "screening_remaining",
}

BY_NUMBER: dict[int, Line] = {line.number: line for line in LINES}
FUNCTIONS = frozenset({"min", "max", "reserve", "within_year"})

# Why a negative line refuses the clearing.
NEGATIVE_REASONS = {
    3: "智能审核拒付超过了本月统筹申请与调整",
    34: "大额救助审核拒付超过了大额救助申请与调整",
    35: "城职大病补助审核拒付超过了申请与调整",
}


@dataclass(frozen=True)
class Carried:
    """What the previous month of the same facility, insurance type and care type left."""

    L18: Decimal = ZERO  # quota surplus
    L19: Decimal = ZERO  # excess claims deferred
    L23: Decimal = ZERO  # last year's recovery still to recover
    screening_remaining: Decimal = ZERO

    @classmethod
    def of(cls, clearing: Clearing) -> Carried:
        return cls(
            L18=clearing.lines[18], L19=clearing.lines[19], L23=clearing.lines[23],
            screening_remaining=clearing.carry["screening_remaining"],
        )  # fmt: skip

    def as_dict(self) -> dict[str, Decimal]:
        return {
            "L18": self.L18,
            "L19": self.L19,
            "L23": self.L23,
            "screening_remaining": self.screening_remaining,
        }


@dataclass(frozen=True)
class Clearing:
    """The computed table: every line, the carries for next month, and what it was computed from."""

    lines: dict[int, Decimal]
    carry: dict[str, Decimal]
    inputs: dict[str, Decimal]
    previous: dict[str, Decimal]
    reserve_rate: Decimal
    month: int

    def trace(self, number: int) -> dict[str, object]:
        """Line `number`: its formula and the value of every source it was computed from."""
        line = BY_NUMBER[number]
        return {
            "number": number,
            "name": line.name,
            "section": line.section,
            "formula": line.formula,
            "value": self.lines[number],
            "sources": {name: self._value_of(name) for name in line.sources},
        }

    def _value_of(self, name: str) -> Decimal:
        if name.startswith("L") and name[1:].isdigit():
            return self.lines[int(name[1:])]
        if name in PREVIOUS:
            return self.previous[name]
        return self.inputs[name]


class _Evaluator:
    def __init__(
        self,
        inputs: Mapping[str, Decimal],
        previous: Mapping[str, Decimal],
        reserve_rate: Decimal,
        month: int,
    ):
        self.inputs, self.previous, self.reserve_rate, self.month = inputs, previous, reserve_rate, month
        self.lines: dict[int, Decimal] = {}
        self._busy: set[int] = set()

    def line(self, number: int) -> Decimal:
        if number not in self.lines:
            if number in self._busy:
                raise ValueError(f"line {number} depends on itself")
            self._busy.add(number)
            self.lines[number] = to_money(self.eval(BY_NUMBER[number].tree))
            self._busy.discard(number)
        return self.lines[number]

    def eval(self, node: ast.expr) -> Decimal:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = self.eval(node.left), self.eval(node.right)
            return left + right if isinstance(node.op, ast.Add) else left - right
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            return Decimal(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            args = [self.eval(a) for a in node.args]
            match node.func.id:
                case "min":
                    return min(args)
                case "max":
                    return max(args)
                case "reserve":
                    return split_ratio(to_money(args[0]), self.reserve_rate)[0] if args[0] > 0 else ZERO
                case "within_year":
                    return ZERO if self.month == 1 else args[0]
        raise ValueError(f"formula element not allowed: {ast.dump(node)}")

    def name(self, name: str) -> Decimal:
        if name.startswith("L") and name[1:].isdigit():
            return self.line(int(name[1:]))
        if name in PREVIOUS:
            return self.previous[name]
        if name in INPUTS:
            return self.inputs[name]
        raise ValueError(f"unknown name in a formula: {name}")


def compute(inputs: Mapping[str, Decimal], carried: Carried, reserve_rate: Decimal, month: int) -> Clearing:
    """The 41 lines of a month from its inputs and the previous month's carries. Pure; inputs in yuan.

    Refuses (409 ``clearing_negative_line``) when a line the table forbids to be negative would be.
    """
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    if not Decimal(0) <= reserve_rate <= Decimal(1):
        raise ValueError("reserve rate must be between 0 and 1")
    unknown = set(inputs) - set(INPUTS)
    if unknown:
        raise ValueError(f"unknown inputs: {sorted(unknown)}")
    full = {name: to_money(inputs.get(name, ZERO)) for name in INPUTS}
    negative_inputs = [n for n, v in full.items() if v < 0]
    if negative_inputs:
        raise ValueError(f"inputs must not be negative: {negative_inputs}")
    previous = {name: to_money(carried.as_dict()[source]) for name, source in PREVIOUS.items()}
    evaluator = _Evaluator(full, previous, reserve_rate, month)
    for line in LINES:
        evaluator.line(line.number)
    carry = {
        name: to_money(evaluator.eval(ast.parse(formula, mode="eval").body))
        for name, (_, formula) in CARRIES.items()
    }
    lines = dict(sorted(evaluator.lines.items()))
    for line in LINES:
        if line.non_negative and lines[line.number] < 0:
            reason = NEGATIVE_REASONS.get(line.number, "")
            raise Conflict(
                "clearing_negative_line", "清算结果出现负数，不能清算",
                f"第{line.number}行「{line.name}」为 {lines[line.number]}（{line.formula}）{('：' + reason) if reason else ''}",
                line=line.number,
            )  # fmt: skip
    return Clearing(
        lines=lines, carry=carry, inputs=full, previous=previous, reserve_rate=reserve_rate, month=month
    )


def markdown_table() -> str:
    """The README's table: line → name → formula."""
    rows = ["| line | 名称 | section | formula |", "| ---: | --- | --- | --- |"]
    rows += [f"| {line.number} | {line.name} | {line.section} | `{line.formula}` |" for line in LINES]
    rows += [f"| carry | {desc} | — | `{formula}` |" for _, (desc, formula) in CARRIES.items()]
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
