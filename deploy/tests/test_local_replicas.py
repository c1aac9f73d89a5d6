"""`YB_REPLICAS=N make up`: N processes per service, each on its own port, all behind the gateway."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.settings import GatewaySettings
from yb_deploy.local import config_from
from yb_deploy.platform import SERVICES, PlatformConfig


def test_every_replica_gets_a_port_of_its_own_and_the_gateway_lists_them_all(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = PlatformConfig(data_dir=Path("/tmp/x"), admin_database_url="postgresql://a@h/db", broker_url="amqp://b", replicas=3)
    upstreams = json.loads(config.env_for("gateway")["YB_GATEWAY_UPSTREAMS"])
    assert upstreams["claims"] == ["http://127.0.0.1:8102", "http://127.0.0.1:8202", "http://127.0.0.1:8302"]
    ports = [config.replica_port(s, r) for s in SERVICES for r in range(3)]
    assert len(set(ports)) == len(ports) and config.ports["gateway"] not in ports
    monkeypatch.setenv("YB_GATEWAY_UPSTREAMS", json.dumps(upstreams))
    assert GatewaySettings().upstreams["claims"] == upstreams["claims"]


def test_the_local_runner_reads_the_replica_count(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YB_REPLICAS", "2")
    assert config_from("postgresql://a@h/db", "amqp://b").replicas == 2
    monkeypatch.delenv("YB_REPLICAS")
    assert config_from("postgresql://a@h/db", "amqp://b").replicas == 1
