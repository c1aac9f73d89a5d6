"""What a clerk receives at the counter (受理): the applicant's identity, the papers and the proxy; self-service
identifies the applicant by login instead. Shared by every feature that files a case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from shared.auth import Principal, Role
from shared.identity import IdType, mask_id
from svc_registration.domain.materials import ITEMS, ONLINE, Form, Handling, check_materials
from svc_registration.domain.person import Person, Sex, identify


@dataclass(frozen=True)
class PersonDetails:
    id_type: IdType
    id_number: str
    name: str
    sex: Sex | None = None
    birth_date: date | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Counter:
    """What a clerk received at the counter: the papers (and in which form) and the proxy, if any."""

    materials: Mapping[str, Form] = field(default_factory=dict)
    proxy: PersonDetails | None = None


ONLINE_REQUEST = Counter()


def handled(item: str, actor: Principal, counter: Counter, person_key: bytes) -> dict:
    """Papers are checked where a clerk receives them; self-service identifies the applicant by login."""
    if actor.role is not Role.staff:
        return ONLINE.as_dict()
    proxy = identify_person(counter.proxy, actor.office_code or "", person_key) if counter.proxy else None
    check_materials(ITEMS[item], counter.materials, by_proxy=proxy is not None)
    return Handling(
        "counter",
        dict(counter.materials),
        proxy.name if proxy else None,
        mask_id(proxy.id_number) if proxy else None,
    ).as_dict()


def identify_person(details: PersonDetails, office_code: str, person_key: bytes) -> Person:
    d = details
    return identify(d.id_type, d.id_number, d.name, office_code, person_key, d.sex, d.birth_date, d.phone)
