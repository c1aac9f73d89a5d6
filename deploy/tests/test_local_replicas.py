"""`yb-local up --replicas N` / `YB_REPLICAS=N make up`: N processes per service, each on its own port,
all listed in the gateway's YB_GATEWAY_UPSTREAMS (the gateway takes them round-robin). No process is
started here: `start_process` is replaced by a recorder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.proxy import Upstreams
from gateway.settings import GatewaySettings
from yb_deploy import local, platform
from yb_deploy.local import MAX_REPLICAS, ReplicaCountError, config_from, replica_count
from yb_deploy.platform import SERVICES, PlatformConfig


def _config(replicas: int) -> PlatformConfig:
    return PlatformConfig(
        data_dir=Path("/nonexistent/yb"),
        admin_database_url="postgresql://a@h/db",
        broker_url="amqp://b",
        replicas=replicas,
    )


def test_every_replica_gets_a_port_of_its_own_and_the_gateway_lists_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(3)
    upstreams = json.loads(config.env_for("gateway")["YB_GATEWAY_UPSTREAMS"])
    assert upstreams["claims"] == ["http://127.0.0.1:8102", "http://127.0.0.1:8202", "http://127.0.0.1:8302"]
    ports = [config.replica_port(s, r) for s in SERVICES for r in range(3)]
    assert len(set(ports)) == len(ports) and config.ports["gateway"] not in ports
    monkeypatch.setenv("YB_GATEWAY_UPSTREAMS", json.dumps(upstreams))
    assert GatewaySettings().upstreams["claims"] == upstreams["claims"]


@pytest.mark.parametrize("replicas", [1, 2, 3, MAX_REPLICAS])
def test_n_replicas_give_n_upstream_urls_per_service(monkeypatch: pytest.MonkeyPatch, replicas: int) -> None:
    config = _config(replicas)
    upstreams = json.loads(config.env_for("gateway")["YB_GATEWAY_UPSTREAMS"])
    assert set(upstreams) == set(SERVICES)
    every_port: list[int] = []
    for service in SERVICES:
        urls = upstreams[service]
        assert len(urls) == replicas == len(set(urls)), service
        assert urls[0] == config.service_url(service)  # replica 0 keeps the service's usual port
        ports = [int(url.rsplit(":", 1)[1]) for url in urls]
        assert ports == [config.replica_port(service, r) for r in range(replicas)]
        every_port += ports
    assert len(set(every_port)) == len(every_port) and config.ports["gateway"] not in every_port
    assert max(every_port) < 9000
    # Every service process sees the same list (replicas call each other only through the gateway,
    # but the env is one recipe): and the gateway parses it and takes each replica in turn.
    assert all(json.loads(config.env_for(s)["YB_GATEWAY_UPSTREAMS"]) == upstreams for s in SERVICES)
    monkeypatch.setenv("YB_GATEWAY_UPSTREAMS", json.dumps(upstreams))
    balancer = Upstreams(GatewaySettings().upstreams)
    for service in SERVICES:
        first_choices = [next(balancer.in_turn(service)) for _ in range(replicas)]
        assert sorted(first_choices) == sorted(upstreams[service]), service


@pytest.mark.parametrize("replicas", [1, 3])
def test_start_all_starts_each_replica_on_its_port_then_the_gateway(
    monkeypatch: pytest.MonkeyPatch, replicas: int
) -> None:
    calls: list[tuple[str, int, int | None]] = []

    def record(config: PlatformConfig, process: str, replica: int = 0, port: int | None = None) -> int:
        calls.append((process, replica, port))
        return 0

    monkeypatch.setattr(platform, "start_process", record)
    config = _config(replicas)
    platform.start_all(config)
    assert calls[-1][0] == "gateway" and [c for c in calls if c[0] == "gateway"] == [calls[-1]]
    started = {(p, r, port) for p, r, port in calls[:-1]}
    assert len(started) == len(calls) - 1 == replicas * len(SERVICES)
    assert started == {(s, r, config.replica_port(s, r)) for s in SERVICES for r in range(replicas)}


def test_the_local_runner_reads_the_replica_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YB_REPLICAS", "2")
    assert config_from("postgresql://a@h/db", "amqp://b").replicas == 2
    assert config_from("postgresql://a@h/db", "amqp://b", 3).replicas == 3  # --replicas wins
    monkeypatch.delenv("YB_REPLICAS")
    assert config_from("postgresql://a@h/db", "amqp://b").replicas == 1
    monkeypatch.setenv("YB_REPLICAS", "")
    assert replica_count() == 1


@pytest.mark.parametrize("bad", ["0", "-1", "three", str(MAX_REPLICAS + 1)])
def test_a_bad_replica_count_is_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    with pytest.raises(ReplicaCountError):
        replica_count(bad)
    monkeypatch.setenv("YB_REPLICAS", bad)
    with pytest.raises(ReplicaCountError):
        config_from("postgresql://a@h/db", "amqp://b")

    def must_not_run() -> None:
        raise AssertionError("servers resolved despite a bad replica count")

    monkeypatch.setattr(local, "resolve_servers", must_not_run)
    monkeypatch.setattr(local, "_state", dict)
    assert local.main(["up"]) == 2
    assert "replicas" in capsys.readouterr().err
    # down does not depend on the count, so a stray YB_REPLICAS never keeps a platform from stopping.
    assert local.config_from("postgresql://a@h/db", "amqp://b", 1).replicas == 1


def test_the_command_line_passes_replicas_to_up(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int | None] = []
    monkeypatch.setattr(local, "up", lambda replicas=None: seen.append(replicas) or 0)
    assert local.main(["up", "--replicas", "3"]) == 0
    assert local.main(["up"]) == 0
    assert seen == [3, None]
    with pytest.raises(SystemExit) as exit_:
        local.main(["down", "--replicas", "3"])
    assert exit_.value.code == 2
