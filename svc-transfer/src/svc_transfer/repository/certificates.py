"""参保凭证 as stored: the certificate whole as a document, keyed by its number."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from svc_transfer.domain.certificate import IssuedCertificate
from svc_transfer.models import certificates

CERTIFICATE = TypeAdapter(IssuedCertificate)


async def save(session: AsyncSession, certificate: IssuedCertificate, *, insert_new: bool = False) -> None:
    values = {
        "person_id": certificate.person_id,
        "office_code": certificate.office_code,
        "status": certificate.status,
        "issued_on": certificate.issued_on,
        "coverage_ended_on": certificate.coverage_ended_on,
        "verification_code": certificate.verification_code,
        "document": CERTIFICATE.dump_python(certificate, mode="json"),
    }
    statement = insert(certificates).values(number=certificate.number, **values)
    if not insert_new:
        statement = statement.on_conflict_do_update(index_elements=["number"], set_=values)
    await session.execute(statement)


async def get(session: AsyncSession, number: str, *, for_update: bool = False) -> IssuedCertificate | None:
    query = select(certificates.c.document).where(certificates.c.number == number)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return CERTIFICATE.validate_python(row[0]) if row else None


async def by_verification_code(session: AsyncSession, code: str) -> IssuedCertificate | None:
    query = select(certificates.c.document).where(certificates.c.verification_code == code)
    row = (await session.execute(query)).first()
    return CERTIFICATE.validate_python(row[0]) if row else None


async def of_person(session: AsyncSession, person_id: uuid.UUID | None) -> list[IssuedCertificate]:
    rows = await session.execute(
        select(certificates.c.document)
        .where(certificates.c.person_id == person_id)
        .order_by(certificates.c.issued_on.desc())
    )
    return [CERTIFICATE.validate_python(r[0]) for r in rows]


async def current_number_for(session: AsyncSession, person_id: uuid.UUID, ended_on: date) -> str | None:
    """The number of the certificate (not superseded) for a stopped coverage, locked."""
    return await session.scalar(
        select(certificates.c.number)
        .where(
            certificates.c.person_id == person_id,
            certificates.c.coverage_ended_on == ended_on,
            certificates.c.status != "superseded",
        )
        .with_for_update()
    )


async def last_transferred_end(session: AsyncSession, person_id: uuid.UUID) -> date | None:
    """Where the coverage an earlier certificate already moved away ended."""
    return await session.scalar(
        select(func.max(certificates.c.coverage_ended_on)).where(
            certificates.c.person_id == person_id, certificates.c.status == "transferred"
        )
    )


async def next_number(session: AsyncSession, office: str, year: int) -> str:
    prefix = f"{office}{year}"
    count = await session.scalar(select(func.count()).where(certificates.c.number.like(f"{prefix}%")))
    return f"{prefix}{(count or 0) + 1:06d}"
