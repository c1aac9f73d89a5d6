"""The yearly assessment (年度考核): reserve released by the score, last year's recovery, booked as entries."""

from __future__ import annotations

from decimal import Decimal

from shared.auth import Principal
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid
from shared.money import split_ratio
from svc_settlement.domain.declaration import (
    Period,
)
from svc_settlement.domain.entries import ENTRY_KINDS
from svc_settlement.repository import Repository
from svc_settlement.usecases.access import (
    facility_for_staff,
)
from svc_settlement.usecases.entries import add_entry


async def record_assessment(
    uow: UnitOfWork, actor: Principal, *, facility_code: str, year: int, insurance_type: str, care_type: str,
    score_ratio: Decimal, recovery: Decimal, book_in: str, reason: str,
) -> list[dict]:  # fmt: skip
    """The yearly assessment (年度考核): releases `score_ratio` of the year's withheld reserve and records last
    year's recovery, both booked into the clearing of month `book_in` (lines 20, 21 and 34)."""
    repo = Repository(uow)
    await facility_for_staff(repo, facility_code, actor)
    if not Decimal(0) <= score_ratio <= Decimal(1):
        raise Invalid(
            "invalid_assessment",
            "考核得分比例应在 0 到 1 之间",
            errors=[{"field": "body.score_ratio", "message": "应在 0 到 1 之间"}],
        )
    if Period.parse(book_in).year <= year:
        raise Invalid(
            "invalid_assessment",
            "考核结果须计入考核年度之后的月份",
            errors=[{"field": "body.book_in", "message": f"应晚于 {year} 年"}],
        )
    marker = f"{year}年度考核"
    if any(
        e["reason"].startswith(marker)
        for e in await repo.entries_of(facility_code, None, insurance_type, care_type)
    ):
        raise Conflict("assessment_exists", "该年度考核结果已录入")
    pooled, relief = await repo.reserve_held(facility_code, year, insurance_type, care_type)
    made = []
    for kind, amount in (("reserve_release", split_ratio(pooled, score_ratio)[0]),
                         ("relief_reserve_release", split_ratio(relief, score_ratio)[0]), ("recovery_due", recovery)):  # fmt: skip
        if amount > 0:
            text = f"{marker}：得分比例 {score_ratio}，{ENTRY_KINDS[kind][1]}。{reason}"
            entry = await add_entry(uow, actor, facility_code=facility_code, period=book_in, insurance_type=insurance_type,
                                    care_type=care_type, kind=kind, amount=amount, reason=text[:500])  # fmt: skip
            made.append(entry)
    return made
