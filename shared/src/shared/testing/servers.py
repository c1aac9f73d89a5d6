"""Private PostgreSQL and RabbitMQ servers, started from the installed binaries when none answers.

Each lives in its own folder with its own port, so it never touches a system server. Both servers
refuse to run as root: under root the folders are given to the `postgres` / `rabbitmq` user and
the server runs as that user.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import asyncpg

POSTGRES_HINT = "PostgreSQL 服务端未安装。Debian/Ubuntu: sudo apt-get install postgresql ; macOS: brew install postgresql@15"
RABBITMQ_HINT = "RabbitMQ 服务端未安装。Debian/Ubuntu: sudo apt-get install rabbitmq-server ; macOS: brew install rabbitmq"


class MissingServer(RuntimeError):
    pass


def _port_open(url: str, default_port: int) -> bool:
    parsed = urlsplit(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_user(user: str) -> list[str]:
    """Command prefix that drops root to `user` (servers refuse root), keeping the environment."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def _give_to(user: str, *paths: Path) -> None:
    """Hand the server's folders to its user, and let that user traverse (not list) their parents."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    for path in paths:
        for parent in path.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(mode | stat.S_IXOTH)
        for root, _dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _find(binary: str, patterns: list[str]) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for pattern in patterns:
        matches = sorted(glob.glob(pattern), reverse=True)
        if matches:
            return matches[0]
    return None


def _wait(check, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not start within {timeout_s:.0f} s")


def stop_pid(pid: int, timeout_s: float = 30) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    """Collect our own exited child, which would otherwise linger as a zombie in its group."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


async def postgres_answers(url: str) -> bool:
    from shared.events.relay import asyncpg_dsn

    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), database="postgres", timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def rabbitmq_answers(url: str) -> bool:
    if not _port_open(url, 5672):
        return False  # asked before AMQP: the client logs an ERROR for every refused attempt
    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), timeout=5)
    except Exception:
        return False
    await connection.close()
    return True


@dataclass
class PrivatePostgres:
    folder: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/yibao"

    def start(self) -> None:
        initdb = _find(
            "initdb", ["/usr/lib/postgresql/*/bin/initdb", "/usr/local/opt/postgresql*/bin/initdb"]
        )
        pg_ctl = _find(
            "pg_ctl", ["/usr/lib/postgresql/*/bin/pg_ctl", "/usr/local/opt/postgresql*/bin/pg_ctl"]
        )
        if not initdb or not pg_ctl:
            raise MissingServer(POSTGRES_HINT)
        data, run = self.folder / "data", self.folder / "run"
        run.mkdir(parents=True, exist_ok=True)
        _give_to("postgres", self.folder)
        user = _as_user("postgres")
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                [
                    *user,
                    initdb,
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        options = f"-p {self.port} -k {run} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on"
        subprocess.run(
            [
                *user,
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(self.folder / "postgres.log"),
                "-o",
                options,
                "-w",
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; mode "immediate" is a crash (no checkpoint: the next start recovers from
        the write-ahead log, and every client connection is cut without a goodbye)."""
        pg_ctl = _find("pg_ctl", ["/usr/lib/postgresql/*/bin/pg_ctl"])
        if pg_ctl and (self.folder / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*_as_user("postgres"), pg_ctl, "-D", str(self.folder / "data"), "-m", mode, "-w", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
            )

    def crash(self) -> None:
        self.stop(mode="immediate")


@dataclass
class PrivatePgBouncer:
    """A PgBouncer in transaction mode in front of a PostgreSQL (as deploy/k8s runs one), with a small
    server pool so that consecutive transactions of one client land on different server connections."""

    folder: Path
    port: int
    postgres_url: str  # the server it pools, any SQLAlchemy URL of it
    users: tuple[str, ...]
    pool_size: int = 2
    pid: int | None = None

    def url(self, user: str, database: str) -> str:
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout_s: float = 30) -> None:
        binary = _find("pgbouncer", ["/usr/sbin/pgbouncer"])
        if not binary:
            raise MissingServer("PgBouncer 未安装。Debian/Ubuntu: sudo apt-get install pgbouncer")
        server = urlsplit(self.postgres_url.replace("+asyncpg", ""))
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "users.txt").write_text("".join(f'"{user}" ""\n' for user in self.users))
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'users.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.pool_size}\nmax_client_conn = 500\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n"
        )
        _give_to("postgres", self.folder)
        log = open(self.folder / "server.out", "ab")
        process = subprocess.Popen(
            [*_as_user("postgres"), binary, str(self.folder / "pgbouncer.ini")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = process.pid
        _wait(
            lambda: process.poll() is None and _port_open(self.url("x", "x"), self.port),
            timeout_s,
            "PgBouncer",
        )

    def stop(self) -> None:
        if self.pid:
            stop_pid(self.pid, timeout_s=10)
            self.pid = None


class NodeExited(RuntimeError):
    """The server process ended before it answered."""


@dataclass
class PrivateRabbitMQ:
    folder: Path
    port: int
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def node(self) -> str:
        return f"yb{self.port}@localhost"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.folder),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.port + 20000 if self.port < 45535 else self.port - 20000),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.folder / "feature_flags"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.folder / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.folder / "rabbitmq-env.conf"),
        }

    def start(self, timeout_s: float = 180) -> None:
        # A wait, not a speed check: an Erlang node on a busy 2-core machine has been seen to need over 60 s.
        # A node that exits while starting is started once more: a restarted node has been seen, once in
        # many runs, to stop at once unable to read its own cookie (eacces), and then to start cleanly.
        try:
            self._start_once(timeout_s)
        except NodeExited:
            self._start_once(timeout_s)

    def _start_once(self, timeout_s: float) -> None:
        server = _find("rabbitmq-server", ["/usr/lib/rabbitmq/bin/rabbitmq-server"])
        direct = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        if os.path.exists(direct):
            server = direct  # the /usr/sbin wrapper switches user itself and drops our environment
        if not server:
            raise MissingServer(RABBITMQ_HINT)
        for sub in ("mnesia", "log"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        (self.folder / "enabled_plugins").write_text("[].\n")
        (self.folder / "rabbitmq.conf").write_text("loopback_users = none\n")
        _give_to("rabbitmq", self.folder)
        log = open(self.folder / "server.out", "ab")
        process = subprocess.Popen(
            [*_as_user("rabbitmq"), server],
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = process.pid
        (self.folder / "server.pid").write_text(str(process.pid))

        def answers() -> bool:
            if process.poll() is not None:
                self.pid = None
                raise NodeExited(f"RabbitMQ exited while starting (see {self.folder / 'server.out'})")
            return asyncio.run(rabbitmq_answers(self.url))

        _wait(answers, timeout_s, "RabbitMQ")

    def stop(self) -> None:
        pid = self.pid or _read_pid(self.folder / "server.pid")
        if not pid:
            return
        ctl = (
            "/usr/lib/rabbitmq/bin/rabbitmqctl"
            if os.path.exists("/usr/lib/rabbitmq/bin/rabbitmqctl")
            else shutil.which("rabbitmqctl")
        )
        if ctl:
            subprocess.run(
                [*_as_user("rabbitmq"), ctl, "-n", self.node, "stop"],
                env=self._env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False,
            )  # fmt: skip
        stop_pid(pid, timeout_s=10)
        self.pid = None

    def kill(self) -> None:
        """SIGKILL the node and everything it started (no goodbye to clients: a crash, not a stop)."""
        pid = self.pid or _read_pid(self.folder / "server.pid")
        if not pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        _wait(lambda: _gone(pid), 10, "the killed RabbitMQ")
        self.pid = None


def _gone(pid: int) -> bool:
    _reap(pid)
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
