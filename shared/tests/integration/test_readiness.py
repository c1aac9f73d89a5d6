"""/health/ready checks the database, the broker connection and the outbox backlog, and names what failed."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.service import create_service_app
from shared.settings import CommonSettings
from shared.testing.backbone import SCHEMA
from shared.testing.plugin import RunServers
from yb_deploy.servers import free_port

pytestmark = pytest.mark.integration


def app_with(tmp_path, database_url: str, broker_url: str, namespace: str):  # type: ignore[no-untyped-def]
    DevIssuer.load_or_create(tmp_path, "https://auth.test", "yibao-test")
    settings = CommonSettings(
        environment="test",
        database_url=database_url,
        broker_url=broker_url,
        broker_namespace=namespace,
        auth_jwks_file=tmp_path / JWKS_FILE,
        log_json=False,
    )
    return create_service_app(SCHEMA, "readiness test", settings, routers=[])


def ready_answer(client: TestClient, want: int, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get("/health/ready")
        if response.status_code == want or time.monotonic() > deadline:
            assert response.status_code == want, response.json()
            return response.json()
        time.sleep(0.2)


@pytest.fixture(autouse=True)
async def remove_queues(test_servers: RunServers):  # type: ignore[no-untyped-def]
    yield
    from shared.testing.plugin import delete_broker_namespace

    await delete_broker_namespace(test_servers.broker_url, f"{test_servers.namespace}r", [SCHEMA])


def test_an_unreachable_broker_is_named_and_readiness_returns_with_it(tmp_path, backbone_database: str, test_servers: RunServers) -> None:  # type: ignore[no-untyped-def]
    app = app_with(tmp_path, backbone_database, f"amqp://guest:guest@127.0.0.1:{free_port()}/", f"{test_servers.namespace}r")
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        body = ready_answer(client, 503)
        assert body["checks"]["broker"] == {"ok": False, "detail": "消息代理未连接"}
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["outbox"]["ok"] is True and "backlog" in body["checks"]["outbox"]


def test_a_reachable_database_and_broker_make_it_ready(tmp_path, backbone_database: str, test_servers: RunServers) -> None:  # type: ignore[no-untyped-def]
    app = app_with(tmp_path, backbone_database, test_servers.broker_url, f"{test_servers.namespace}r")
    with TestClient(app) as client:
        body = ready_answer(client, 200)
        assert all(check["ok"] for check in body["checks"].values())
        assert "yb_outbox_backlog" in client.get("/metrics").text


def test_an_unreachable_database_is_named(tmp_path, test_servers: RunServers) -> None:  # type: ignore[no-untyped-def]
    dead_db = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = app_with(tmp_path, dead_db, test_servers.broker_url, f"{test_servers.namespace}r")
    with TestClient(app) as client:
        body = ready_answer(client, 503)
        assert body["checks"]["database"]["ok"] is False and "数据库不可用" in body["checks"]["database"]["detail"]
        assert body["checks"]["outbox"]["ok"] is False
