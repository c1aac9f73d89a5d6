"""The person a transfer or certificate is about, as this platform identifies them."""

from __future__ import annotations

import uuid

from shared.identity import IdType, person_id_for
from svc_transfer.domain.transfer import Person
from svc_transfer.interop.exchange import Interop


def person_id(interop: Interop, person: Person) -> uuid.UUID:
    return person_id_for(IdType(person.id_type), person.id_number, interop.settings.person_id_key.encode())


def person_body(person: Person) -> dict[str, str]:
    """The person as a message to a peer names them."""
    return {"id_type": person.id_type, "id_number": person.id_number, "name": person.name}
