"""Monthly declarations (a correction is a new version) and their bills."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Integer, bindparam, cast, func, select, true
from sqlalchemy.dialects.postgresql import insert

from shared.db import OnUnitOfWork, Prepared
from svc_settlement.models import budgets, declarations, facilities

# A monthly declaration's statements: built once, sent straight to asyncpg with each declaration's values.
_LATEST_OF_MONTH = (
    select(declarations)
    .where(
        declarations.c.facility_code == bindparam("of_facility"),
        declarations.c.period == bindparam("of_period"),
        declarations.c.insurance_type == bindparam("of_type"),
    )
    .order_by(declarations.c.version.desc())
    .limit(1)
)
_LATEST, _LATEST_LOCKED = Prepared(_LATEST_OF_MONTH), Prepared(_LATEST_OF_MONTH.with_for_update())
_ADD = Prepared(insert(declarations).values({c.key: bindparam(c.key) for c in declarations.c}))


class DeclarationRows(OnUnitOfWork):
    async def latest_declaration(
        self, facility_code: str, period: str, insurance_type: str, for_update: bool = False
    ) -> dict | None:
        key = {"of_facility": facility_code, "of_period": period, "of_type": insurance_type}
        rows = await self.uow.execute(_LATEST_LOCKED if for_update else _LATEST, key)
        return dict(rows[0]) if rows else None

    async def add_declaration(self, row: dict, bills: Iterable[dict]) -> None:
        """The declaration, and its bills by COPY (a million bill details must not take minutes)."""
        await self.uow.execute(_ADD, row)
        records = [
            (row["id"], b["bill_no"], b["care_type"], b["origin"], json.dumps(b["amounts"])) for b in bills
        ]
        if records:
            await self.uow.copy_records_to_table(
                "declaration_bills",
                records=records,
                columns=["declaration_id", "bill_no", "care_type", "origin", "amounts"],
            )

    async def declaration(self, declaration_id: uuid.UUID) -> dict | None:
        row = (
            (await self.session.execute(select(declarations).where(declarations.c.id == declaration_id)))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    async def declarations_of(
        self, facility_code: str | None, period: str | None, offices: Sequence[str] | None
    ) -> list[dict]:
        query = select(declarations).order_by(
            declarations.c.period, declarations.c.facility_code, declarations.c.version
        )
        if facility_code:
            query = query.where(declarations.c.facility_code == facility_code)
        if period:
            query = query.where(declarations.c.period == period)
        if offices is not None:
            query = query.where(
                declarations.c.facility_code.in_(
                    select(facilities.c.code).where(facilities.c.office_code.in_(offices))
                )
            )
        return [dict(r) for r in (await self.session.execute(query.limit(500))).mappings()]

    async def latest_declarations(self, facility_code: str, insurance_type: str) -> dict[str, dict]:
        """period → the latest version of that month's declaration."""
        query = (
            select(
                declarations.c.period,
                declarations.c.version,
                declarations.c.totals,
                declarations.c.declared_on,
            )
            .where(
                declarations.c.facility_code == facility_code, declarations.c.insurance_type == insurance_type
            )
            .order_by(declarations.c.period, declarations.c.version.desc())
            .distinct(declarations.c.period)
        )
        return {r["period"]: dict(r) for r in (await self.session.execute(query)).mappings()}

    async def unbudgeted_declarations(self, offices: Sequence[str] | None, period: str | None = None,
                                      facility_code: str | None = None) -> list[dict]:  # fmt: skip
        """Latest declarations naming a care type that has no budget for their year: no table can be computed."""
        latest = declarations.alias("newer")
        care = (
            func.jsonb_object_keys(declarations.c.totals)
            .table_valued("value")
            .render_derived("care", with_types=False)
        )
        query = (
            select(declarations.c.id, declarations.c.facility_code, declarations.c.period, declarations.c.insurance_type,
                   care.c.value.label("care_type"), declarations.c.declared_on)
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
