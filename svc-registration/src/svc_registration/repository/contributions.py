"""Employee-scheme money as stored: declared bases, notices and their lines, payments, account entries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from svc_registration.domain.contributions import (
    CREDITS,
    AccountEntry,
    EntryKind,
    Insured,
    Line,
    PayerKind,
    month_end,
)
from svc_registration.domain.enrollment import WAS_COVERED, Category, Scheme
from svc_registration.models import (
    account_entries,
    contribution_bases,
    contribution_lines,
    contribution_notices,
    contribution_payments,
    enrollments,
    persons,
    units,
)

COVERED = [s.value for s in WAS_COVERED]


class Contributions:
    def __init__(self, session: AsyncSession):
        self.session = session

    # ------------------------------------------------------------------------------------ bases

    async def declare_bases(self, rows: Sequence[dict]) -> None:
        statement = insert(contribution_bases).values(list(rows))
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["enrollment_id", "effective_from"],
                set_={c: statement.excluded[c] for c in ("declared_wage", "declared_by", "declared_at")},
            )
        )

    # ------------------------------------------------------------------------- who pays a month

    def _insured_query(self, scheme: Scheme, month: date, *, many: bool = False):  # type: ignore[no-untyped-def]
        """Enrollments of `scheme` whose coverage touches the month and that no notice of the month charges
        yet, with the birth date and the base declared for the month (the latest declaration in force). `many`: for a whole office, the bases
        joined once (a hash join) instead of looked up row by row."""
        if many:
            latest = (
                select(contribution_bases.c.enrollment_id, contribution_bases.c.declared_wage)
                .where(contribution_bases.c.effective_from <= month)
                .ext(distinct_on(contribution_bases.c.enrollment_id))
                .order_by(contribution_bases.c.enrollment_id, contribution_bases.c.effective_from.desc())
                .subquery()
            )
            declared: ColumnElement[Any] = latest.c.declared_wage
        else:
            declared = (
                select(contribution_bases.c.declared_wage)
                .where(
                    contribution_bases.c.enrollment_id == enrollments.c.id,
                    contribution_bases.c.effective_from <= month,
                )
                .order_by(contribution_bases.c.effective_from.desc())
                .limit(1)
                .scalar_subquery()
            )
        query = (
            select(
                enrollments.c.id,
                enrollments.c.person_id,
                enrollments.c.unit_code,
                enrollments.c.office_code,
                enrollments.c.benefit_start,
                enrollments.c.benefit_end,
                persons.c.birth_date,
                declared.label("declared"),
            )
            .join(persons, persons.c.id == enrollments.c.person_id)
            .where(
                enrollments.c.scheme == scheme.value,
                enrollments.c.status.in_(COVERED),
                enrollments.c.benefit_start <= month_end(month),
                (enrollments.c.benefit_end.is_(None)) | (enrollments.c.benefit_end >= month),
            )
        )
        charged = select(contribution_lines.c.notice_id).where(
            contribution_lines.c.enrollment_id == enrollments.c.id, contribution_lines.c.month == month
        )
        query = query.where(~charged.exists())  # charged already by a notice of the month
        if many:
            query = query.outerjoin(latest, latest.c.enrollment_id == enrollments.c.id)
        if scheme is Scheme.employee:  # retirees pay no contribution (在职职工缴费)
            query = query.where(enrollments.c.category == Category.in_service.value)
        return query

    async def insured_of_unit(self, unit_code: str, month: date) -> list[Insured]:
        query = self._insured_query(Scheme.employee, month).where(enrollments.c.unit_code == unit_code)
        return [_insured(r) for r in (await self.session.execute(query)).mappings()]

    async def flexible_of_person(self, person_id: uuid.UUID, month: date) -> tuple[list[Insured], str | None]:
        query = self._insured_query(Scheme.flexible, month).where(enrollments.c.person_id == person_id)
        rows = list((await self.session.execute(query)).mappings())
        return [_insured(r) for r in rows], (rows[0]["office_code"] if rows else None)

    async def units_insured(
        self, month: date, office_code: str
    ) -> AsyncIterator[tuple[str, str, list[Insured]]]:
        """Every unit of the office with its employees not yet charged for the month, unit by unit, in one sorted
        pass streamed from a server-side cursor (a unit's employees lie anywhere in the table: reading
        them page by page of units would read the table once per page)."""
        query = (
            self._insured_query(Scheme.employee, month, many=True)
            .add_columns(units.c.office_code.label("unit_office"))
            .join(units, units.c.code == enrollments.c.unit_code)
            .where(units.c.office_code == office_code)
            .order_by(enrollments.c.unit_code)
            .execution_options(yield_per=5000)
        )
        # A cursor is planned for its first rows by default (nested loops over the index): here every row
        # is read, so plan for all of them (a hash join and one sort), for this transaction only.
        await self.session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
        current: tuple[str, str] | None = None
        batch: list[Insured] = []
        async for row in (await self.session.stream(query)).mappings():
            if current is None or row["unit_code"] != current[0]:
                if current is not None:
                    yield current[0], current[1], batch
                current, batch = (row["unit_code"], row["unit_office"]), []
            batch.append(_insured(row))
        if current is not None:
            yield current[0], current[1], batch

    async def flexible_insured(self, month: date, office_code: str | None) -> list[tuple[str, Insured]]:
        """Every flexible worker paying for the month (of one office, or all), with their office."""
        query = self._insured_query(Scheme.flexible, month, many=True)
        if office_code is not None:
            query = query.where(enrollments.c.office_code == office_code)
        rows = (await self.session.execute(query.order_by(enrollments.c.person_id))).mappings()
        return [(row["office_code"], _insured(row)) for row in rows]

    # ------------------------------------------------------------------------------------ notices

    async def count_notices(self, kind: PayerKind, month: date, office_code: str) -> int:
        query = select(func.count()).where(
            contribution_notices.c.payer_kind == kind.value,
            contribution_notices.c.month == month,
            contribution_notices.c.office_code == office_code,
        )
        return int((await self.session.execute(query)).scalar_one())

    async def sequences(self, kind: PayerKind, month: date, payer_code: str | None = None) -> dict[str, int]:
        """The last notice sequence of each payer (or of one) for the month."""
        query = (
            select(contribution_notices.c.payer_code, func.max(contribution_notices.c.sequence))
            .where(contribution_notices.c.payer_kind == kind.value, contribution_notices.c.month == month)
            .group_by(contribution_notices.c.payer_code)
        )
        if payer_code is not None:
            query = query.where(contribution_notices.c.payer_code == payer_code)
        return {code: last for code, last in (await self.session.execute(query)).all()}

    async def add_notices(self, notices: Sequence[dict], lines: Sequence[tuple[uuid.UUID, Line]]) -> int:
        """Notices (a payer's second for the month is skipped by the UNIQUE index) and, by COPY, the
        lines of those inserted. Returns how many notices were new."""
        if not notices:
            return 0
        statement = insert(contribution_notices).values(list(notices)).on_conflict_do_nothing()
        inserted = set((await self.session.execute(statement.returning(contribution_notices.c.id))).scalars())
        months = {n["id"]: n["month"] for n in notices}
        records = [
            (
                notice_id,
                line.enrollment_id,
                line.person_id,
                line.base,
                line.unit_part,
                line.personal_part,
                line.account_credit,
                months[notice_id],
            )
            for notice_id, line in lines
            if notice_id in inserted
        ]
        if records:
            connection = await (await self.session.connection()).get_raw_connection()
            await connection.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                "contribution_lines",
                records=records,
                columns=[
                    "notice_id",
                    "enrollment_id",
                    "person_id",
                    "base",
                    "unit_part",
                    "personal_part",
                    "account_credit",
                    "month",
                ],
            )
        return len(inserted)

    async def notice(self, number: str, for_update: bool = False) -> dict | None:
        query = select(contribution_notices).where(contribution_notices.c.number == number)
        row = (
            (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        )
        return dict(row) if row else None

    async def notices_by_number(self, numbers: Iterable[str]) -> dict[str, dict]:
        query = (
            select(contribution_notices)
            .where(contribution_notices.c.number.in_(list(numbers)))
            .order_by(contribution_notices.c.number)
            .with_for_update()
        )
        return {r["number"]: dict(r) for r in (await self.session.execute(query)).mappings()}

    async def notices_of(
        self,
        *,
        payer_code: str | None,
        offices: Sequence[str] | None,
        month: date | None,
        status: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[dict], int]:
        conditions = []
        if status is not None:
            conditions.append(contribution_notices.c.status == status)
        if payer_code is not None:
            conditions.append(contribution_notices.c.payer_code == payer_code)
        if offices is not None:
            conditions.append(contribution_notices.c.office_code.in_(list(offices)))
        if month is not None:
            conditions.append(contribution_notices.c.month == month)
        where = and_(*conditions) if conditions else literal_column("true")
        total = (
            await self.session.execute(select(func.count()).select_from(contribution_notices).where(where))
        ).scalar_one()
        query = (
            select(contribution_notices)
            .where(where)
            .order_by(contribution_notices.c.month.desc(), contribution_notices.c.number)
            .offset(offset)
            .limit(limit)
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()], total

    async def lines_of(self, notice_id: uuid.UUID) -> list[dict]:
        query = (
            select(contribution_lines)
            .where(contribution_lines.c.notice_id == notice_id)
            .order_by(contribution_lines.c.person_id)
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def mark_paid(self, notice_id: uuid.UUID, paid_on: date, late_fee: Decimal, reference: str) -> None:
        await self.session.execute(
            update(contribution_notices)
            .where(contribution_notices.c.id == notice_id)
            .values(status="paid", paid_on=paid_on, late_fee=late_fee, bank_reference=reference)
        )

    async def overdue_unpaid(self, due_before: date, limit: int) -> list[dict]:
        query = (
            select(contribution_notices)
            .where(
                contribution_notices.c.status == "issued",
                contribution_notices.c.interrupted_on.is_(None),
                contribution_notices.c.due_on < due_before,
            )
            .order_by(contribution_notices.c.due_on, contribution_notices.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def mark_interrupted(self, notice_id: uuid.UUID, on: date) -> None:
        await self.session.execute(
            update(contribution_notices)
            .where(contribution_notices.c.id == notice_id)
            .values(interrupted_on=on)
        )

    # ----------------------------------------------------------------------------------- payments

    async def payments_by_reference(self, references: Iterable[str]) -> dict[str, dict]:
        query = select(contribution_payments).where(
            contribution_payments.c.bank_reference.in_(list(references))
        )
        return {r["bank_reference"]: dict(r) for r in (await self.session.execute(query)).mappings()}

    async def add_payment(self, row: dict) -> None:
        await self.session.execute(insert(contribution_payments).values(**row))

    # ------------------------------------------------------------------------------------ account

    async def book(self, person_id: uuid.UUID, entry: AccountEntry, month: date | None = None) -> bool:
        """One entry per person and reference: a second booking of the same reference is ignored (False)."""
        statement = (
            insert(account_entries)
            .values(
                person_id=person_id,
                reference=entry.reference,
                kind=entry.kind.value,
                amount=entry.amount,
                booked_on=entry.on,
                month=month,
            )
            .on_conflict_do_nothing()
            .returning(account_entries.c.reference)
        )
        return (await self.session.execute(statement)).first() is not None

    async def retirees_of_office(self, office_code: str, month: date) -> list[uuid.UUID]:
        """The persons of the office whose employee coverage as retirees (退休) has a day in the month."""
        query = (
            select(enrollments.c.person_id)
            .distinct()
            .where(
                enrollments.c.office_code == office_code,
                enrollments.c.scheme == Scheme.employee.value,
                enrollments.c.category == Category.retired.value,
                enrollments.c.status.in_(COVERED),
                enrollments.c.benefit_start <= month_end(month),
                (enrollments.c.benefit_end.is_(None)) | (enrollments.c.benefit_end >= month),
            )
            .order_by(enrollments.c.person_id)
        )
        return list((await self.session.execute(query)).scalars())

    async def paid_months_of(self, person_id: uuid.UUID) -> list[dict]:
        """The months paid for the person through contribution notices (the unit's or their own as a flexible
        worker): one row per notice line whose notice is paid, in month order."""
        query = (
            select(
                contribution_lines.c.month,
                contribution_lines.c.base,
                contribution_lines.c.account_credit,
                contribution_notices.c.number,
                contribution_notices.c.office_code,
                contribution_notices.c.paid_on,
            )
            .join(contribution_notices, contribution_notices.c.id == contribution_lines.c.notice_id)
            .where(contribution_lines.c.person_id == person_id, contribution_notices.c.status == "paid")
            .order_by(contribution_lines.c.month, contribution_notices.c.number)
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings()]

    async def history(self, person_id: uuid.UUID) -> list[tuple[AccountEntry, date | None]]:
        query = (
            select(account_entries)
            .where(account_entries.c.person_id == person_id)
            .order_by(account_entries.c.booked_on, account_entries.c.recorded_at, account_entries.c.reference)
        )
        return [
            (AccountEntry(EntryKind(r["kind"]), r["amount"], r["booked_on"], r["reference"]), r["month"])
            for r in (await self.session.execute(query)).mappings()
        ]

    async def balance_and_months(self, person_id: uuid.UUID) -> tuple[Decimal, int]:
        """The balance as the sum of the history, and the months credited from contributions here."""
        credits = [k.value for k in CREDITS]
        signed = func.sum(
            case(
                (account_entries.c.kind.in_(credits), account_entries.c.amount),
                else_=-account_entries.c.amount,
            )
        )
        months = func.count(func.distinct(account_entries.c.month)).filter(
            account_entries.c.kind == EntryKind.contribution.value
        )
        row = (
            await self.session.execute(select(signed, months).where(account_entries.c.person_id == person_id))
        ).one()
        return (row[0] or Decimal("0.00")), int(row[1] or 0)


def _insured(row) -> Insured:  # type: ignore[no-untyped-def]
    return Insured(
        row["id"],
        row["person_id"],
        row["benefit_start"],
        row["benefit_end"],
        row["birth_date"],
        row["declared"],
    )
