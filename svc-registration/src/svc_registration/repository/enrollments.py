"""Persons and their enrollments as stored, with what transfer reported about them (certificates, contributions)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from shared.db import OnUnitOfWork, Prepared
from shared.identity import IdType
from svc_registration.domain.benefit_period import Period
from svc_registration.domain.enrollment import (
    Category,
    Decision,
    Enrollment,
    Filer,
    FilerKind,
    ResidentTier,
    Scheme,
    Status,
)
from svc_registration.domain.person import Person
from svc_registration.domain.special_groups import RULES, SpecialGroup, SpecialGroupRecord
from svc_registration.models import (
    certificates,
    enrollments,
    persons,
    transferred_contributions,
)

# The statements of every enrollment and approval: built once and sent straight to asyncpg with each
# call's values (shared.db.Prepared), so that an enrollment's transaction needs no ORM session at all.
_GET_PERSON = Prepared(select(persons).where(persons.c.id == bindparam("person_id")))
# enrollment_row names every column
_EVERY_COLUMN: dict[str, Any] = {c.key: bindparam(c.key) for c in enrollments.c}
_ADD_ENROLLMENT = Prepared(insert(enrollments).values(_EVERY_COLUMN))
# The person (kept if already there: the same ID always maps to the same person id) and the enrollment,
# in one statement: one round trip less for every filing. The person's values are named p_<field>.
_PERSON_FIELDS = tuple(Person.__dataclass_fields__)
_ADMIT = Prepared(
    insert(enrollments)
    .values(_EVERY_COLUMN)
    .add_cte(
        insert(persons)
        .values({k: bindparam(f"p_{k}") for k in _PERSON_FIELDS})
        .on_conflict_do_nothing(index_elements=["id"])
        .cte("person_kept")
    )
)
_GET_ENROLLMENT = select(enrollments).where(enrollments.c.id == bindparam("enrollment_id"))
_GET_ENROLLMENT_UNLOCKED, _GET_ENROLLMENT_LOCKED = (
    Prepared(_GET_ENROLLMENT),
    Prepared(_GET_ENROLLMENT.with_for_update()),
)
# An enrollment about to be decided, locked, with its person's sex (the approval's event carries it).
_GET_ENROLLMENT_TO_DECIDE = Prepared(
    select(enrollments, persons.c.sex.label("person_sex"))
    .select_from(enrollments.outerjoin(persons, persons.c.id == enrollments.c.person_id))
    .where(enrollments.c.id == bindparam("enrollment_id"))
    .with_for_update(of=enrollments)
)
_UPDATE_ENROLLMENT = Prepared(
    update(enrollments)
    .where(enrollments.c.id == bindparam("enrollment_id"))
    .values({k: v for k, v in _EVERY_COLUMN.items() if k != "id"})
)
_LOCK_PERSON = Prepared(
    select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("key", type_=String), 0)))
)
_ENROLLMENTS_OF = Prepared(
    select(enrollments)
    .where(enrollments.c.person_id == bindparam("person_id"))
    .order_by(enrollments.c.benefit_start)
)


class Enrollments(OnUnitOfWork):
    async def admit(self, person: Person, enrollment: Enrollment) -> None:
        """The enrollment, and its person unless already stored."""
        person_values = {**asdict(person), "id_type": person.id_type.value}
        await self.uow.execute(
            _ADMIT, enrollment_row(enrollment) | {f"p_{k}": person_values[k] for k in _PERSON_FIELDS}
        )

    async def get_person(self, person_id: uuid.UUID) -> Person | None:
        rows = await self.uow.execute(_GET_PERSON, {"person_id": person_id})
        if not rows:
            return None
        row = rows[0]
        return Person(
            **{k: row[k] for k in Person.__dataclass_fields__} | {"id_type": IdType(row["id_type"])}
        )

    async def add_enrollment(self, enrollment: Enrollment) -> None:
        await self.uow.execute(_ADD_ENROLLMENT, enrollment_row(enrollment))

    async def get_enrollment(self, enrollment_id: uuid.UUID, for_update: bool = False) -> Enrollment | None:
        query = _GET_ENROLLMENT_LOCKED if for_update else _GET_ENROLLMENT_UNLOCKED
        rows = await self.uow.execute(query, {"enrollment_id": enrollment_id})
        return enrollment_of_row(rows[0]) if rows else None

    async def enrollment_to_decide(self, enrollment_id: uuid.UUID) -> tuple[Enrollment, str | None] | None:
        """The enrollment, locked until the transaction ends, and its person's sex."""
        rows = await self.uow.execute(_GET_ENROLLMENT_TO_DECIDE, {"enrollment_id": enrollment_id})
        return (enrollment_of_row(rows[0]), rows[0]["person_sex"]) if rows else None

    async def record_transferred_contributions(self, values: dict) -> None:
        await self.session.execute(
            insert(transferred_contributions)
            .values(values)
            .on_conflict_do_nothing(index_elements=["transfer_id"])
        )

    async def transferred_contributions_of(self, person_id: uuid.UUID) -> list[dict]:
        query = select(transferred_contributions).where(transferred_contributions.c.person_id == person_id)
        return [
            dict(row)
            for row in (
                await self.session.execute(query.order_by(transferred_contributions.c.completed_on))
            ).mappings()
        ]

    async def record_certificate(self, values: dict, reissue: bool) -> None:
        statement = insert(certificates).values(values)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["number"], set_={"reissues": certificates.c.reissues + (1 if reissue else 0)},
        ))  # fmt: skip

    async def certificates_of(self, person_id: uuid.UUID) -> list[dict]:
        query = (
            select(certificates)
            .where(certificates.c.person_id == person_id)
            .order_by(certificates.c.issued_on)
        )
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def lock_person(self, person_id: uuid.UUID) -> None:
        """Serialises enrollment changes of one person until the transaction ends (duplicate check)."""
        await self.uow.execute(_LOCK_PERSON, {"key": f"enrollment:{person_id}"})

    async def enrollments_of(self, person_id: uuid.UUID) -> list[Enrollment]:
        return [
            enrollment_of_row(row)
            for row in await self.uow.execute(_ENROLLMENTS_OF, {"person_id": person_id})
        ]

    async def employees_of(
        self, unit_code: str, statuses: list[str] | None, offset: int, limit: int
    ) -> tuple[list[Enrollment], int]:
        conditions = [enrollments.c.unit_code == unit_code]
        if statuses:
            conditions.append(enrollments.c.status.in_(statuses))
        total = (
            await self.session.execute(select(func.count()).select_from(enrollments).where(*conditions))
        ).scalar_one()
        query = (
            select(enrollments)
            .where(*conditions)
            .order_by(enrollments.c.submitted_at, enrollments.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [enrollment_of_row(row) for row in (await self.session.execute(query)).mappings()], total

    async def count_employees(self, unit_code: str, statuses: list[str]) -> int:
        query = (
            select(func.count())
            .select_from(enrollments)
            .where(enrollments.c.unit_code == unit_code, enrollments.c.status.in_(statuses))
        )
        return (await self.session.execute(query)).scalar_one()

    async def move_employees(self, from_unit: str, to_unit: str, statuses: list[str]) -> int:
        moved = await self.session.execute(
            update(enrollments)
            .where(enrollments.c.unit_code == from_unit, enrollments.c.status.in_(statuses))
            .values(unit_code=to_unit)
        )
        return moved.rowcount  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult

    async def update_enrollment(self, enrollment: Enrollment) -> None:
        row = enrollment_row(enrollment)
        del row["id"]
        await self.uow.execute(_UPDATE_ENROLLMENT, {**row, "enrollment_id": enrollment.id})

    async def stopped_enrollments(self, person_id: uuid.UUID) -> list[Enrollment]:
        query = select(enrollments).where(
            enrollments.c.person_id == person_id, enrollments.c.status == "stopped"
        )
        return [
            enrollment_of_row(row) for row in (await self.session.execute(query.with_for_update())).mappings()
        ]

    async def approved_enrollment_covering(
        self, person_id: uuid.UUID, day: date, scheme: str | None = None
    ) -> Enrollment | None:
        conditions = [
            enrollments.c.person_id == person_id,
            enrollments.c.status == "approved",
            enrollments.c.benefit_start <= day,
            or_(enrollments.c.benefit_end.is_(None), enrollments.c.benefit_end >= day),
        ]
        if scheme is not None:
            conditions.append(enrollments.c.scheme == scheme)
        # Employee insurance first: while it is paid, only employee benefits apply (seed 001 九.3).
        query = (
            select(enrollments)
            .where(*conditions)
            .order_by(enrollments.c.scheme != "employee", enrollments.c.benefit_start)
        )
        row = (await self.session.execute(query)).mappings().first()
        return enrollment_of_row(row) if row else None


def enrollment_row(e: Enrollment) -> dict:
    return {
        "id": e.id,
        "person_id": e.person_id,
        "office_code": e.office_code,
        "scheme": e.scheme.value,
        "tier": e.tier.value if e.tier else None,
        "coverage_year": e.coverage_year,
        "status": e.status.value,
        "version": e.version,
        "submitted_by": e.submitted_by,
        "submitted_at": e.submitted_at,
        "decisions": [
            {"by": d.by, "at": d.at.isoformat(), "outcome": d.outcome.value, "reason": d.reason}
            for d in e.decisions
        ],
        "unit_code": e.unit_code,
        "category": e.category.value if e.category else None,
        "special_groups": [g.value for g in e.group_codes],
        "benefit_start": e.period.start,
        "benefit_end": e.period.end,
        "period_rule": e.period.rule,
        "period_explanation": e.period.explanation,
        "paid_on": e.paid_on,
        "previous_id": e.previous_id,
        "filer": {"kind": e.filer.kind.value, "name": e.filer.name, "code": e.filer.code}
        if e.filer
        else None,
        "handling": e.handling,
        "special_group_records": [r.as_dict() for r in e.special_groups],
        "late_record": e.late_record,
    }


def enrollment_of_row(row) -> Enrollment:  # type: ignore[no-untyped-def]
    return Enrollment(
        id=row["id"],
        person_id=row["person_id"],
        office_code=row["office_code"],
        scheme=Scheme(row["scheme"]),
        tier=ResidentTier(row["tier"]) if row["tier"] else None,
        coverage_year=row["coverage_year"],
        status=Status(row["status"]),
        version=row["version"],
        submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"],
        period=Period(
            row["benefit_start"], row["benefit_end"], row["period_rule"], row["period_explanation"]
        ),
        decisions=tuple(
            Decision(d["by"], datetime.fromisoformat(d["at"]), Status(d["outcome"]), d.get("reason"))
            for d in row["decisions"]
        ),
        unit_code=row["unit_code"],
        category=Category(row["category"]) if row["category"] else None,
        special_groups=_group_records(row),
        paid_on=row["paid_on"],
        previous_id=row["previous_id"],
        filer=Filer(FilerKind(row["filer"]["kind"]), row["filer"]["name"], row["filer"].get("code"))
        if row["filer"]
        else None,
        handling=row["handling"],
        late_record=row["late_record"],
    )


def _group_records(row) -> tuple[SpecialGroupRecord, ...]:  # type: ignore[no-untyped-def]
    """Enrollments filed before the evidence was recorded hold only the codes: shown with no document,
    valid over their benefit period (which is what they were granted)."""
    if row["special_group_records"]:
        return tuple(SpecialGroupRecord.from_dict(d) for d in row["special_group_records"])
    return tuple(SpecialGroupRecord(SpecialGroup(g), RULES[SpecialGroup(g)].certified_by, "", row["benefit_start"], row["benefit_end"])
                 for g in row["special_groups"])  # fmt: skip
