"""Loading and saving settlement rows (plain SQL through SQLAlchemy Core)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, cast, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import upsert_newer
from svc_settlement.domain.clearing import Carried, Clearing
from svc_settlement.models import (
    budget_history, budgets, clearing_history, clearings, declarations, entries, facilities, payments,
)  # fmt: skip


def money_map(values: dict[Any, Decimal]) -> dict[str, str]:
    return {str(k): format(v, "f") for k, v in values.items()}


def decimal_map(values: dict[str, str], int_keys: bool = False) -> dict:
    return {(int(k) if int_keys else k): Decimal(v) for k, v in values.items()}


class Repository:
    def __init__(self, session: AsyncSession):
        self.session = session

    # ---- facility projection
    async def record_facility_if_newer(self, row: dict) -> None:
        await upsert_newer(self.session, facilities, row | {"recorded_at": func.now()})

    async def facility(self, code: str) -> dict | None:
        row = (await self.session.execute(select(facilities).where(facilities.c.code == code))).mappings().first()
        return dict(row) if row else None

    # ---- budgets
    async def budget(self, facility_code: str, year: int, insurance_type: str, care_type: str, for_update: bool = False) -> dict | None:
        query = select(budgets).where(
            budgets.c.facility_code == facility_code, budgets.c.year == year,
            budgets.c.insurance_type == insurance_type, budgets.c.care_type == care_type,
        )  # fmt: skip
        row = (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        return dict(row) if row else None

    async def budget_by_id(self, budget_id: uuid.UUID) -> dict | None:
        row = (await self.session.execute(select(budgets).where(budgets.c.id == budget_id))).mappings().first()
        return dict(row) if row else None

    async def save_budget(self, row: dict, by: str, reason: str) -> None:
        statement = insert(budgets).values(**row)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["id"], set_={k: statement.excluded[k] for k in row if k != "id"})
        )
        await self.session.execute(
            insert(budget_history).values(
                budget_id=row["id"], version=row["version"], total=row["total"], weights=row["weights"],
                quotas=row["quotas"], by=by, at=row["updated_at"], reason=reason,
            )
        )  # fmt: skip

    async def budgets_of(self, facility_codes: Sequence[str] | None, year: int | None, offices: Sequence[str] | None,
                         limit: int | None = 1000) -> list[dict]:  # fmt: skip
        query = select(budgets).order_by(budgets.c.facility_code, budgets.c.year, budgets.c.insurance_type, budgets.c.care_type)
        if facility_codes is not None:
            query = query.where(budgets.c.facility_code.in_(facility_codes))
        if offices is not None:
            query = query.where(budgets.c.facility_code.in_(select(facilities.c.code).where(facilities.c.office_code.in_(offices))))
        if year is not None:
            query = query.where(budgets.c.year == year)
        return [dict(r) for r in (await self.session.execute(query.limit(limit))).mappings()]

    async def budget_history(self, budget_id: uuid.UUID) -> list[dict]:
        rows = await self.session.execute(select(budget_history).where(budget_history.c.budget_id == budget_id).order_by(budget_history.c.version))
        return [dict(r) for r in rows.mappings()]

    # ---- declarations
    async def latest_declaration(self, facility_code: str, period: str, insurance_type: str, for_update: bool = False) -> dict | None:
        query = (
            select(declarations)
            .where(declarations.c.facility_code == facility_code, declarations.c.period == period, declarations.c.insurance_type == insurance_type)
            .order_by(declarations.c.version.desc())
            .limit(1)
        )
        row = (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        return dict(row) if row else None

    async def add_declaration(self, row: dict, bills: Iterable[dict]) -> None:
        """The declaration, and its bills by COPY (a million bill details must not take minutes)."""
        await self.session.execute(insert(declarations).values(**row))
        records = [(row["id"], b["bill_no"], b["care_type"], b["origin"], json.dumps(b["amounts"])) for b in bills]
        if not records:
            return
        connection = await (await self.session.connection()).get_raw_connection()
        await connection.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "declaration_bills", records=records, columns=["declaration_id", "bill_no", "care_type", "origin", "amounts"]
        )

    async def declaration(self, declaration_id: uuid.UUID) -> dict | None:
        row = (await self.session.execute(select(declarations).where(declarations.c.id == declaration_id))).mappings().first()
        return dict(row) if row else None

    async def declarations_of(self, facility_code: str | None, period: str | None, offices: Sequence[str] | None) -> list[dict]:
        query = select(declarations).order_by(declarations.c.period, declarations.c.facility_code, declarations.c.version)
        if facility_code:
            query = query.where(declarations.c.facility_code == facility_code)
        if period:
            query = query.where(declarations.c.period == period)
        if offices is not None:
            query = query.where(declarations.c.facility_code.in_(select(facilities.c.code).where(facilities.c.office_code.in_(offices))))
        return [dict(r) for r in (await self.session.execute(query.limit(500))).mappings()]

    # ---- staff entries
    async def add_entry(self, row: dict) -> None:
        await self.session.execute(insert(entries).values(**row))

    async def entries_of(self, facility_code: str, period: str | None = None, insurance_type: str | None = None, care_type: str | None = None) -> list[dict]:
        query = select(entries).where(entries.c.facility_code == facility_code).order_by(entries.c.at)
        for column, value in ((entries.c.period, period), (entries.c.insurance_type, insurance_type), (entries.c.care_type, care_type)):
            if value is not None:
                query = query.where(column == value)
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    # ---- clearings
    async def clearing_at(self, facility_code: str, period: str, insurance_type: str, care_type: str, for_update: bool = False) -> dict | None:
        query = select(clearings).where(
            clearings.c.facility_code == facility_code, clearings.c.period == period,
            clearings.c.insurance_type == insurance_type, clearings.c.care_type == care_type,
        )  # fmt: skip
        row = (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        return dict(row) if row else None

    async def clearing(self, clearing_id: uuid.UUID, for_update: bool = False) -> dict | None:
        query = select(clearings).where(clearings.c.id == clearing_id)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        return dict(row) if row else None

    async def clearings_of(self, facility_code: str | None, period: str | None, status: str | None, offices: Sequence[str] | None,
                           offset: int = 0, limit: int = 100) -> tuple[list[dict], int]:  # fmt: skip
        conditions = []
        if facility_code:
            conditions.append(clearings.c.facility_code == facility_code)
        if period:
            conditions.append(clearings.c.period == period)
        if status:
            conditions.append(clearings.c.status == status)
        if offices is not None:
            conditions.append(clearings.c.office_code.in_(offices))
        total = (await self.session.execute(select(func.count()).select_from(clearings).where(*conditions))).scalar_one()
        query = select(clearings).where(*conditions).order_by(clearings.c.period, clearings.c.facility_code, clearings.c.insurance_type, clearings.c.care_type)
        return [dict(r) for r in (await self.session.execute(query.offset(offset).limit(limit))).mappings()], total

    async def save_clearing(self, row: dict, cause: str, by: str) -> None:
        statement = insert(clearings).values(**row)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["id"], set_={k: statement.excluded[k] for k in row if k != "id"})
        )
        await self.session.execute(
            insert(clearing_history).values(
                clearing_id=row["id"], version=row["version"], lines=row["lines"], inputs=row["inputs"], cause=cause[:200],
                by=by, at=row["computed_at"],
            )
        )  # fmt: skip

    async def update_clearing(self, clearing_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(update(clearings).where(clearings.c.id == clearing_id).values(**values))

    async def clearing_history(self, clearing_id: uuid.UUID) -> list[dict]:
        rows = await self.session.execute(select(clearing_history).where(clearing_history.c.clearing_id == clearing_id).order_by(clearing_history.c.version))
        return [dict(r) for r in rows.mappings()]

    # ---- one facility, insurance type and care type at once (the clearing chain)
    async def clearings_of_key(self, facility_code: str, insurance_type: str, care_type: str, for_update: bool = False) -> list[dict]:
        query = select(clearings).where(
            clearings.c.facility_code == facility_code, clearings.c.insurance_type == insurance_type, clearings.c.care_type == care_type,
        ).order_by(clearings.c.period)  # fmt: skip
        return [dict(r) for r in (await self.session.execute(query.with_for_update() if for_update else query)).mappings()]

    async def cleared_care_types(self, facility_code: str, insurance_type: str) -> list[str]:
        query = select(clearings.c.care_type).where(
            clearings.c.facility_code == facility_code, clearings.c.insurance_type == insurance_type,
        ).distinct()  # fmt: skip
        return sorted((await self.session.execute(query)).scalars())

    async def latest_declarations(self, facility_code: str, insurance_type: str) -> dict[str, dict]:
        """period → the latest version of that month's declaration."""
        query = (
            select(declarations.c.period, declarations.c.version, declarations.c.totals, declarations.c.declared_on)
            .where(declarations.c.facility_code == facility_code, declarations.c.insurance_type == insurance_type)
            .order_by(declarations.c.period, declarations.c.version.desc())
            .distinct(declarations.c.period)
        )
        return {r["period"]: dict(r) for r in (await self.session.execute(query)).mappings()}

    async def entries_of_key(self, facility_code: str, insurance_type: str, care_type: str) -> list[dict]:
        query = select(entries.c.period, entries.c.kind, entries.c.amount).where(
            entries.c.facility_code == facility_code, entries.c.insurance_type == insurance_type, entries.c.care_type == care_type,
        )  # fmt: skip
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def budgets_of_key(self, facility_code: str, insurance_type: str, care_type: str) -> dict[int, dict]:
        query = select(budgets).where(
            budgets.c.facility_code == facility_code, budgets.c.insurance_type == insurance_type, budgets.c.care_type == care_type,
        )  # fmt: skip
        return {r["year"]: dict(r) for r in (await self.session.execute(query)).mappings()}

    async def budgeted_care_types(self, facility_code: str, year: int, insurance_type: str) -> set[str]:
        query = select(budgets.c.care_type).where(
            budgets.c.facility_code == facility_code, budgets.c.year == year, budgets.c.insurance_type == insurance_type,
        )  # fmt: skip
        return set((await self.session.execute(query)).scalars())

    async def unbudgeted_declarations(self, offices: Sequence[str] | None, period: str | None = None,
                                      facility_code: str | None = None) -> list[dict]:  # fmt: skip
        """Latest declarations naming a care type that has no budget for their year: no table can be computed."""
        latest = declarations.alias("newer")
        care = func.jsonb_object_keys(declarations.c.totals).table_valued("value").render_derived("care", with_types=False)
        query = (
            select(declarations.c.id, declarations.c.facility_code, declarations.c.period, declarations.c.insurance_type,
                   care.c.value.label("care_type"), declarations.c.declared_on)  # fmt: skip
            .select_from(declarations.join(care, true()).join(facilities, facilities.c.code == declarations.c.facility_code))
            .where(
                ~select(latest.c.id).where(
                    latest.c.facility_code == declarations.c.facility_code, latest.c.period == declarations.c.period,
                    latest.c.insurance_type == declarations.c.insurance_type, latest.c.version > declarations.c.version,
                ).exists(),
                ~select(budgets.c.id).where(
                    budgets.c.facility_code == declarations.c.facility_code, budgets.c.insurance_type == declarations.c.insurance_type,
                    budgets.c.year == cast(func.substr(declarations.c.period, 1, 4), Integer), budgets.c.care_type == care.c.value,
                ).exists(),
            )
            .order_by(declarations.c.declared_on, declarations.c.facility_code)
        )  # fmt: skip
        if offices is not None:
            query = query.where(facilities.c.office_code.in_(offices))
        if period is not None:
            query = query.where(declarations.c.period == period)
        if facility_code is not None:
            query = query.where(declarations.c.facility_code == facility_code)
        return [dict(r) for r in (await self.session.execute(query.limit(5000))).mappings()]

    # ---- payments (the ledger: a month's table paid once, an earlier month at most once per table)
    async def add_payments(self, rows: list[dict]) -> None:
        await self.session.execute(insert(payments), rows)

    async def reserve_held(self, facility_code: str, year: int, insurance_type: str, care_type: str) -> tuple[Decimal, Decimal]:
        """The pooled-fund (line 16) and relief (line 28) reserve withheld over a year's clearings."""
        rows = await self.session.execute(
            select(clearings.c.lines).where(
                clearings.c.facility_code == facility_code, clearings.c.period.like(f"{year:04d}-%"),
                clearings.c.insurance_type == insurance_type, clearings.c.care_type == care_type,
            )
        )  # fmt: skip
        pooled = relief = Decimal("0.00")
        for (lines,) in rows:
            pooled += Decimal(lines["16"])
            relief += Decimal(lines["28"])
        return pooled, relief


def carried_of(row: dict | None) -> Carried:
    if row is None:
        return Carried()
    lines, carry = row["lines"], row["carry"]
    return Carried(L18=Decimal(lines["18"]), L19=Decimal(lines["19"]), L23=Decimal(lines["23"]),
                   screening_remaining=Decimal(carry["screening_remaining"]))  # fmt: skip


def clearing_of(row: dict) -> Clearing:
    """A stored clearing as the domain computed it."""
    return Clearing(
        lines={int(k): Decimal(v) for k, v in row["lines"].items()}, carry=decimal_map(row["carry"]), inputs=decimal_map(row["inputs"]),
        previous=decimal_map(row["previous"]), reserve_rate=Decimal(row["reserve_rate"]), month=int(row["period"][5:]),
    )  # fmt: skip


def clearing_columns(c: Clearing) -> dict:
    return {
        "lines": money_map(c.lines), "carry": money_map(c.carry), "inputs": money_map(c.inputs),
        "previous": money_map(c.previous), "reserve_rate": c.reserve_rate,
    }  # fmt: skip
