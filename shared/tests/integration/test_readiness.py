"""/health/ready is the database only; /health adds the degraded states (broker, consumer, outbox backlog, audit)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.service import HealthCheck, create_service_app
from shared.settings import CommonSettings
from shared.testing.backbone import SCHEMA
from shared.testing.runs import RunServers
from shared.testing.servers import free_port

pytestmark = pytest.mark.integration


def app_with(tmp_path, database_url: str, broker_url: str, namespace: str, health_checks=()):  # type: ignore[no-untyped-def]
    DevIssuer.load_or_create(tmp_path, "https://auth.test", "yibao-test")
    settings = CommonSettings(
        environment="test",
        database_url=database_url,
        broker_url=broker_url,
        broker_namespace=namespace,
        auth_jwks_file=tmp_path / JWKS_FILE,
        log_json=False,
    )
    return create_service_app(SCHEMA, "readiness test", settings, routers=[], health_checks=health_checks)


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
    from shared.testing.runs import delete_broker_namespace

    await delete_broker_namespace(test_servers.broker_url, f"{test_servers.namespace}r", [SCHEMA])


def test_an_unreachable_broker_leaves_the_service_ready_and_is_named_as_degraded(
    tmp_path, backbone_database: str, test_servers: RunServers
) -> None:  # type: ignore[no-untyped-def]
    app = app_with(
        tmp_path,
        backbone_database,
        f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        f"{test_servers.namespace}r",
    )
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        body = ready_answer(client, 200)
        assert body["checks"] == {"database": {"ok": True}}, "readiness is the database only"
        health = client.get("/health")
        assert health.status_code == 200, health.text
        report = health.json()
        assert report["status"] == "degraded" and report["ready"] is True
        assert report["degraded"] == ["broker", "consumer"]
        assert (
            report["checks"]["broker"]["ok"] is False
            and "消息代理未连接" in report["checks"]["broker"]["detail"]
        )
        assert report["checks"]["consumer"]["ok"] is False
        assert report["checks"]["outbox"]["ok"] is True and "backlog" in report["checks"]["outbox"]
        metrics = client.get("/metrics").text
        assert 'yb_service_ready{service="backbone"} 1.0' in metrics
        assert 'yb_broker_connected{service="backbone"} 0.0' in metrics
        assert 'yb_consumer_attached{service="backbone"} 0.0' in metrics


def test_a_reachable_database_and_broker_make_it_ready_and_not_degraded(
    tmp_path, backbone_database: str, test_servers: RunServers
) -> None:  # type: ignore[no-untyped-def]
    app = app_with(tmp_path, backbone_database, test_servers.broker_url, f"{test_servers.namespace}r")
    with TestClient(app) as client:
        ready_answer(client, 200)
        deadline = time.monotonic() + 20
        while (report := client.get("/health").json())["status"] != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)  # the consumer attaches just after the connection
        assert report["status"] == "ready" and report["degraded"] == [], report
        assert all(check["ok"] for check in report["checks"].values())
        assert "yb_outbox_backlog" in client.get("/metrics").text


def test_a_services_own_checks_count_the_same_on_health_ready_health_and_metrics(
    tmp_path, backbone_database: str, test_servers: RunServers
) -> None:  # type: ignore[no-untyped-def]
    state = {"config": None, "backlog": None}

    async def config(runtime):  # type: ignore[no-untyped-def]
        return state["config"]

    async def backlog(runtime):  # type: ignore[no-untyped-def]
        if state["backlog"] == "raise":
            raise RuntimeError("unreadable")
        return state["backlog"]

    checks = [HealthCheck("config", config, readiness=True), HealthCheck("backlog", backlog)]
    app = app_with(tmp_path, backbone_database, test_servers.broker_url, f"{test_servers.namespace}r", checks)
    with TestClient(app) as client:
        assert ready_answer(client, 200)["checks"] == {"database": {"ok": True}}  # nothing to report: absent
        state["backlog"] = {"ok": False, "detail": "积压"}
        health = client.get("/health").json()
        assert health["ready"] is True and "backlog" in health["degraded"], health
        assert 'yb_service_degraded{service="backbone"} 1.0' in client.get("/metrics").text.splitlines()
        state["backlog"] = "raise"  # a check that fails to run is a failed check, not a 500
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["checks"]["backlog"]["ok"] is False
        state["config"] = {"ok": False, "detail": "配置文件损坏"}
        body = ready_answer(client, 503)
        assert body["checks"]["config"]["detail"] == "配置文件损坏"
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "not_ready"
        assert "config" not in health.json()["degraded"]
        assert 'yb_service_ready{service="backbone"} 0.0' in client.get("/metrics").text.splitlines()


def test_an_unreachable_database_is_named_and_makes_it_not_ready(tmp_path, test_servers: RunServers) -> None:  # type: ignore[no-untyped-def]
    dead_db = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = app_with(tmp_path, dead_db, test_servers.broker_url, f"{test_servers.namespace}r")
    with TestClient(app) as client:
        body = ready_answer(client, 503)
        assert (
            body["checks"]["database"]["ok"] is False
            and "数据库不可用" in body["checks"]["database"]["detail"]
        )
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "not_ready"
        assert health.json()["checks"]["outbox"]["ok"] is False
