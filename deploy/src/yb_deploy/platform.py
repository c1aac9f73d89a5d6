"""Starting and stopping the whole platform on one machine: what `make up` and the e2e tests use."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.auth.issuer import JWKS_FILE, DevIssuer
from shared.migrations import bootstrap, service_database_url, upgrade
from shared.testing.servers import stop_pid
from shared.testing.tokens import TEST_ACCOUNTS_FILE

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("registration", "claims", "settlement", "transfer", "facility")
APPS = {s: f"svc_{s}.main:create_app" for s in SERVICES} | {"gateway": "gateway.main:create_app"}
DEFAULT_PORTS = {
    "gateway": 8000,
    "registration": 8101,
    "claims": 8102,
    "settlement": 8103,
    "transfer": 8104,
    "facility": 8105,
}
ISSUER = "https://auth.yibao.local"
INTEROP_KEY_FILE = "interop-signing.pem"
AUDIENCE = "yibao-platform"


@dataclass
class PlatformConfig:
    data_dir: Path
    admin_database_url: str
    broker_url: str
    broker_namespace: str = "yibao"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    environment: str = "development"
    extra_env: dict[str, str] = field(default_factory=dict)
    replicas: int = 1  # processes per service; the gateway balances across them

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def peers_file(self) -> Path:
        """The other regions' offices this deployment exchanges transfers with (absent: none)."""
        return self.data_dir / "interop-peers.json"

    @property
    def test_accounts_file(self) -> Path:
        """The accounts a test platform's gateway lists besides the demo accounts, written by the tests
        as they mint tokens (shared.testing.tokens); never handed to a gateway outside the test environment."""
        return self.keys_dir / TEST_ACCOUNTS_FILE

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def replica_port(self, service: str, replica: int) -> int:
        """Replica 0 on the service's port, the others 100 apart (8101, 8201, 8301 …)."""
        return self.ports[service] + 100 * replica

    def replica_urls(self, service: str) -> list[str]:
        return [f"http://127.0.0.1:{self.replica_port(service, r)}" for r in range(self.replicas)]

    def env_for(self, process: str) -> dict[str, str]:
        env = {
            **os.environ,
            "YB_ENVIRONMENT": self.environment,
            "YB_BROKER_URL": self.broker_url,
            "YB_BROKER_NAMESPACE": self.broker_namespace,
            "YB_AUTH_ISSUER": ISSUER,
            "YB_AUTH_AUDIENCE": AUDIENCE,
            "YB_AUTH_JWKS_FILE": str(self.keys_dir / JWKS_FILE),
            "YB_GATEWAY_KEY_DIR": str(self.keys_dir),
            "YB_GATEWAY_UPSTREAMS": json.dumps({s: self.replica_urls(s) for s in SERVICES}),
            "YB_TRANSFER_SIGNING_KEY_FILE": str(self.keys_dir / INTEROP_KEY_FILE),
            "YB_TRANSFER_PEERS_FILE": str(self.peers_file),
            **self.extra_env,
        }
        if process == "gateway" and self.environment == "test":
            env["YB_GATEWAY_TEST_ACCOUNTS_FILE"] = str(self.test_accounts_file)
        if process in SERVICES:
            env[f"YB_{process.upper()}_DATABASE_URL"] = service_database_url(self.admin_database_url, process)
        return env


def prepare(config: PlatformConfig) -> None:
    """Keys, database roles and schemas, migrations, demo data: everything before a process starts."""
    bootstrap_platform(config)
    migrate(config)
    if config.environment != "production":
        seed_demo_data(config)


def seed_demo_data(config: PlatformConfig) -> None:
    """The sample registry of designated institutions (announced by event once the services run)."""
    from svc_facility.seed import seed_sample_registry

    asyncio.run(seed_sample_registry(service_database_url(config.admin_database_url, "facility")))


def bootstrap_platform(config: PlatformConfig) -> None:
    """Development keys, the database, and each service's role and schema (needs the admin URL)."""
    for folder in (config.keys_dir, config.run_dir, config.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    DevIssuer.load_or_create(config.keys_dir, ISSUER, AUDIENCE)
    interop_signer(config)
    asyncio.run(bootstrap(config.admin_database_url, SERVICES))
    asyncio.run(declare_event_queues(config))


async def declare_event_queues(config: PlatformConfig) -> None:
    """Every service's queue and bindings, before any process starts: an event published by one
    service's relay while another service is still starting is then kept for it, not lost."""
    import aio_pika

    from shared.events.topology import Names, declare_service_queues

    connection = await aio_pika.connect(config.broker_url)
    try:
        channel = await connection.channel()
        for service in SERVICES:
            subscriptions = importlib.import_module(f"svc_{service}.events.handlers").SUBSCRIPTIONS
            event_types = [s.event_type for s in subscriptions]
            await declare_service_queues(channel, Names(config.broker_namespace, service), event_types, ())
    finally:
        await connection.close()


def interop_signer(config: PlatformConfig):  # type: ignore[no-untyped-def]
    """This deployment's key for inter-office messages (created once, before any replica starts)."""
    from svc_transfer.interop.protocol import Signer

    office = config.extra_env.get("YB_TRANSFER_OFFICE_CODE", "120000")
    return Signer.load_or_create(office, config.keys_dir / INTEROP_KEY_FILE)


def migrate(config: PlatformConfig, services: tuple[str, ...] = SERVICES) -> None:
    for service in services:
        upgrade(REPO / f"svc-{service}", service_database_url(config.admin_database_url, service))


def start_process(
    config: PlatformConfig,
    process: str,
    replica: int = 0,
    port: int | None = None,
    factory: str | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start one process; `factory` and `env` replace its app factory and add to its environment
    (the fault tests start a process that kills itself at a chosen point: yb_deploy.faults)."""
    port = port or config.replica_port(process, replica)
    name = process if replica == 0 else f"{process}-{replica}"
    log = open(config.log_dir / f"{name}.log", "ab")
    command = [
        sys.executable, "-m", "uvicorn", "--factory", factory or APPS[process],
        "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip
    child = subprocess.Popen(
        command,
        env=config.env_for(process) | (env or {}),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=REPO,
    )
    (config.run_dir / f"{name}.pid").write_text(str(child.pid))
    return child.pid


def start_all(config: PlatformConfig) -> None:
    for service in SERVICES:
        for replica in range(config.replicas):
            start_process(config, service, replica, config.replica_port(service, replica))
    start_process(config, "gateway")


def wait_until_ready(config: PlatformConfig, timeout_s: float = 90) -> dict:
    """Poll the gateway's aggregated health until every service is ready and nothing is degraded
    (broker connected, consumers attached): the platform is then fully up, events included."""
    deadline = time.monotonic() + timeout_s
    last: dict | str = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{config.gateway_url}/health", timeout=5)
            answer = response.json()
            last = answer
            if response.status_code == 200 and answer.get("status") == "ready":
                return answer
        except (httpx.HTTPError, ValueError) as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise TimeoutError(f"platform not ready after {timeout_s:.0f} s: {last}")


def stop_process(config: PlatformConfig, process: str, replica: int = 0) -> bool:
    """Stop one process this runner started (tests of what operations see when a service is down)."""
    pid_file = config.run_dir / f"{process if replica == 0 else f'{process}-{replica}'}.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return False
    stop_pid(pid)
    pid_file.unlink(missing_ok=True)
    return True


def stop_all(config: PlatformConfig) -> list[str]:
    """Stop every process this runner started (by its pid files), gateway first."""
    stopped = []
    pid_files = sorted(config.run_dir.glob("*.pid"), key=lambda p: not p.name.startswith("gateway"))
    for pid_file in pid_files:
        try:
            pid = int(pid_file.read_text())
        except ValueError:
            pid = 0
        if pid:
            stop_pid(pid)
            stopped.append(pid_file.stem)
        pid_file.unlink(missing_ok=True)
    return stopped
