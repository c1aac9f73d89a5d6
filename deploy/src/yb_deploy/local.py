"""`yb-local`: run the platform on this machine (behind `make up` / `make down`).

    yb-local up [--replicas N]    start everything in the background, return once all are ready;
                                  N processes per service behind the gateway (default: $YB_REPLICAS or 1)
    yb-local down      stop what `up` started (and the private servers it started)
    yb-local status    the gateway's aggregated health
    yb-local bootstrap            development keys, the database, per-service roles and schemas
    yb-local migrate [SERVICE…]   run the services' migrations (default: all), each as its own role

Postgres and RabbitMQ: the URLs in YB_DATABASE_ADMIN_URL / YB_BROKER_URL (default: the standard
local ports); where none answers, private servers are started in .data/ from the installed binaries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx

from shared.testing.servers import (
    MissingServer,
    PrivatePostgres,
    PrivateRabbitMQ,
    postgres_answers,
    rabbitmq_answers,
)
from yb_deploy.platform import (
    REPO,
    SERVICES,
    PlatformConfig,
    bootstrap_platform,
    migrate,
    prepare,
    start_all,
    stop_all,
    wait_until_ready,
)

DATA = REPO / ".data"
STATE = DATA / "state.json"
DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/yibao"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
PRIVATE_PG_PORT = 55432
PRIVATE_RABBIT_PORT = 56720
# Replica r of a service listens 100 above replica r-1 (8101, 8201 … 8901): at most nine keeps every
# port below 9000, clear of the private servers' and other tools' usual ports.
MAX_REPLICAS = 9
DEMO_PASSWORD = "Demo@2026"  # the demo accounts' (gateway/src/gateway/demo_accounts.json)
REGION_NAMES = {"120000": "天津市", "130200": "唐山市", "130300": "秦皇岛市"}


# What `make up` runs as: a demonstration, where bills computed with sample policy data are paid.
def demo_env() -> dict[str, str]:
    return {
        "YB_CLAIMS_ALLOW_SAMPLE_POLICY_DATA": os.environ.get("YB_CLAIMS_ALLOW_SAMPLE_POLICY_DATA", "true")
    }


class ReplicaCountError(ValueError):
    pass


def replica_count(value: str | int | None = None) -> int:
    """Processes per service: `value` (from --replicas), else $YB_REPLICAS, else 1; 1 … MAX_REPLICAS."""
    raw = value if value is not None else os.environ.get("YB_REPLICAS", "").strip() or 1
    try:
        count = int(raw)
    except ValueError:
        raise ReplicaCountError(f"副本数必须是整数 (replicas must be a whole number): {raw!r}") from None
    if not 1 <= count <= MAX_REPLICAS:
        raise ReplicaCountError(
            f"副本数须在 1 到 {MAX_REPLICAS} 之间 (replicas must be 1–{MAX_REPLICAS}): {count}"
        )
    return count


def _state() -> dict:
    return json.loads(STATE.read_text()) if STATE.exists() else {}


def _save_state(state: dict) -> None:
    DATA.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2))


def resolve_servers() -> tuple[str, str, dict]:
    """The database and broker URLs to use, starting private servers where none answers."""
    state: dict = {}
    admin_url = os.environ.get("YB_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    if not asyncio.run(postgres_answers(admin_url)):
        print(f"PostgreSQL 未在 {admin_url} 响应，启动项目自带的私有实例 (.data/postgres) …")
        private = PrivatePostgres(DATA / "postgres", PRIVATE_PG_PORT)
        private.start()
        admin_url, state["private_postgres"] = private.admin_url, True
    broker_url = os.environ.get("YB_BROKER_URL", DEFAULT_BROKER_URL)
    if not asyncio.run(rabbitmq_answers(broker_url)):
        print(f"RabbitMQ 未在 {broker_url} 响应，启动项目自带的私有节点 (.data/rabbitmq) …")
        private_rabbit = PrivateRabbitMQ(DATA / "rabbitmq", PRIVATE_RABBIT_PORT)
        private_rabbit.start()
        broker_url, state["private_rabbitmq"] = private_rabbit.url, True
    return admin_url, broker_url, state


def config_from(admin_url: str, broker_url: str, replicas: int | None = None) -> PlatformConfig:
    """The runner's configuration; `replicas` None reads $YB_REPLICAS (see `replica_count`)."""
    return PlatformConfig(
        data_dir=DATA,
        admin_database_url=admin_url,
        broker_url=broker_url,
        broker_namespace=os.environ.get("YB_BROKER_NAMESPACE", "yibao"),
        environment=os.environ.get("YB_ENVIRONMENT", "development"),
        replicas=replica_count() if replicas is None else replica_count(replicas),
        extra_env=demo_env(),
    )


def up(replicas: int | None = None) -> int:
    try:
        replicas = replica_count(replicas)
    except ReplicaCountError as exc:
        print(f"无法启动：{exc}", file=sys.stderr)
        return 2
    state = _state()
    if state.get("running"):
        print("平台已在运行；先执行 make down。")
        return 1
    try:
        admin_url, broker_url, servers = resolve_servers()
    except MissingServer as exc:
        print(f"无法启动：{exc}", file=sys.stderr)
        return 2
    config = config_from(admin_url, broker_url, replicas)
    _save_state({**servers, "admin_url": admin_url, "broker_url": broker_url, "running": True})
    try:
        prepare(config)
        start_all(config)
        wait_until_ready(config)
        publish_demo_policy(config.gateway_url)
    except Exception as exc:
        print(f"启动失败: {exc}\n日志见 {config.log_dir}；已停止本次启动的进程。", file=sys.stderr)
        down()
        return 1
    print_welcome(config)
    return 0


def publish_demo_policy(gateway_url: str, today: date | None = None) -> None:
    """The current year's clearly labelled SAMPLE benefit policy (the 2021 Tianjin rules), drafted by `admin` and
    published by `admin2`, so quotes and reimbursements work on today's date in a demonstration."""
    from svc_claims.policy_cli import publish_sample

    year = (today or business_today()).year
    region = os.environ.get(
        "YB_CLAIMS_REGION", "120000"
    )  # the deployment's pooling region, as svc-claims reads it
    region_name = REGION_NAMES.get(region, f"统筹区{region}")
    published = publish_sample(
        gateway_url, year, ("admin", DEMO_PASSWORD), ("admin2", DEMO_PASSWORD), region, region_name
    )
    if published is not None:
        print(
            f"已发布演示用示例政策（非正式）: {published['region']}/{published['scheme']}/{year}/v{published['version']}"
        )


def business_today() -> date:
    forced = os.environ.get("YB_BUSINESS_DATE")
    return date.fromisoformat(forced) if forced else datetime.now(ZoneInfo("Asia/Shanghai")).date()


def down() -> int:
    state = _state()
    admin_url, broker_url = (
        state.get("admin_url", DEFAULT_ADMIN_URL),
        state.get("broker_url", DEFAULT_BROKER_URL),
    )
    config = config_from(admin_url, broker_url, 1)  # stops every replica by its pid file, whatever the count
    stopped = stop_all(config)
    if state.get("private_rabbitmq"):
        PrivateRabbitMQ(DATA / "rabbitmq", PRIVATE_RABBIT_PORT).stop()
        stopped.append("rabbitmq (private)")
    if state.get("private_postgres"):
        PrivatePostgres(DATA / "postgres", PRIVATE_PG_PORT).stop()
        stopped.append("postgres (private)")
    STATE.unlink(missing_ok=True)
    print("已停止: " + (", ".join(stopped) if stopped else "无"))
    return 0


def status() -> int:
    config = config_from(DEFAULT_ADMIN_URL, DEFAULT_BROKER_URL, 1)
    try:
        response = httpx.get(f"{config.gateway_url}/health", timeout=10)
    except httpx.HTTPError as exc:
        print(f"网关无响应: {exc!r}")
        return 1
    print(json.dumps(response.json(), ensure_ascii=False, indent=2))
    return 0 if response.status_code == 200 else 1


def _configured() -> PlatformConfig:
    state = _state()
    admin_url = state.get("admin_url") or os.environ.get("YB_DATABASE_ADMIN_URL", DEFAULT_ADMIN_URL)
    broker_url = state.get("broker_url") or os.environ.get("YB_BROKER_URL", DEFAULT_BROKER_URL)
    return config_from(admin_url, broker_url, 1)


def bootstrap_only(_: list[str]) -> int:
    bootstrap_platform(_configured())
    print("密钥、数据库、各服务角色与模式已就绪")
    return 0


def migrate_only(services: list[str]) -> int:
    unknown = set(services) - set(SERVICES)
    if unknown:
        print(f"未知服务: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    migrate(_configured(), tuple(services) or SERVICES)
    print("迁移完成: " + ", ".join(services or SERVICES))
    return 0


def print_welcome(config: PlatformConfig) -> None:
    from gateway.accounts import load_demo_accounts

    print(f"\n平台已就绪  网关: {config.gateway_url}   API 文档: {config.gateway_url}/docs\n")
    if config.replicas > 1:
        ports = ", ".join(str(config.replica_port(SERVICES[0], r)) for r in range(config.replicas))
        print(f"每个服务 {config.replicas} 个进程 (如 {SERVICES[0]}: {ports})，由网关轮询分发\n")
    print("演示账号 (POST /api/v1/auth/token, OAuth2 password):")
    for account in load_demo_accounts():
        print(
            f"  {account.username:<16} {account.password:<12} {account.principal.role.value:<10} {account.description}"
        )
    print("\n停止: make down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yb-local", description="Run the platform on this machine")
    parser.add_argument("command", choices=["up", "down", "status", "bootstrap", "migrate"])
    parser.add_argument("services", nargs="*", help="with migrate: which services (default: all)")
    parser.add_argument(
        "--replicas", type=int, default=None, metavar="N",
        help=f"with up: processes per service, 1–{MAX_REPLICAS} (default: $YB_REPLICAS or 1)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.replicas is not None and args.command != "up":
        parser.error("--replicas goes with up")
    if args.command in ("bootstrap", "migrate"):
        return {"bootstrap": bootstrap_only, "migrate": migrate_only}[args.command](args.services)
    if args.command == "up":
        return up(args.replicas)
    return {"down": down, "status": status}[args.command]()


if __name__ == "__main__":
    raise SystemExit(main())
