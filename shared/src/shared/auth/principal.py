"""Who is calling: the roles of docs/architecture.md and the claims a token carries about them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    insured = "insured"  # a person: their own records only
    unit = "unit"  # an employer: its employees
    facility = "facility"  # a designated institution: its own settlements and patients
    staff = "staff"  # an office clerk, scoped to their office; city-level staff approve
    peer_office = "peer_office"  # another region's office: interop only
    ops = "ops"  # health and metrics, no personal data
    admin = "admin"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    name: str | None = None
    office_code: str | None = None
    office_level: Literal["city", "district", "township", "village"] | None = None
    person_id: uuid.UUID | None = None
    unit_id: str | None = None
    facility_id: str | None = None
    # The account's token version when the token was issued (claim `ver`): revoking a user's tokens
    # raises the account's version, and the gateway refuses tokens of an older one.
    token_version: int | None = None

    @property
    def is_city_staff(self) -> bool:
        return self.role is Role.staff and self.office_level == "city"

    def serves_office(self, office_code: str) -> bool:
        """Staff of that office or of an office above it (city staff their city's offices): the
        platform's access policy, ``shared.access``."""
        from shared.access import POLICY  # the policy reads the office directory, which needs this module

        return POLICY.serves(self, office_code)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            subject=claims["sub"],
            role=claims["role"],
            name=claims.get("name"),
            office_code=claims.get("office"),
            office_level=claims.get("office_level"),
            person_id=claims.get("person_id"),
            unit_id=claims.get("unit_id"),
            facility_id=claims.get("facility_id"),
            token_version=claims.get("ver"),
        )

    def to_claims(self) -> dict[str, Any]:
        """What a token says about its holder: ids, role and office, never their name (a token is
        copied into logs, browsers and proxies; a name there is personal data for nothing)."""
        claims = {
            "sub": self.subject,
            "role": self.role.value,
            "office": self.office_code,
            "office_level": self.office_level,
            "person_id": str(self.person_id) if self.person_id else None,
            "unit_id": self.unit_id,
            "facility_id": self.facility_id,
            "ver": self.token_version,
        }
        return {k: v for k, v in claims.items() if v is not None}
