"""What a test run or benchmark leaves when it is killed before it can clean up, removed by the next run.

Each run (yb_deploy.pytest_plugin.isolated_servers) holds an exclusive lock on a file of its own in
RUNS_DIR (one per user) for as long as it lives; the file names its database, broker namespace and scratch
directory. The kernel drops the lock when the process dies however it dies, so a file whose lock can
be taken belongs to a run that is gone. Its platform processes would otherwise keep their database
connections (the server's 100 are shared by every run on the machine) and its queues would pile up on
the broker; the next run stops the processes and removes the database, the queues and the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from shared.migrations import drop_database
from shared.testing.runs import RunServers, delete_broker_namespace
from shared.testing.servers import stop_pid

# Per user: a run can stop only its own user's processes, and another user's folder may not be writable.
RUNS_DIR = Path(tempfile.gettempdir()) / f"yb-runs-{os.getuid()}"


@contextlib.contextmanager
def held(servers: RunServers, database: str, runs_dir: Path = RUNS_DIR) -> Iterator[Path]:
    """The run's lock file, locked until the block ends (or the process dies)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    path = runs_dir / f"{servers.namespace}.run"
    # Locked under a scratch name first, then renamed: a file another run finds is always locked.
    scratch = runs_dir / f".{servers.namespace}.{os.getpid()}"
    with open(scratch, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        json.dump(
            {"database": database, "namespace": servers.namespace, "scratch": str(servers.scratch)}, lock
        )
        lock.flush()
        os.replace(scratch, path)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)


def remove_abandoned(
    admin_url: str, broker_url: str, services: Iterable[str], runs_dir: Path = RUNS_DIR
) -> list[str]:
    """Stop and remove what runs that died left on these servers; returns their namespaces."""
    removed = []
    for path in sorted(runs_dir.glob("*.run")) if runs_dir.is_dir() else []:
        with _abandoned(path) as run:
            if run is None:
                continue
            scratch = Path(run["scratch"])
            for pid in _platform_processes(scratch):
                stop_pid(pid)
            asyncio.run(drop_database(admin_url, run["database"]))
            asyncio.run(delete_broker_namespace(broker_url, run["namespace"], services))
            shutil.rmtree(scratch, ignore_errors=True)
            path.unlink(missing_ok=True)
            removed.append(run["namespace"])
    return removed


@contextlib.contextmanager
def _abandoned(path: Path) -> Iterator[dict | None]:
    """The run the file names, locked by this process, if its own process is gone; else None."""
    try:
        lock: IO[str] = open(path, encoding="utf-8")
    except FileNotFoundError:  # its run ended, or another run removed it, meanwhile
        yield None
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None  # alive
            return
        try:
            run = json.loads(lock.read())
        except ValueError:
            run = None
        yield run if path.exists() else None  # removed by its run as it ended, before the lock was taken


def _platform_processes(scratch: Path) -> list[int]:
    """The platform processes a run started (by their pid files) that still run with its scratch
    directory in their environment: a pid the system has given to another process since is left alone."""
    pids = []
    for pid_file in scratch.glob("*/run/*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text())
            if str(scratch).encode() in Path(f"/proc/{pid}/environ").read_bytes():
                pids.append(pid)
    return pids
