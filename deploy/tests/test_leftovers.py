"""A run killed before it cleans up leaves processes, a database and queues: the next run removes them,
and never what a live run still uses."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import pytest

from shared.events.relay import asyncpg_dsn
from shared.events.topology import Names, declare_service_queues
from shared.migrations import create_database
from shared.testing.runs import RunServers
from yb_deploy import leftovers

SERVICE = ("claims",)

# A run as isolated_servers makes one, cut down: its lock held, a database, its queues, and one
# platform process (a sleeper with the run's scratch directory in its environment, as every process
# the platform starts has) recorded in a pid file where the platform keeps them.
RUN = textwrap.dedent("""
    import asyncio, os, subprocess, sys, time
    from pathlib import Path
    from shared.migrations import create_database
    from shared.testing.runs import RunServers
    from yb_deploy import leftovers
    admin_url, broker_url, namespace, scratch, runs_dir = sys.argv[1:]
    scratch = Path(scratch)
    servers = RunServers(admin_url, broker_url, namespace, scratch)
    (scratch / "platform" / "run").mkdir(parents=True)
    with leftovers.held(servers, "yb_test_" + namespace[1:], Path(runs_dir)):
        asyncio.run(create_database(admin_url, "yb_test_" + namespace[1:]))
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True,
                                 env={**os.environ, "YB_GATEWAY_KEY_DIR": str(scratch / "keys")})
        (scratch / "platform" / "run" / "claims.pid").write_text(str(child.pid))
        print(child.pid, flush=True)
        time.sleep(600)
""")


async def database_exists(admin_url: str, name: str) -> bool:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return bool(await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


async def declare_queues(broker_url: str, namespace: str) -> None:
    connection = await aio_pika.connect(broker_url)
    async with connection:
        await declare_service_queues(await connection.channel(), Names(namespace, SERVICE[0]), ["x.y"], [])


async def queue_exists(broker_url: str, name: str) -> bool:
    connection = await aio_pika.connect(broker_url)
    async with connection:
        try:
            await (await connection.channel()).declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return False
        return True


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.integration
def test_a_killed_runs_process_database_queues_and_folder_are_removed_by_the_next_run(
    test_servers: RunServers, tmp_path: Path
) -> None:
    namespace, scratch, runs_dir = f"t{uuid.uuid4().hex[:10]}", tmp_path / "scratch", tmp_path / "runs"
    run = subprocess.Popen([sys.executable, "-c", RUN, test_servers.admin_url, test_servers.broker_url, namespace,
                            str(scratch), str(runs_dir)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert run.stdout is not None
    platform_process = int(run.stdout.readline())
    asyncio.run(declare_queues(test_servers.broker_url, namespace))
    assert (
        leftovers.remove_abandoned(test_servers.admin_url, test_servers.broker_url, SERVICE, runs_dir) == []
    )
    assert alive(platform_process)

    run.send_signal(signal.SIGKILL)  # no clean-up of its own
    run.wait()
    assert alive(platform_process) and asyncio.run(
        database_exists(test_servers.admin_url, f"yb_test_{namespace[1:]}")
    )
    removed = leftovers.remove_abandoned(test_servers.admin_url, test_servers.broker_url, SERVICE, runs_dir)

    assert removed == [namespace]
    deadline = time.monotonic() + 10
    while alive(platform_process) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(platform_process)
    assert not asyncio.run(database_exists(test_servers.admin_url, f"yb_test_{namespace[1:]}"))
    assert not asyncio.run(queue_exists(test_servers.broker_url, Names(namespace, SERVICE[0]).queue))
    assert not scratch.exists() and list(runs_dir.iterdir()) == []


@pytest.mark.integration
def test_a_live_runs_database_is_left_alone_and_its_lock_file_goes_when_it_ends(
    test_servers: RunServers, tmp_path: Path
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    servers = RunServers(test_servers.admin_url, test_servers.broker_url, namespace, tmp_path / "scratch")
    database = f"yb_test_{namespace[1:]}"
    with leftovers.held(servers, database, tmp_path / "runs") as lock_file:
        asyncio.run(create_database(test_servers.admin_url, database))
        try:
            # Another process looks (a lock taken in this process would be granted again to it).
            looked = subprocess.run([sys.executable, "-c", "import sys; from yb_deploy import leftovers; "
                                     "print(leftovers.remove_abandoned(*sys.argv[1:3], ['claims'], leftovers.Path(sys.argv[3])))",
                                     test_servers.admin_url, test_servers.broker_url, str(tmp_path / "runs")],
                                    capture_output=True, text=True, check=True)  # fmt: skip
            assert looked.stdout.strip() == "[]"
            assert lock_file.exists() and asyncio.run(database_exists(test_servers.admin_url, database))
        finally:
            asyncio.run(leftovers.drop_database(test_servers.admin_url, database))
    assert not lock_file.exists()
