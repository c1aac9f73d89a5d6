"""Loading and saving the coverage projection and the per-person benefit years."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import Insert, insert

from shared.db import OnUnitOfWork, Prepared
from svc_claims.domain.account import Entry, EntryKind
from svc_claims.domain.benefits import Accumulators
from svc_claims.domain.eligibility import Coverage, Entitlement
from svc_claims.models import account_entries, benefit_years, coverages, entitlements, facilities

# Every eligibility check and bill reads these two: plain SQL on the driver (UnitOfWork.fetch).
_COVERAGE = list(Coverage.__dataclass_fields__)
_ENTITLEMENT = list(Entitlement.__dataclass_fields__)
COVERAGES_OF = f"SELECT {', '.join(_COVERAGE)} FROM coverages WHERE person_id = $1"
ENTITLEMENTS_OF = f"SELECT {', '.join(_ENTITLEMENT)} FROM entitlements WHERE person_id = $1"
_BOTH = _COVERAGE + [f for f in _ENTITLEMENT if f not in _COVERAGE]


def _rows_of(table: Table, other: Table) -> str:
    """One side of a UNION ALL of both kinds of row: the table's own columns, the other's as typed NULLs."""
    columns = [f if f in table.c else f"NULL::{other.c[f].type.compile(dialect=postgresql.dialect())} AS {f}"
               for f in _BOTH]  # fmt: skip
    return f"SELECT '{table.name}' AS row_of, {', '.join(columns)} FROM {table.name} WHERE person_id = $1"


# The eligibility read, the most frequent request of all, takes both in one round trip.
COVERAGES_AND_ENTITLEMENTS_OF = (
    f"{_rows_of(coverages, entitlements)} UNION ALL {_rows_of(entitlements, coverages)}"
)


def _coverage_upsert() -> Insert:
    statement = insert(coverages).values({c: bindparam(c) for c in [*_COVERAGE, "source_event_id"]})
    changes: dict[str, Any] = {
        c: statement.excluded[c] for c in [*_COVERAGE, "source_event_id"] if c != "enrollment_id"
    }
    # A repeated approval (retirement …) never undoes an end recorded meanwhile (LEAST skips NULL).
    changes["benefit_end"] = func.least(coverages.c.benefit_end, statement.excluded.benefit_end)
    return statement.on_conflict_do_update(index_elements=["enrollment_id"], set_=changes)


# Built once, sent straight to asyncpg with each coverage's values: built per event (its `excluded`
# columns above all), it cost the consumer more than the write itself.
RECORD_COVERAGE = Prepared(_coverage_upsert())

# A person's benefit year, read and written on every bill: statements built once, sent straight to asyncpg
# with each bill's values (building them cost more than running them, and so did SQLAlchemy's execution).
_THE_YEAR = (  # parameters not named as columns: an UPDATE keeps those names for its SET clause
    benefit_years.c.person_id == bindparam("of_person"),
    benefit_years.c.scheme == bindparam("of_scheme"),
    benefit_years.c.year == bindparam("of_year"),
)
# The year's row and the previous year's in one statement, both locked (in the key's order, so two
# bills never wait on each other in a circle): a year's first bill starts from what the previous carries in.
YEAR_AND_PREVIOUS = Prepared(
    select(benefit_years.c.year, benefit_years.c.accumulators)
    .where(*_THE_YEAR[:2], benefit_years.c.year.in_([bindparam("of_year"), bindparam("of_year") - 1]))
    .order_by(benefit_years.c.year)
    .with_for_update()
)
FIRST_BENEFIT_YEAR = Prepared(
    insert(benefit_years)
    .values(person_id=bindparam("of_person"), scheme=bindparam("of_scheme"), year=bindparam("of_year"),
            accumulators=bindparam("accumulators"), version=1)
    .on_conflict_do_nothing()
    .returning(benefit_years.c.version)
)  # fmt: skip
LOCK_BENEFIT_YEAR = Prepared(select(benefit_years.c.accumulators).where(*_THE_YEAR).with_for_update())
READ_BENEFIT_YEAR = Prepared(select(benefit_years.c.accumulators).where(*_THE_YEAR))
SAVE_BENEFIT_YEAR = Prepared(
    update(benefit_years)
    .where(*_THE_YEAR)
    .values(
        accumulators=bindparam("new_accumulators", type_=benefit_years.c.accumulators.type),
        version=benefit_years.c.version + 1,
        updated_at=func.now(),
    )
)
FACILITY = Prepared(select(facilities).where(facilities.c.code == bindparam("of_code")))


def _year_key(person_id: uuid.UUID, scheme: str, year: int) -> dict[str, Any]:
    return {"of_person": person_id, "of_scheme": scheme, "of_year": year}


class Repository(OnUnitOfWork):
    async def record_coverage(self, coverage: Coverage, source_event_id: uuid.UUID) -> None:
        values = {**asdict(coverage), "special_groups": list(coverage.special_groups),
                  "special_group_records": list(coverage.special_group_records), "source_event_id": source_event_id}  # fmt: skip
        await self.uow.execute(RECORD_COVERAGE, values)

    async def end_coverage(self, enrollment_id: uuid.UUID, last_day: date, reason: str | None = None) -> bool:
        """The coverage ends on `last_day` (never later than it already did); False when unknown."""
        values: dict = {"benefit_end": func.least(coverages.c.benefit_end, last_day)}
        if reason is not None:
            values["ended_reason"] = reason
        ended = await self.session.execute(
            update(coverages)
            .where(coverages.c.enrollment_id == enrollment_id)
            .values(values)
            .returning(coverages.c.enrollment_id)
        )
        return ended.first() is not None

    async def book_account_entry(
        self, person_id: uuid.UUID, kind: str, amount: Decimal, on: date, reference: str
    ) -> None:
        """One line of the personal account's history; a reference is booked once per person (events may repeat,
        and claims' own withdrawal and registration's debit of it share the reference)."""
        await self.session.execute(
            insert(account_entries).values(person_id=person_id, kind=kind, amount=amount, booked_on=on, reference=reference)
            .on_conflict_do_nothing(index_elements=["person_id", "reference"])
        )  # fmt: skip

    async def account_history(self, person_id: uuid.UUID) -> list[Entry]:
        rows = await self.session.execute(
            select(account_entries).where(account_entries.c.person_id == person_id)
        )
        return [Entry(EntryKind(r.kind), r.amount, r.booked_on, r.reference) for r in rows]

    async def mark_transferred_out(self, person_id: uuid.UUID) -> None:
        await self.session.execute(
            update(coverages).where(coverages.c.person_id == person_id, coverages.c.scheme.in_(["employee", "flexible"]),
                                    coverages.c.benefit_end.is_not(None)).values(ended_reason="transfer_out")
        )  # fmt: skip

    async def coverages_of(self, person_id: uuid.UUID) -> list[Coverage]:
        return [_coverage(row) for row in await self.uow.fetch(COVERAGES_OF, person_id)]

    async def coverages_and_entitlements_of(
        self, person_id: uuid.UUID
    ) -> tuple[list[Coverage], list[Entitlement]]:
        rows = await self.uow.fetch(COVERAGES_AND_ENTITLEMENTS_OF, person_id)
        return ([_coverage(r) for r in rows if r["row_of"] == coverages.name],
                [_entitlement(r) for r in rows if r["row_of"] == entitlements.name])  # fmt: skip

    async def record_entitlement(self, entitlement: Entitlement, replaces: uuid.UUID | None) -> None:
        values = {**asdict(entitlement), "facility_codes": list(entitlement.facility_codes)}
        await self.session.execute(
            insert(entitlements).values(values).on_conflict_do_nothing(index_elements=["registration_id"])
        )
        if (
            replaces is not None
        ):  # the one it replaces ends the day the new one starts (it may still be unknown)
            await self.session.execute(
                update(entitlements).where(entitlements.c.registration_id == replaces)
                .values(status="replaced", valid_to=func.least(entitlements.c.valid_to, entitlement.valid_from))
            )  # fmt: skip

    async def expire_entitlement(self, registration_id: uuid.UUID, expired_on: date) -> bool:
        ended = await self.session.execute(
            update(entitlements).where(entitlements.c.registration_id == registration_id)
            .values(status="expired", valid_to=func.least(entitlements.c.valid_to, expired_on - timedelta(days=1)))
            .returning(entitlements.c.registration_id)
        )  # fmt: skip
        return ended.first() is not None

    async def entitlements_of(self, person_id: uuid.UUID) -> list[Entitlement]:
        return [_entitlement(row) for row in await self.uow.fetch(ENTITLEMENTS_OF, person_id)]

    async def benefit_year_and_previous(
        self, person_id: uuid.UUID, scheme: str, year: int
    ) -> tuple[Accumulators | None, Accumulators | None]:
        """The person's accumulators for the scheme and year, and for the year before (None where the year
        has no row), both rows locked (SELECT … FOR UPDATE) until the transaction ends."""
        rows = await self.uow.execute(YEAR_AND_PREVIOUS, _year_key(person_id, scheme, year))
        by_year = {row["year"]: ACCUMULATORS.validate_python(row["accumulators"]) for row in rows}
        return by_year.get(year), by_year.get(year - 1)

    async def first_benefit_year(
        self, person_id: uuid.UUID, scheme: str, year: int, accumulators: Accumulators
    ) -> bool:
        """The year's row, made with its first bill counted; False if a concurrent first bill made it first
        (this one has waited for it to commit: the row is there to lock)."""
        values = _year_key(person_id, scheme, year) | {
            "accumulators": ACCUMULATORS.dump_python(accumulators, mode="json")
        }
        return bool(await self.uow.execute(FIRST_BENEFIT_YEAR, values))

    async def lock_benefit_year(self, person_id: uuid.UUID, scheme: str, year: int) -> Accumulators:
        """The year's accumulators, its row locked until the transaction ends (the row must exist)."""
        rows = await self.uow.execute(LOCK_BENEFIT_YEAR, _year_key(person_id, scheme, year))
        return ACCUMULATORS.validate_python(rows[0]["accumulators"])

    async def read_benefit_year(self, person_id: uuid.UUID, scheme: str, year: int) -> Accumulators | None:
        rows = await self.uow.execute(READ_BENEFIT_YEAR, _year_key(person_id, scheme, year))
        return ACCUMULATORS.validate_python(rows[0]["accumulators"]) if rows else None

    async def save_benefit_year(
        self, person_id: uuid.UUID, scheme: str, year: int, accumulators: Accumulators
    ) -> None:
        changed = {"new_accumulators": ACCUMULATORS.dump_python(accumulators, mode="json")}
        await self.uow.execute(SAVE_BENEFIT_YEAR, _year_key(person_id, scheme, year) | changed)

    # ---- facility projection (kept by shared.projections)
    async def facility(self, code: str) -> dict | None:
        rows = await self.uow.execute(FACILITY, {"of_code": code})
        return dict(rows[0]) if rows else None


ACCUMULATORS = TypeAdapter(Accumulators)


def _coverage(row: Any) -> Coverage:
    return Coverage(**{f: row[f] for f in _COVERAGE} | {"special_groups": tuple(row["special_groups"]),
                                                       "special_group_records": tuple(row["special_group_records"])})  # fmt: skip


def _entitlement(row: Any) -> Entitlement:
    return Entitlement(**{f: row[f] for f in _ENTITLEMENT} | {"facility_codes": tuple(row["facility_codes"])})
