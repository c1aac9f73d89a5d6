"""The Prometheus configuration, alert rules and Grafana dashboard in deploy/monitoring load and
read metrics the platform really exports.

With `promtool` installed (`make test` installs Debian's prometheus package when it can) the rules
and the configuration go through Prometheus' own checker and the rule unit tests; a structural
check runs always, so a renamed metric fails here rather than in a silent alert.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401 - registers the platform's metrics

MONITORING = Path(__file__).resolve().parents[1] / "monitoring"
METRIC = re.compile(r"\b(yb_[a-z_]+|up)\b(?!\s*\()")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
# The conditions the issue asks an alert for, each with the metric it must read.
REQUIRED = {
    "service not ready": "yb_service_ready",
    "backlog growing": "yb_outbox_backlog",
    "dead letters present": "yb_dead_letters",
    "overdue deadlines": "yb_deadlines_overdue",
    "peer unreachable": "yb_peer_failing",
    "peer message given up (refused for good or retries exhausted)": "yb_peer_messages_given_up_total",
    "cases waiting for a re-send to a peer": "yb_peer_cases_awaiting_resend",
    "broker disconnected": "yb_broker_connected",
    "consumer detached": "yb_consumer_attached",
}


def exported_metrics() -> set[str]:
    names = {"up"}
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def metrics_in(expression: str) -> set[str]:
    return {m for m in METRIC.findall(expression) if m not in ("by", "on")}


promtool = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    promtool is None, reason="promtool not installed (apt-get install prometheus)"
)


@needs_promtool
@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", "alerts.yml"],
        ["check", "config", "prometheus.yml"],
        ["test", "rules", "alerts_test.yml"],
    ],
)
def test_promtool_accepts_it(args: list[str]) -> None:
    result = subprocess.run([promtool, *args], cwd=MONITORING, capture_output=True, text=True, timeout=60)  # type: ignore[list-item]
    assert result.returncode == 0, result.stdout + result.stderr


def rules() -> list[dict]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_alert_is_complete_and_reads_exported_metrics() -> None:
    known = exported_metrics()
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)), "alert names repeat"
    for rule in rules():
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        assert re.search(r"[\u4e00-\u9fff]", rule["annotations"]["summary"]), (
            f"{rule['alert']}: summary in Chinese"
        )
        unknown = metrics_in(rule["expr"]) - known
        assert not unknown, f"{rule['alert']} reads metrics nobody exports: {unknown}"


def test_the_conditions_operations_asked_for_have_alerts() -> None:
    read = set().union(*(metrics_in(rule["expr"]) for rule in rules()))
    missing = {condition for condition, metric in REQUIRED.items() if metric not in read}
    assert not missing, f"no alert for: {missing}"


def test_the_scrape_configuration_loads_the_rules() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    assert [job["job_name"] for job in config["scrape_configs"]] == ["yibao"]  # the rules select job="yibao"


def test_the_grafana_dashboard_is_well_formed_and_reads_exported_metrics() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    assert {"title", "uid", "schemaVersion", "panels", "time"} <= set(dashboard)
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["uid"]
    inputs = {f"${{{item['name']}}}" for item in dashboard["__inputs"] if item["pluginId"] == "prometheus"}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    known, read = exported_metrics(), set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= set(grid) and grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel[
            "title"
        ]
        if panel["type"] == "row":
            continue
        assert panel["type"] in ("stat", "timeseries", "table", "gauge", "bargauge"), panel["title"]
        assert panel["datasource"]["uid"] in inputs, f"{panel['title']}: datasource is not an import input"
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            found = metrics_in(target["expr"])
            assert found and not found - known, f"{panel['title']}: {found - known}"
            read |= found
    for needed in ("yb_http_request_duration_seconds_bucket", "yb_events_published_total", "yb_events_dead_lettered_total",
                   "yb_outbox_backlog", "yb_deadlines_overdue", "yb_peer_pending_messages"):  # fmt: skip
        assert needed in read, f"the dashboard shows no {needed}"
