"""A service's internal ops endpoints against the real database and broker: event flow, deadline and
peer hooks (and their gauges), dead letters shown masked, replay only by admin and only audited."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import aio_pika
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.auth import Principal, Role
from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.clock import SystemClock
from shared.db import UnitOfWork
from shared.events import new_envelope
from shared.events.consumer import Subscription
from shared.events.topology import Names
from shared.ops import DeadlineCounts, DeadlineProbe, OpsHooks, PeerStatus
from shared.service import create_service_app
from shared.settings import CommonSettings
from shared.tables import replay_audit
from shared.testing.backbone import SCHEMA, PingedV1, record_effect
from shared.testing.runs import RunServers, delete_broker_namespace

pytestmark = pytest.mark.integration

ID_NUMBER, NAME = "120101199003071235", "张三"


async def overdue_probe(uow: UnitOfWork) -> DeadlineCounts:
    assert uow.clock.today()  # probes get the service's clock
    return DeadlineCounts(at_risk=2, overdue=1, oldest_overdue_s=3600.0)


async def peers(uow: UnitOfWork) -> list[PeerStatus]:
    return [PeerStatus("110000", pending=4, last_success_at=datetime(2026, 5, 1, tzinfo=UTC), last_error=f"timeout for {ID_NUMBER}",
                       last_error_at=datetime(2026, 5, 2, tzinfo=UTC))]  # fmt: skip


@pytest.fixture
def service(tmp_path, backbone_database: str, test_servers: RunServers):  # type: ignore[no-untyped-def]
    issuer = DevIssuer.load_or_create(tmp_path, "https://auth.test", "yibao-test")
    namespace = f"{test_servers.namespace}o"
    settings = CommonSettings(
        environment="test",
        database_url=backbone_database,
        broker_url=test_servers.broker_url,
        broker_namespace=namespace,
        auth_issuer="https://auth.test",
        auth_audience="yibao-test",
        auth_jwks_file=tmp_path / JWKS_FILE,
        consumer_retry_delays_ms=[100],
        ops_probe_cache_s=0,
        log_json=False,
    )
    hooks = OpsHooks(
        deadlines=[DeadlineProbe("facility_reply", overdue_probe, title="定点申请受理答复")], peers=peers
    )
    app = create_service_app(
        SCHEMA,
        "ops test",
        settings,
        routers=[],
        subscriptions=[Subscription(PingedV1, record_effect)],
        ops=hooks,
    )

    def token(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(Principal(subject=f'{role.value}-1', role=role))}"}

    with TestClient(app) as client:
        wait_ready(client)
        # Ready means connected to the broker; the consumer declares its queues and attaches right after.
        ops = token(Role.ops)
        poll(
            lambda: (
                client.get("/internal/ops/status", headers=ops)
                .json()["event_flow"]["queues"]
                .get("consumers")
            )
        )
        yield client, token, Names(namespace, SCHEMA), test_servers.broker_url
    asyncio.run(delete_broker_namespace(test_servers.broker_url, namespace, [SCHEMA]))
    asyncio.run(_drop_audit_table(backbone_database))


def wait_ready(client: TestClient, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while client.get("/health/ready").status_code != 200:
        assert time.monotonic() < deadline, client.get("/health/ready").json()
        time.sleep(0.1)


async def _run_sql(database_url: str, action) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(database_url, connect_args={"server_settings": {"search_path": SCHEMA}})
    async with engine.begin() as connection:
        await action(connection)
    await engine.dispose()


async def _drop_audit_table(database_url: str) -> None:
    await _run_sql(database_url, lambda c: c.execute(text("DROP TABLE IF EXISTS dead_letter_replays")))


def create_audit_table(database_url: str) -> None:
    asyncio.run(_run_sql(database_url, lambda c: c.run_sync(replay_audit.create_all)))


async def _publish_poison(broker_url: str, names: Names) -> str:
    """An envelope the handler can never take (value is no number), carrying personal fields."""
    envelope = json.loads(new_envelope(PingedV1(value=1), SystemClock()).model_dump_json())
    envelope["payload"] = {
        "value": f"no number {ID_NUMBER}",
        "name": NAME,
        "holder": {"id_number": ID_NUMBER},
    }
    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        message = aio_pika.Message(
            json.dumps(envelope, ensure_ascii=False).encode(), message_id=envelope["event_id"]
        )
        await channel.default_exchange.publish(message, routing_key=names.queue)
    finally:
        await connection.close()
    return envelope["event_id"]


def poll(check, timeout_s: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def test_internal_status_needs_ops_or_admin(service) -> None:  # type: ignore[no-untyped-def]
    client, token, _, _ = service
    assert client.get("/internal/ops/status").status_code == 401
    for role in (Role.staff, Role.insured, Role.facility, Role.unit, Role.peer_office):
        assert client.get("/internal/ops/status", headers=token(role)).status_code == 403
        assert client.get("/internal/ops/dead-letters", headers=token(role)).status_code == 403
    assert (
        client.post(
            "/internal/ops/dead-letters/replay", json={"message_id": "x"}, headers=token(Role.ops)
        ).status_code
        == 403
    )
    assert client.get("/internal/ops/status", headers=token(Role.admin)).status_code == 200
    assert "/internal/ops/status" not in json.dumps(client.get(f"/api/v1/{SCHEMA}/openapi.json").json())


def test_status_reports_flow_deadlines_and_peers_and_the_gauges_follow(service) -> None:  # type: ignore[no-untyped-def]
    client, token, _, _ = service
    status = client.get("/internal/ops/status", headers=token(Role.ops)).json()
    flow = status["event_flow"]
    assert flow["outbox"]["available"] and flow["outbox"]["backlog"] >= 0
    assert flow["queues"] | {"messages": 0} == {
        "available": True,
        "messages": 0,
        "consumers": 1,
        "retrying": 0,
        "dead_letters": 0,
    }
    assert flow["subscriptions"] == 1 and set(flow["per_minute"]) == {
        "published",
        "consumed",
        "dead_lettered",
    }
    assert status["deadlines"] == [
        {
            "kind": "facility_reply",
            "title": "定点申请受理答复",
            "available": True,
            "at_risk": 2,
            "overdue": 1,
            "oldest_overdue_s": 3600.0,
        }
    ]
    [peer] = status["peers"]
    assert peer["peer"] == "110000" and peer["pending"] == 4 and ID_NUMBER not in peer["last_error"]
    scraped = client.get("/metrics").text
    for line in (
        f'yb_deadlines_overdue{{kind="facility_reply",service="{SCHEMA}"}} 1.0',
        f'yb_deadlines_at_risk{{kind="facility_reply",service="{SCHEMA}"}} 2.0',
        f'yb_peer_pending_messages{{peer="110000",service="{SCHEMA}"}} 4.0',
        f'yb_peer_failing{{peer="110000",service="{SCHEMA}"}} 1.0',
        f'yb_service_ready{{service="{SCHEMA}"}} 1.0',
        f'yb_queue_consumers{{service="{SCHEMA}"}} 1.0',
    ):
        assert line in scraped, line


def test_a_poison_message_is_shown_masked_and_replayed_only_with_an_audit_record(
    service, backbone_database: str
) -> None:  # type: ignore[no-untyped-def]
    client, token, names, broker_url = service
    message_id = asyncio.run(_publish_poison(broker_url, names))
    ops = token(Role.ops)
    poll(
        lambda: (
            client.get("/internal/ops/status", headers=ops).json()["event_flow"]["queues"]["dead_letters"]
            == 1
        )
    )

    listing = client.get("/internal/ops/dead-letters", headers=ops)
    assert listing.status_code == 200
    assert NAME not in listing.text and ID_NUMBER not in listing.text
    [letter] = listing.json()["items"]
    assert letter["message_id"] == message_id and letter["event_type"] == "backbone.pinged"
    assert (
        letter["envelope"]["payload"]["name"] == "***"
        and letter["envelope"]["payload"]["holder"]["id_number"] == "***"
    )
    assert "PoisonMessage" in letter["error"]
    errors = client.get("/internal/ops/status", headers=ops).json()["recent_errors"]
    assert any(e["message"] == "message dead-lettered" for e in errors)
    assert NAME not in json.dumps(errors, ensure_ascii=False)

    admin = token(Role.admin)
    # Without the audit table a replay is refused and the letter stays where it is.
    refused = client.post("/internal/ops/dead-letters/replay", json={"message_id": message_id}, headers=admin)
    assert refused.status_code == 503 and refused.json()["code"] == "replay_not_audited"
    assert len(client.get("/internal/ops/dead-letters", headers=ops).json()["items"]) == 1

    create_audit_table(backbone_database)
    missing = client.post("/internal/ops/dead-letters/replay", json={"message_id": "no-such"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "dead_letter_not_found"
    done = client.post(
        "/internal/ops/dead-letters/replay",
        json={"message_id": message_id, "reason": "处理程序已修复"},
        headers=admin,
    )
    assert done.status_code == 200, done.text
    assert done.json()["replayed"] == 1 and done.json()["audit"]["by"] == "admin-1"

    async def audit_rows() -> list:
        engine = create_async_engine(
            backbone_database, connect_args={"server_settings": {"search_path": SCHEMA}}
        )
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT message_id, event_type, replayed_by, role, reason, replayed FROM dead_letter_replays"
                    )
                )
            ).all()
        await engine.dispose()
        return [tuple(r) for r in rows]

    assert asyncio.run(audit_rows()) == [
        (message_id, "backbone.pinged", "admin-1", "admin", "处理程序已修复", 1)
    ]
    # Still poison: it comes back to the dead-letter queue, counted again.
    poll(
        lambda: (
            client.get("/internal/ops/status", headers=ops).json()["event_flow"]["queues"]["dead_letters"]
            == 1
        )
    )
