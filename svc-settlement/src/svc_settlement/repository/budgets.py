"""Yearly budgets and their change history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert

from shared.db import OnUnitOfWork, Prepared
from svc_settlement.models import budget_history, budgets, facilities

# Read with every declaration (its flags): built once, sent straight to asyncpg.
_BUDGETED_CARE_TYPES = Prepared(
    select(budgets.c.care_type).where(
        budgets.c.facility_code == bindparam("of_facility"), budgets.c.year == bindparam("of_year"),
        budgets.c.insurance_type == bindparam("of_type"),
    )
)  # fmt: skip


class BudgetRows(OnUnitOfWork):
    async def budget(
        self, facility_code: str, year: int, insurance_type: str, care_type: str, for_update: bool = False
    ) -> dict | None:
        query = select(budgets).where(
            budgets.c.facility_code == facility_code, budgets.c.year == year,
            budgets.c.insurance_type == insurance_type, budgets.c.care_type == care_type,
        )  # fmt: skip
        row = (
            (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        )
        return dict(row) if row else None

    async def budget_by_id(self, budget_id: uuid.UUID) -> dict | None:
        row = (
            (await self.session.execute(select(budgets).where(budgets.c.id == budget_id))).mappings().first()
        )
        return dict(row) if row else None

    async def save_budget(self, row: dict, by: str, reason: str) -> None:
        statement = insert(budgets).values(**row)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"], set_={k: statement.excluded[k] for k in row if k != "id"}
            )
        )
        await self.session.execute(
            insert(budget_history).values(
                budget_id=row["id"], version=row["version"], total=row["total"], weights=row["weights"],
                quotas=row["quotas"], by=by, at=row["updated_at"], reason=reason,
            )
        )  # fmt: skip

    async def budgets_of(self, facility_codes: Sequence[str] | None, year: int | None, offices: Sequence[str] | None,
                         limit: int | None = 1000) -> list[dict]:  # fmt: skip
        query = select(budgets).order_by(
            budgets.c.facility_code, budgets.c.year, budgets.c.insurance_type, budgets.c.care_type
        )
        if facility_codes is not None:
            query = query.where(budgets.c.facility_code.in_(facility_codes))
        if offices is not None:
            query = query.where(
                budgets.c.facility_code.in_(
                    select(facilities.c.code).where(facilities.c.office_code.in_(offices))
                )
            )
        if year is not None:
            query = query.where(budgets.c.year == year)
        return [dict(r) for r in (await self.session.execute(query.limit(limit))).mappings()]

    async def budget_history(self, budget_id: uuid.UUID) -> list[dict]:
        rows = await self.session.execute(
            select(budget_history)
            .where(budget_history.c.budget_id == budget_id)
            .order_by(budget_history.c.version)
        )
        return [dict(r) for r in rows.mappings()]

    async def budgets_of_key(
        self, facility_code: str, insurance_type: str, care_type: str
    ) -> dict[int, dict]:
        query = select(budgets).where(
            budgets.c.facility_code == facility_code, budgets.c.insurance_type == insurance_type, budgets.c.care_type == care_type,
        )  # fmt: skip
        return {r["year"]: dict(r) for r in (await self.session.execute(query)).mappings()}

    async def budgeted_care_types(self, facility_code: str, year: int, insurance_type: str) -> set[str]:
        key = {"of_facility": facility_code, "of_year": year, "of_type": insurance_type}
        return {row[0] for row in await self.uow.execute(_BUDGETED_CARE_TYPES, key)}
