"""Two replicas of svc-transfer on one database: each overdue alert raised once, each message sent once.

Both processes run the overdue scan and the delivery job at a high rate against the same rows; a
stand-in peer office counts what it receives.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from shared.clock import FixedClock
from shared.db import UnitOfWork, make_engine, make_session_factory
from shared.migrations import service_database_url
from shared.testing.asgi import serve
from shared.testing.servers import free_port
from svc_transfer.domain.profiles import PROFILES
from svc_transfer.domain.transfer import Certificate, Person, new_incoming
from svc_transfer.interop.exchange import Interop
from svc_transfer.interop.peers import PeerDirectory, write_peers
from svc_transfer.interop.protocol import MEDIA_TYPE, Message, MessageType, Signer, read_unverified, verify
from svc_transfer.repository.transfers import add
from svc_transfer.settings import TransferSettings
from yb_deploy.platform import bootstrap_platform, interop_signer, migrate, start_process, stop_process
from yb_deploy.pytest_plugin import isolated_servers, platform_config_for

CASES, MESSAGES = 60, 120
ACCEPTED_ON = date(2026, 9, 1)  # the letter was due 2026-09-08: long past


def stand_in_peer(peer: Signer, ours: dict, received: list[str]) -> FastAPI:
    app = FastAPI()
    import jwt

    key = jwt.PyJWK(ours, algorithm="ES256")

    @app.post("/interop/v1/messages")
    async def deliver(request: Request) -> Response:
        token = (await request.body()).decode()
        read_unverified(token)
        message = verify(token, key, peer.office_code, max_age_s=300)
        received.append(str(message.id))
        ack = Message(
            uuid.uuid4(),
            MessageType.ack,
            peer.office_code,
            message.sender,
            message.transfer_ref,
            {"ack": str(message.id)},
        )
        return Response(peer.sign(ack), media_type=MEDIA_TYPE)

    return app


async def seed(database_url: str, interop: Interop) -> tuple[set[str], list[uuid.UUID]]:
    engine = make_engine(database_url, 2, schema="transfer")
    uow = UnitOfWork(
        make_session_factory(engine), FixedClock(datetime(2026, 9, 1, 2, tzinfo=UTC)), "transfer"
    )
    queued, cases = [], set()
    try:
        async with uow:
            for n in range(CASES):
                certificate = Certificate(
                    f"13020020260{n:05d}", "130200", date(2026, 8, 31), 12, Decimal("100.00")
                )
                case = new_incoming(
                    person_id=uuid.uuid4(),
                    person=Person("resident_id", "130202199001011237", "某人"),
                    certificate=certificate,
                    office_code="120101",
                    profile="seeds_5_10_5",
                    by="t",
                    at=uow.clock.now(),
                )
                cases.add(str(case.id))
                await add(
                    uow.session, case.accept(PROFILES["seeds_5_10_5"], ACCEPTED_ON, "t", uow.clock.now(), 1)
                )
            for _ in range(MESSAGES):
                queued.append(await interop.queue(uow, "130200", MessageType.status_query, uuid.uuid4(), {}))
            await uow.commit()
    finally:
        await engine.dispose()
    return cases, queued


async def overdue_alerts(database_url: str) -> Counter:
    engine = make_engine(database_url, 1, schema="transfer")
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT envelope->'payload'->>'transfer_id' FROM outbox WHERE event_type = 'transfer.overdue'"
                )
            )
            return Counter(r[0] for r in rows)
    finally:
        await engine.dispose()


@pytest.mark.integration
def test_two_replicas_raise_each_alert_and_send_each_message_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A database, namespace and run folder of its own: the platform of the e2e tests may be running.
    with isolated_servers() as servers:
        config = platform_config_for(
            servers, YB_PERIODIC_INTERVAL_S="0.2", YB_TRANSFER_INTEROP_DELIVERY_INTERVAL_S="0.1"
        )
        bootstrap_platform(config)
        migrate(config, ("transfer",))
        database_url = service_database_url(servers.admin_url, "transfer")
        received, cases, queued, alerts = run_two_replicas(config, database_url, tmp_path)
    assert Counter(received) == Counter(str(q) for q in queued)  # every message, each exactly once
    assert set(alerts) == cases and set(alerts.values()) == {1}  # every overdue step, one alert each


def run_two_replicas(config, database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    peer = Signer.load_or_create("130200", tmp_path / "peer.pem")
    ours = interop_signer(config)
    received: list[str] = []
    with serve(stand_in_peer(peer, ours.public_jwk(), received)) as peer_url:
        write_peers(
            config.peers_file,
            [{"office_code": "130200", "name": "唐山", "url": peer_url, "keys": [peer.public_jwk()]}],
        )
        settings = TransferSettings(
            signing_key_file=config.keys_dir / "interop-signing.pem", peers_file=config.peers_file
        )
        cases, queued = asyncio.run(
            seed(database_url, Interop(settings, ours, PeerDirectory(config.peers_file)))
        )
        replicas = [(i, free_port()) for i in range(2)]
        for replica, port in replicas:
            start_process(config, "transfer", replica=replica, port=port)
        try:
            deadline = time.monotonic() + 60
            while (
                len(set(received)) < MESSAGES
                or sum(asyncio.run(overdue_alerts(database_url)).values()) < CASES
            ):
                assert time.monotonic() < deadline, f"{len(set(received))} messages, alerts incomplete"
                time.sleep(0.5)
            time.sleep(2)  # both replicas keep scanning and delivering: nothing more may happen
            for _, port in replicas:  # both really ran
                assert httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200
        finally:
            for replica, _ in replicas:
                stop_process(config, "transfer", replica)
    return received, cases, queued, asyncio.run(overdue_alerts(database_url))
