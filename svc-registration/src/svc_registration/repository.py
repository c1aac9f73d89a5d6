"""Loading and saving persons and enrollments."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.identity import IdType
from svc_registration.domain.benefit import BenefitRegistration
from svc_registration.domain.enrollment import Decision, Enrollment, ResidentTier, Scheme, Status
from svc_registration.domain.facility import KnownFacility
from svc_registration.domain.person import Person
from svc_registration.models import benefit_registrations, enrollments, facilities, persons


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

    async def holding_enrollment(self, person_id: uuid.UUID, year: int) -> Enrollment | None:
        row = (
            await self.session.execute(
                select(enrollments).where(
                    enrollments.c.person_id == person_id,
                    enrollments.c.coverage_year == year,
                    enrollments.c.status.in_(["submitted", "approved"]),
                )
            )
        ).mappings().first()
        return _enrollment(row) if row else None

    async def update_enrollment(self, enrollment: Enrollment) -> None:
        row = _enrollment_row(enrollment)
        await self.session.execute(
            update(enrollments).where(enrollments.c.id == enrollment.id).values(
                status=row["status"], version=row["version"], decisions=row["decisions"]
            )
        )


    async def stopped_enrollments(self, person_id: uuid.UUID) -> list[Enrollment]:
        query = select(enrollments).where(enrollments.c.person_id == person_id, enrollments.c.status == "stopped")
        return [_enrollment(row) for row in (await self.session.execute(query.with_for_update())).mappings()]

    async def approved_enrollment_covering(self, person_id: uuid.UUID, day: date, scheme: str | None = None) -> Enrollment | None:
        conditions = [
            enrollments.c.person_id == person_id,
            enrollments.c.status == "approved",
            enrollments.c.coverage_year == day.year,
        ]
        if scheme is not None:
            conditions.append(enrollments.c.scheme == scheme)
        row = (await self.session.execute(select(enrollments).where(*conditions))).mappings().first()
        return _enrollment(row) if row else None

    async def record_facility_if_newer(self, facility: KnownFacility) -> None:
        """Events may arrive out of order: keep the highest version of each record."""
        values = {
            "code": facility.code, "name": facility.name, "kind": facility.kind, "level": facility.level,
            "office_code": facility.office_code, "programmes": sorted(facility.programmes),
            "status": facility.status, "version": facility.version,
        }  # fmt: skip
        await self.session.execute(
            insert(facilities)
            .values(values)
            .on_conflict_do_update(
                index_elements=["code"], set_=values, where=facilities.c.version < insert(facilities).excluded.version
            )
        )

    async def get_facility(self, code: str) -> KnownFacility | None:
        row = (await self.session.execute(select(facilities).where(facilities.c.code == code))).mappings().first()
        if row is None:
            return None
        return KnownFacility(
            code=row["code"], name=row["name"], kind=row["kind"], level=row["level"], office_code=row["office_code"],
            programmes=frozenset(row["programmes"]), status=row["status"], version=row["version"],
        )  # fmt: skip

    async def active_benefit(self, person_id: uuid.UUID, kind: str, disease: str | None = None) -> BenefitRegistration | None:
        conditions = [
            benefit_registrations.c.person_id == person_id,
            benefit_registrations.c.kind == kind,
            benefit_registrations.c.status == "active",
        ]
        if disease is not None:
            conditions.append(benefit_registrations.c.details["disease"].astext == disease)
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
        decisions=tuple(
            Decision(d["by"], datetime.fromisoformat(d["at"]), Status(d["outcome"]), d.get("reason"))
            for d in row["decisions"]
        ),
    )
