"""Demo accounts of the development issuer."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from shared.auth import Principal, Role
from shared.identity import IdType, normalize_id, person_id_for


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    description: str
    principal: Principal

    def password_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(self.password.encode(), candidate.encode())


@cache
def load_demo_accounts(person_key: str = "development-only-person-key-change-me") -> tuple[DemoAccount, ...]:
    raw = json.loads(resources.files("gateway").joinpath("demo_accounts.json").read_text(encoding="utf-8"))
    return tuple(_account(entry, person_key.encode()) for entry in raw["accounts"])


def _account(entry: dict, key: bytes) -> DemoAccount:
    person_id = None
    if entry.get("id_number"):
        id_type = IdType(entry["id_type"])
        person_id = person_id_for(id_type, normalize_id(id_type, entry["id_number"]), key)
    principal = Principal(
        subject=entry["username"],
        role=Role(entry["role"]),
        name=entry.get("name"),
        office_code=entry.get("office"),
        office_level=entry.get("office_level"),
        person_id=person_id,
        unit_id=entry.get("unit_id"),
        facility_id=entry.get("facility_id"),
    )
    return DemoAccount(entry["username"], entry["password"], entry["description"], principal)


def find_account(username: str, password: str, person_key: str) -> DemoAccount | None:
    for account in load_demo_accounts(person_key):
        if account.username == username and account.password_matches(password):
            return account
    return None
