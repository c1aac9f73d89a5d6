"""The transfer service app (Tianjin, 120000) on a database of its own, with a stand-in peer office
(Tangshan, 130200) that the tests play: they sign its messages with its key and read what the
service sent it. Coverage comes from registration's events, fed to the projection as the consumer
would."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import jwt
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select

from shared.auth import Role
from shared.events.catalog import RegistrationApprovedV1, RegistrationStoppedV1
from shared.identity import IdType, person_id_for
from shared.migrations import bootstrap, service_database_url, upgrade
from shared.settings import DEVELOPMENT_PERSON_KEY
from shared.testing.asgi import serve
from shared.testing.e2e import new_resident_id
from shared.testing.service_app import Harness, in_schema, service_app
from svc_transfer.interop.peers import write_peers
from svc_transfer.interop.protocol import MEDIA_TYPE, Message, MessageType, Signer, verify
from svc_transfer.models import interop_outbox
from svc_transfer.settings import TransferSettings
from svc_transfer.usecases import coverage as usecases
from yb_deploy.platform import REPO
from yb_deploy.pytest_plugin import isolated_servers

OURS, PEER = "120000", "130200"


@dataclass
class StandInPeer:
    """Tangshan as the tests play it: acknowledges what it is sent, or answers what a test tells it to."""

    signer: Signer
    our_key: dict | None = None
    received: list[Message] = field(default_factory=list)
    answer_status: int = 200
    hang_s: float = 0.0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/interop/v1/messages")
        async def deliver(request: Request) -> Response:
            if self.hang_s:
                await asyncio.sleep(self.hang_s)
            token = (await request.body()).decode()
            message = verify(token, jwt.PyJWK(self.our_key, algorithm="ES256"), PEER, max_age_s=300)
            if self.answer_status != 200:
                return Response(
                    '{"code": "refused"}',
                    status_code=self.answer_status,
                    media_type="application/problem+json",
                )
            self.received.append(message)
            ack = Message(
                uuid.uuid4(), MessageType.ack, PEER, OURS, message.transfer_ref, {"ack": str(message.id)}
            )
            return Response(self.signer.sign(ack), media_type=MEDIA_TYPE)

        return app


@dataclass
class Office:
    harness: Harness
    peer: StandInPeer
    admin_url: str
    peers_file: Any
    peer_url: str

    @property
    def client(self):  # type: ignore[no-untyped-def]
        return self.harness.client

    def staff(self, office: str = OURS, level: str = "city") -> dict[str, str]:
        return self.harness.token(
            Role.staff, office_code=office, office_level=level, subject=f"staff-{office}"
        )

    def person_token(self, id_number: str) -> dict[str, str]:
        return self.harness.token(Role.insured, person_id=person_of(id_number))

    def send(self, type_: MessageType, ref: uuid.UUID, body: dict, mid: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
        message = Message(mid or uuid.uuid4(), type_, PEER, OURS, ref, body)
        return self.client.post(
            "/interop/v1/messages",
            content=self.peer.signer.sign(message),
            headers={"Content-Type": MEDIA_TYPE},
        )

    def work(self, job) -> Any:  # type: ignore[no-untyped-def]
        return asyncio.run(in_schema(self.admin_url, "transfer", job, datetime.now(UTC)))

    def outbox(self, **where: Any) -> list[Any]:
        async def rows(uow):  # type: ignore[no-untyped-def]
            query = select(interop_outbox).where(*(interop_outbox.c[k] == v for k, v in where.items()))
            return (await uow.session.execute(query.order_by(interop_outbox.c.created_at))).all()

        return self.work(rows)

    def covered(
        self, id_number: str, office: str, start: date, end: date | None = None, stopped_on: date | None = None,
        scheme: str = "resident",
    ) -> uuid.UUID:  # fmt: skip
        """Registration approved an enrollment (and, with `stopped_on`, stopped it): the projection learns it."""
        enrollment, person = uuid.uuid4(), person_of(id_number)

        async def record(uow):  # type: ignore[no-untyped-def]
            approved = RegistrationApprovedV1(
                enrollment_id=enrollment, person_id=person, office_code=office, scheme=scheme,
                tier="adult_middle" if scheme == "resident" else None, benefit_start=start, benefit_end=end,
            )  # fmt: skip
            await usecases.record_approved(uow, None, approved)  # type: ignore[arg-type]
            if stopped_on is not None:
                stopped = RegistrationStoppedV1(
                    enrollment_id=enrollment, person_id=person, office_code=office, scheme=scheme,
                    stopped_on=stopped_on, reason="单位停保",
                )  # fmt: skip
                await usecases.record_stopped(uow, None, stopped)  # type: ignore[arg-type]

        self.work(record)
        return enrollment


def person_of(id_number: str) -> uuid.UUID:
    return person_id_for(IdType.resident_id, id_number, DEVELOPMENT_PERSON_KEY.encode())


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    folder = tmp_path_factory.mktemp("interop")
    peer = StandInPeer(Signer.load_or_create(PEER, folder / "peer.pem"))
    ours = Signer.load_or_create(OURS, folder / "ours.pem")
    peer.our_key = ours.public_jwk()
    with isolated_servers() as servers, serve(peer.app()) as peer_url:
        asyncio.run(bootstrap(servers.admin_url, ("transfer",)))
        upgrade(REPO / "svc-transfer", service_database_url(servers.admin_url, "transfer"))
        peers_file = folder / "peers.json"
        write_peers(peers_file, [peer_entry(peer, peer_url)])
        settings = functools.partial(
            TransferSettings, office_code=OURS, signing_key_file=folder / "ours.pem", peers_file=peers_file,
            interop_delivery_interval_s=0.2, interop_retry_first_s=0.2, interop_retry_max_s=0.5, interop_timeout_s=2,
            interop_max_attempts=4,
        )  # fmt: skip
        with service_app(
            "transfer", lambda s: _app(s), settings, servers.admin_url, servers, tmp_path_factory
        ) as harness:
            yield Office(harness, peer, servers.admin_url, peers_file, peer_url)


def _app(settings: TransferSettings) -> FastAPI:
    from svc_transfer.main import create_app

    return create_app(settings)


def peer_entry(peer: StandInPeer, url: str | None, code: str = PEER) -> dict:
    return {"office_code": code, "name": "唐山市医疗保障经办机构", "url": url, "profile": "seeds_5_10_5",
            "keys": [peer.signer.public_jwk()]}  # fmt: skip


def new_person(district: str = "130202") -> str:
    return new_resident_id(district)
