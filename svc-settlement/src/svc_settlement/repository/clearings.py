"""Clearing tables, their history and the payment ledger; a stored table as the domain computed it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.db import OnUnitOfWork, Prepared
from svc_settlement.domain.clearing import Carried, Clearing
from svc_settlement.models import clearing_history, clearings, payments

# Read with every declaration (the tables it changes): built once, sent straight to asyncpg.
_CLEARED_CARE_TYPES = Prepared(
    select(clearings.c.care_type)
    .where(
        clearings.c.facility_code == bindparam("of_facility"),
        clearings.c.insurance_type == bindparam("of_type"),
    )
    .distinct()
)


class ClearingRows(OnUnitOfWork):
    async def clearing_at(
        self, facility_code: str, period: str, insurance_type: str, care_type: str, for_update: bool = False
    ) -> dict | None:
        query = select(clearings).where(
            clearings.c.facility_code == facility_code, clearings.c.period == period,
            clearings.c.insurance_type == insurance_type, clearings.c.care_type == care_type,
        )  # fmt: skip
        row = (
            (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        )
        return dict(row) if row else None

    async def clearing(self, clearing_id: uuid.UUID, for_update: bool = False) -> dict | None:
        query = select(clearings).where(clearings.c.id == clearing_id)
        row = (
            (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        )
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
        total = (
            await self.session.execute(select(func.count()).select_from(clearings).where(*conditions))
        ).scalar_one()
        query = (
            select(clearings)
            .where(*conditions)
            .order_by(
                clearings.c.period,
                clearings.c.facility_code,
                clearings.c.insurance_type,
                clearings.c.care_type,
            )
        )
        return [
            dict(r) for r in (await self.session.execute(query.offset(offset).limit(limit))).mappings()
        ], total

    async def save_clearing(self, row: dict, cause: str, by: str) -> None:
        statement = insert(clearings).values(**row)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"], set_={k: statement.excluded[k] for k in row if k != "id"}
            )
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
        rows = await self.session.execute(
            select(clearing_history)
            .where(clearing_history.c.clearing_id == clearing_id)
            .order_by(clearing_history.c.version)
        )
        return [dict(r) for r in rows.mappings()]

    async def clearings_of_key(
        self, facility_code: str, insurance_type: str, care_type: str, for_update: bool = False
    ) -> list[dict]:
        query = select(clearings).where(
            clearings.c.facility_code == facility_code, clearings.c.insurance_type == insurance_type, clearings.c.care_type == care_type,
        ).order_by(clearings.c.period)  # fmt: skip
        return [
            dict(r)
            for r in (await self.session.execute(query.with_for_update() if for_update else query)).mappings()
        ]

    async def cleared_care_types(self, facility_code: str, insurance_type: str) -> list[str]:
        key = {"of_facility": facility_code, "of_type": insurance_type}
        return sorted(row[0] for row in await self.uow.execute(_CLEARED_CARE_TYPES, key))

    async def add_payments(self, rows: list[dict]) -> None:
        await self.session.execute(insert(payments), rows)

    async def reserve_held(
        self, facility_code: str, year: int, insurance_type: str, care_type: str
    ) -> tuple[Decimal, Decimal]:
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

    async def unpaid_deadline_rows(self) -> list[dict]:
        """The tables not yet paid, with what their payment deadline counts from."""
        query = select(clearings.c.declared_on, clearings.c.period, clearings.c.payment).where(
            clearings.c.status != "paid"
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()]


def money_map(values: dict[Any, Decimal]) -> dict[str, str]:
    return {str(k): format(v, "f") for k, v in values.items()}


def decimal_map(values: dict[str, str], int_keys: bool = False) -> dict:
    return {(int(k) if int_keys else k): Decimal(v) for k, v in values.items()}


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
