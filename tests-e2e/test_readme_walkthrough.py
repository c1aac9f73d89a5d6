"""The README's walkthrough, run as it is written, on a platform started the way `make up` starts one (its
own database, the demo settings, this year's sample policy published by the same code): it reaches a
quote and a paid reimbursement on today's date."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.migrations import create_database, drop_database
from shared.testing.runs import RunServers, delete_broker_namespace
from yb_deploy.local import business_today, demo_env, publish_demo_policy
from yb_deploy.platform import REPO, SERVICES, PlatformConfig, prepare, start_all, stop_all, wait_until_ready
from yb_deploy.pytest_plugin import platform_config_for

pytestmark = pytest.mark.e2e

README = REPO / "README.md"


def walkthrough(readme: Path = README) -> str:
    """The first shell block of the README's "Try it" section."""
    section = readme.read_text(encoding="utf-8").split("## Try it\n", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "README: no shell block under '## Try it'"
    return found.group(1)


@pytest.fixture(scope="module")
def demo_platform(test_servers: RunServers) -> Iterator[PlatformConfig]:
    """A fresh platform as `make up` runs it: 张三 is enrolled by the walkthrough itself, as on a new install."""
    url = make_url(test_servers.admin_url)
    database = f"{url.database}_demo"
    asyncio.run(create_database(test_servers.admin_url, database))
    servers = RunServers(url.set(database=database).render_as_string(hide_password=False), test_servers.broker_url,
                         f"{test_servers.namespace}d", test_servers.scratch / "demo")  # fmt: skip
    config = None
    try:
        config = started(servers)
        publish_demo_policy(config.gateway_url)  # what `make up` does once the platform is ready
        yield config
    finally:
        if config is not None:
            stop_all(config)
        asyncio.run(delete_broker_namespace(servers.broker_url, servers.namespace, SERVICES))
        asyncio.run(drop_database(test_servers.admin_url, database))


def started(servers: RunServers, attempts: int = 2) -> PlatformConfig:
    """The platform started on free ports, once more on others if a port was taken meanwhile (a busy machine)."""
    for attempt in range(attempts):
        config = platform_config_for(servers, **demo_env(), YB_PERIODIC_INTERVAL_S="1")
        try:
            if attempt == 0:
                prepare(config)
            start_all(config)
            wait_until_ready(config, timeout_s=180)
            return config
        except TimeoutError:
            stop_all(config)
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def run_walkthrough(gateway_url: str) -> list[str]:
    script = walkthrough()
    assert script.startswith("make up\n")
    script = script.removeprefix("make up\n").replace("localhost:8000", gateway_url.removeprefix("http://"))
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"walkthrough failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return [line for line in done.stdout.splitlines() if line.strip()]


def test_the_readme_walkthrough_reaches_a_quote_and_a_paid_reimbursement_today(
    demo_platform: PlatformConfig,
) -> None:
    year = business_today().year
    lines = [json.loads(line) for line in run_walkthrough(demo_platform.gateway_url)]
    approved_enrollment, in_force, quote, accepted, reviewed, approved, paid, due = lines
    assert approved_enrollment == {"status": "approved"}
    assert (
        in_force["policy"] == f"120000/resident/{year}/v1"
        and in_force["sample"] is True
        and "示例" in in_force["title"]
    )
    assert quote == {
        "policy": f"120000/resident/{year}/v1",
        "sample": True,
        "fund": "7500.00",
        "person": "4500.00",
    }
    assert accepted["status"] == "accepted" and reviewed == {"status": "reviewed"}
    assert approved == {"status": "approved", "policy": ["120000", "resident", year, "v1"], "fund": "7500.00"}
    assert paid == {"status": "paid", "payment": "paid"}
    assert due["date"] > business_today().isoformat()


def test_make_up_publishes_the_sample_once(demo_platform: PlatformConfig) -> None:
    publish_demo_policy(demo_platform.gateway_url)  # `make up` again on the same database: nothing new
    import httpx

    with httpx.Client(base_url=demo_platform.gateway_url, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "zhangsan", "password": "Demo@2026"}
        ).json()["access_token"]
        listed = client.get(
            "/api/v1/claims/policies",
            params={"status": "published", "size": 500},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["items"]
    this_year = [v for v in listed if v["year"] == business_today().year]
    assert sorted(
        (v["kind"], v["scheme"], v["version"], v["drafted_by"], v["published_by"], v["sample"])
        for v in this_year
    ) == [
        ("benefit", "resident", 1, "admin", "admin2", True),
        (
            "maternity",
            "employee",
            1,
            "admin",
            "admin2",
            True,
        ),  # the maternity tables too, so a demo can pay them today
        ("maternity", "resident", 1, "admin", "admin2", True),
    ]
