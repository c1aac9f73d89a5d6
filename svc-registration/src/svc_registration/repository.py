"""Loading and saving persons and enrollments."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import upsert_newer
from shared.identity import IdType
from svc_registration.domain.benefit import BenefitRegistration
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
from svc_registration.domain.facility import KnownFacility
from svc_registration.domain.person import Person
from svc_registration.domain.special_groups import RULES, SpecialGroup, SpecialGroupRecord
from svc_registration.domain.unit import ChangeKind, Unit, UnitChange, UnitStatus
from svc_registration.models import (
    benefit_registrations,
    certificates,
    enrollments,
    facilities,
    persons,
    transferred_contributions,
    units,
)


class Repository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def save_person(self, person: Person) -> None:
        """Insert, or keep the existing row: the same ID always maps to the same person id."""
        values = {**asdict(person), "id_type": person.id_type.value}
        await self.session.execute(insert(persons).values(values).on_conflict_do_nothing(index_elements=["id"]))

    async def get_person(self, person_id: uuid.UUID) -> Person | None:
        row = (await self.session.execute(select(persons).where(persons.c.id == person_id))).mappings().first()
        if row is None:
            return None
        return Person(**{k: row[k] for k in Person.__dataclass_fields__} | {"id_type": IdType(row["id_type"])})

    async def add_enrollment(self, enrollment: Enrollment) -> None:
        await self.session.execute(insert(enrollments).values(_enrollment_row(enrollment)))

    async def get_enrollment(self, enrollment_id: uuid.UUID, for_update: bool = False) -> Enrollment | None:
        query = select(enrollments).where(enrollments.c.id == enrollment_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return _enrollment(row) if row else None

    async def record_transferred_contributions(self, values: dict) -> None:
        await self.session.execute(insert(transferred_contributions).values(values).on_conflict_do_nothing(index_elements=["transfer_id"]))

    async def transferred_contributions_of(self, person_id: uuid.UUID) -> list[dict]:
        query = select(transferred_contributions).where(transferred_contributions.c.person_id == person_id)
        return [dict(row) for row in (await self.session.execute(query.order_by(transferred_contributions.c.completed_on))).mappings()]

    async def record_certificate(self, values: dict, reissue: bool) -> None:
        statement = insert(certificates).values(values)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["number"], set_={"reissues": certificates.c.reissues + (1 if reissue else 0)},
        ))  # fmt: skip

    async def certificates_of(self, person_id: uuid.UUID) -> list[dict]:
        query = select(certificates).where(certificates.c.person_id == person_id).order_by(certificates.c.issued_on)
        return [dict(row) for row in (await self.session.execute(query)).mappings()]

    async def lock_person(self, person_id: uuid.UUID) -> None:
        """Serialises enrollment changes of one person until the transaction ends (duplicate check)."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"enrollment:{person_id}", 0))))

    async def enrollments_of(self, person_id: uuid.UUID) -> list[Enrollment]:
        query = select(enrollments).where(enrollments.c.person_id == person_id).order_by(enrollments.c.benefit_start)
        return [_enrollment(row) for row in (await self.session.execute(query)).mappings()]

    async def employees_of(self, unit_code: str, statuses: list[str] | None, offset: int, limit: int) -> tuple[list[Enrollment], int]:
        conditions = [enrollments.c.unit_code == unit_code]
        if statuses:
            conditions.append(enrollments.c.status.in_(statuses))
        total = (await self.session.execute(select(func.count()).select_from(enrollments).where(*conditions))).scalar_one()
        query = select(enrollments).where(*conditions).order_by(enrollments.c.submitted_at, enrollments.c.id).offset(offset).limit(limit)
        return [_enrollment(row) for row in (await self.session.execute(query)).mappings()], total

    async def count_employees(self, unit_code: str, statuses: list[str]) -> int:
        query = select(func.count()).select_from(enrollments).where(enrollments.c.unit_code == unit_code, enrollments.c.status.in_(statuses))
        return (await self.session.execute(query)).scalar_one()

    async def move_employees(self, from_unit: str, to_unit: str, statuses: list[str]) -> int:
        moved = await self.session.execute(
            update(enrollments).where(enrollments.c.unit_code == from_unit, enrollments.c.status.in_(statuses)).values(unit_code=to_unit)
        )
        return moved.rowcount

    async def update_enrollment(self, enrollment: Enrollment) -> None:
        row = _enrollment_row(enrollment)
        del row["id"]
        await self.session.execute(update(enrollments).where(enrollments.c.id == enrollment.id).values(row))

    async def add_unit(self, unit: Unit) -> None:
        await self.session.execute(insert(units).values(_unit_row(unit)))

    async def get_unit(self, code: str, for_update: bool = False) -> Unit | None:
        query = select(units).where(units.c.code == code)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).mappings().first()
        return _unit(row) if row else None

    async def update_unit(self, unit: Unit, previous_code: str) -> None:
        await self.session.execute(update(units).where(units.c.id == unit.id).values(_unit_row(unit)))
        if unit.code != previous_code:  # the employees follow the unit's new credit code
            await self.session.execute(update(enrollments).where(enrollments.c.unit_code == previous_code).values(unit_code=unit.code))

    async def stopped_enrollments(self, person_id: uuid.UUID) -> list[Enrollment]:
        query = select(enrollments).where(enrollments.c.person_id == person_id, enrollments.c.status == "stopped")
        return [_enrollment(row) for row in (await self.session.execute(query.with_for_update())).mappings()]

    async def approved_enrollment_covering(self, person_id: uuid.UUID, day: date, scheme: str | None = None) -> Enrollment | None:
        conditions = [
            enrollments.c.person_id == person_id,
            enrollments.c.status == "approved",
            enrollments.c.benefit_start <= day,
            or_(enrollments.c.benefit_end.is_(None), enrollments.c.benefit_end >= day),
        ]
        if scheme is not None:
            conditions.append(enrollments.c.scheme == scheme)
        # Employee insurance first: while it is paid, only employee benefits apply (seed 001 九.3).
        query = select(enrollments).where(*conditions).order_by(enrollments.c.scheme != "employee", enrollments.c.benefit_start)
        row = (await self.session.execute(query)).mappings().first()
        return _enrollment(row) if row else None

    async def record_facility_if_newer(self, facility: KnownFacility) -> None:
        """Events may arrive out of order: keep the highest version of each record."""
        values = {
            "code": facility.code, "name": facility.name, "kind": facility.kind, "level": facility.level,
            "office_code": facility.office_code, "programmes": sorted(facility.programmes),
            "status": facility.status, "version": facility.version,
        }  # fmt: skip
        await upsert_newer(self.session, facilities, values)

    async def get_facility(self, code: str) -> KnownFacility | None:
        row = (await self.session.execute(select(facilities).where(facilities.c.code == code))).mappings().first()
        if row is None:
            return None
        return KnownFacility(
            code=row["code"], name=row["name"], kind=row["kind"], level=row["level"], office_code=row["office_code"],
            programmes=frozenset(row["programmes"]), status=row["status"], version=row["version"],
        )  # fmt: skip

    async def active_benefit(self, person_id: uuid.UUID, kind: str, **details: str) -> BenefitRegistration | None:
        """The active registration of that kind (and those details, e.g. disease=…), row-locked."""
        conditions = [
            benefit_registrations.c.person_id == person_id,
            benefit_registrations.c.kind == kind,
            benefit_registrations.c.status == "active",
        ]
        for key, value in details.items():
            conditions.append(benefit_registrations.c.details[key].astext == value)
        row = (
            await self.session.execute(select(benefit_registrations).where(*conditions).with_for_update())
        ).mappings().first()
        return _benefit(row) if row else None

    async def save_benefit(self, registration: BenefitRegistration) -> None:
        values = {**{f: getattr(registration, f) for f in BenefitRegistration.__dataclass_fields__}}
        values["facility_codes"] = list(registration.facility_codes)
        await self.session.execute(
            insert(benefit_registrations).values(values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def benefits_due_to_expire(self, today: date, limit: int) -> list[BenefitRegistration]:
        """Active registrations whose last valid day has passed, claimed so each replica takes its own."""
        query = (
            select(benefit_registrations)
            .where(benefit_registrations.c.status == "active", benefit_registrations.c.valid_to < today)
            .order_by(benefit_registrations.c.valid_to)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_benefit(row) for row in (await self.session.execute(query)).mappings()]

    async def benefits_page(
        self, person_id: uuid.UUID | None, office_code: str | None, kind: str | None, status: str | None, offset: int, limit: int
    ) -> tuple[list[BenefitRegistration], int]:
        """Registrations filtered by person, office, kind and status (None: any), newest first, and their count."""
        table = benefit_registrations.c
        wanted = [(table.person_id, person_id), (table.office_code, office_code), (table.kind, kind), (table.status, status)]
        conditions = [column == value for column, value in wanted if value is not None]
        total = (await self.session.execute(select(func.count()).select_from(benefit_registrations).where(*conditions))).scalar_one()
        query = select(benefit_registrations).where(*conditions).order_by(table.registered_at.desc(), table.id).offset(offset).limit(limit)
        return [_benefit(row) for row in (await self.session.execute(query)).mappings()], total

    async def get_benefit(self, registration_id: uuid.UUID) -> BenefitRegistration | None:
        row = (
            await self.session.execute(select(benefit_registrations).where(benefit_registrations.c.id == registration_id))
        ).mappings().first()
        return _benefit(row) if row else None


def _benefit(row) -> BenefitRegistration:  # type: ignore[no-untyped-def]
    fields = {f: row[f] for f in BenefitRegistration.__dataclass_fields__}
    return BenefitRegistration(**fields | {"facility_codes": tuple(row["facility_codes"])})


def _enrollment_row(e: Enrollment) -> dict:
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
            {"by": d.by, "at": d.at.isoformat(), "outcome": d.outcome.value, "reason": d.reason} for d in e.decisions
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
        "filer": {"kind": e.filer.kind.value, "name": e.filer.name, "code": e.filer.code} if e.filer else None,
        "handling": e.handling,
        "special_group_records": [r.as_dict() for r in e.special_groups],
        "late_record": e.late_record,
    }


def _enrollment(row) -> Enrollment:  # type: ignore[no-untyped-def]
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
        period=Period(row["benefit_start"], row["benefit_end"], row["period_rule"], row["period_explanation"]),
        decisions=tuple(
            Decision(d["by"], datetime.fromisoformat(d["at"]), Status(d["outcome"]), d.get("reason"))
            for d in row["decisions"]
        ),
        unit_code=row["unit_code"],
        category=Category(row["category"]) if row["category"] else None,
        special_groups=_group_records(row),
        paid_on=row["paid_on"],
        previous_id=row["previous_id"],
        filer=Filer(FilerKind(row["filer"]["kind"]), row["filer"]["name"], row["filer"].get("code")) if row["filer"] else None,
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


def _unit_row(u: Unit) -> dict:
    changes = [
        {**asdict(c), "kind": c.kind.value, "at": c.at.isoformat(), "documents": list(c.documents), "related_units": list(c.related_units)}
        for c in u.changes
    ]
    return {
        "id": u.id, "code": u.code, "name": u.name, "legal_representative": u.legal_representative,
        "office_code": u.office_code, "status": u.status.value, "version": u.version,
        "registered_by": u.registered_by, "registered_at": u.registered_at, "changes": changes, "handling": u.handling,
    }  # fmt: skip


def _unit(row) -> Unit:  # type: ignore[no-untyped-def]
    changes = tuple(
        UnitChange(**{**c, "kind": ChangeKind(c["kind"]), "at": datetime.fromisoformat(c["at"]),
                      "documents": tuple(c["documents"]), "related_units": tuple(c["related_units"])})
        for c in row["changes"]
    )  # fmt: skip
    return Unit(
        id=row["id"], code=row["code"], name=row["name"], legal_representative=row["legal_representative"],
        office_code=row["office_code"], status=UnitStatus(row["status"]), version=row["version"],
        registered_by=row["registered_by"], registered_at=row["registered_at"], changes=changes, handling=row["handling"],
    )  # fmt: skip
