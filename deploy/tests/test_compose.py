"""The container set-up (compose.yaml, Dockerfile, .dockerignore), checked without a Docker engine.

compose.yaml is validated against the Compose Specification schema vendored by check-jsonschema,
then its structure is checked against the code it runs: the process list and factories of
yb_deploy.platform, the database URL each role gets (shared.migrations), and the settings classes
that read the environment.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import yaml

from shared.auth.issuer import JWKS_FILE
from shared.migrations import service_database_url
from shared.settings import CommonSettings
from yb_deploy.platform import APPS, SERVICES

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

PROCESSES = (*SERVICES, "gateway")
BOOTSTRAP = "bootstrap"
MIGRATIONS = {service: f"migrate-{service}" for service in SERVICES}
ONE_SHOT = {BOOTSTRAP, *MIGRATIONS.values()}
SERVERS = ("postgres", "rabbitmq")
UVICORN = ["python", "-m", "uvicorn", "--factory"]
LISTEN = ["--host", "0.0.0.0", "--port", "8000"]


# --- helpers ---------------------------------------------------------------------------------


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _services() -> dict[str, dict]:
    return _compose()["services"]


def _depends_on(service: dict) -> dict[str, str]:
    """name → condition, for both the list and the mapping form of depends_on."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()}


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _command(service: dict) -> list[str]:
    command = service.get("command")
    assert isinstance(command, list), f"command should be an exec-form list, got {command!r}"
    return command


def _healthcheck_test(service: dict) -> list[str] | None:
    check = service.get("healthcheck")
    if not check or check.get("disable"):
        return None
    test = check.get("test")
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    if not test or test[0] == "NONE":
        return None
    return test


def _volume_mounts(service: dict) -> list[tuple[str, str]]:
    """(source, target) of every mount, for the short and the long syntax."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        mounts.append((source, target))
    return mounts


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), comments dropped and continuation lines joined."""
    instructions, pending = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def _workspace_members() -> list[Path]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += sorted(p for p in REPO.glob(pattern) if (p / "pyproject.toml").is_file())
    assert members, "no workspace members found"
    return members


def _dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    """(excludes, regex) per line, following Docker's rules: `*` and `?` stop at `/`, `**` does not,
    `!` re-includes, the last matching line wins."""
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line[1:] if include else line
        pattern = pattern.strip().strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((not include, re.compile(regex + r"\Z")))
    return rules


def _ignored(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether a file of the build context is left out (a left-out folder takes its files along)."""
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        verdict = None
        for excludes, regex in rules:
            if regex.match(prefix):
                verdict = excludes
        if verdict:
            return True
    return False


class _Health(BaseHTTPRequestHandler):
    statuses: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        status = self.statuses.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def _run_healthcheck(test: list[str], status: int, path: str) -> int:
    """Run a compose healthcheck command here, against a local server answering `status` on `path`."""
    assert test[0] == "CMD", f"expected an exec-form check, got {test!r}"
    handler = type("Handler", (_Health,), {"statuses": {path: status}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        argv = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for arg in test[1:]]
        assert argv[0] == "python", f"the check should run the image's python, got {argv[0]!r}"
        return subprocess.run([sys.executable, *argv[1:]], capture_output=True, timeout=30).returncode
    finally:
        server.shutdown()
        server.server_close()


# --- the Compose Specification ---------------------------------------------------------------


def test_compose_file_matches_the_compose_specification():
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_compose_file(tmp_path):
    # The validator above must be able to fail: an unknown dependency condition is refused.
    compose = _compose()
    compose["services"]["claims"]["depends_on"]["migrate-claims"]["condition"] = "service_done"
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(compose), encoding="utf-8")
    result = _check_jsonschema(broken)
    assert result.returncode != 0, result.stdout + result.stderr


# --- processes and start order ---------------------------------------------------------------


def test_every_process_and_job_is_present():
    services = _services()
    missing = {*PROCESSES, *ONE_SHOT, *SERVERS} - set(services)
    assert not missing, f"missing from compose.yaml: {sorted(missing)}"


def test_process_commands_name_factories_that_import():
    services = _services()
    for process in PROCESSES:
        command = _command(services[process])
        assert command[:4] == UVICORN and command[5:] == LISTEN, f"{process}: unexpected command {command}"
        target = command[4]
        assert target == APPS[process], f"{process} runs {target}, the platform runs {APPS[process]}"
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, attribute, None)), f"{target}: no such factory"


def test_one_shot_jobs_run_bootstrap_and_each_services_migration():
    services = _services()
    assert _command(services[BOOTSTRAP]) == ["yb-local", "bootstrap"]
    for service, job in MIGRATIONS.items():
        assert _command(services[job]) == ["yb-local", "migrate", service]
    for job in ONE_SHOT:
        assert services[job].get("restart", "no") == "no", f"{job} is a one-shot job and must not restart"
        admin_url = _environment(services[job]).get("YB_DATABASE_ADMIN_URL", "")
        assert admin_url.startswith("postgresql+asyncpg://") and "@postgres:" in admin_url, job


def test_migrations_wait_for_bootstrap():
    services = _services()
    assert _depends_on(services[BOOTSTRAP]).get("postgres") == "service_healthy"
    for job in MIGRATIONS.values():
        assert _depends_on(services[job]).get(BOOTSTRAP) == "service_completed_successfully", job


def test_services_wait_for_their_migration_and_the_servers():
    services = _services()
    for service in SERVICES:
        depends = _depends_on(services[service])
        assert depends.get(MIGRATIONS[service]) == "service_completed_successfully", service
        for server in SERVERS:
            assert depends.get(server) == "service_healthy", f"{service} should wait for {server} healthy"


def test_gateway_waits_for_every_service_to_be_healthy():
    depends = _depends_on(_services()["gateway"])
    for service in SERVICES:
        assert depends.get(service) == "service_healthy", f"the gateway should wait for {service}"


def test_dependency_conditions_are_satisfiable():
    services = _services()
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            assert target in services, f"{name} depends on an unknown service {target}"
            if condition == "service_healthy":
                assert _healthcheck_test(services[target]), f"{name} waits for {target}: no healthcheck"
            if condition == "service_completed_successfully":
                assert target in ONE_SHOT, f"{name} waits for {target} to complete; it is not a one-shot job"


# --- health checks ---------------------------------------------------------------------------


def test_long_running_processes_have_healthchecks():
    services = _services()
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert _healthcheck_test(service), f"{name} has no healthcheck"
    assert "pg_isready" in _healthcheck_test(services["postgres"])
    assert "rabbitmq-diagnostics" in _healthcheck_test(services["rabbitmq"])


def test_service_healthchecks_pass_only_when_ready():
    services = _services()
    for service in SERVICES:
        test = _healthcheck_test(services[service])
        assert "http://127.0.0.1:8000/health/ready" in " ".join(test), service
        assert _run_healthcheck(test, 200, "/health/ready") == 0, f"{service}: check fails on 200"
        assert _run_healthcheck(test, 503, "/health/ready") != 0, f"{service}: check passes on 503"


def test_gateway_healthcheck_passes_only_when_live():
    test = _healthcheck_test(_services()["gateway"])
    path = "/health/live" if "/health/live" in " ".join(test) else "/health"
    assert f"http://127.0.0.1:8000{path}'" in " ".join(test)
    assert _run_healthcheck(test, 200, path) == 0
    assert _run_healthcheck(test, 503, path) != 0


# --- network exposure ------------------------------------------------------------------------


def test_only_the_gateway_publishes_a_port():
    services = _services()
    for name, service in services.items():
        assert service.get("network_mode") != "host", f"{name} uses the host network"
        if name != "gateway":
            assert not service.get("ports"), f"{name} publishes {service['ports']}; only the gateway may"
    ports = services["gateway"]["ports"]
    assert len(ports) == 1, ports
    port = ports[0]
    if isinstance(port, str):
        published, target = port.split(":")[-2:]
    else:
        published, target = str(port["published"]), str(port["target"])
    assert (published, target) == ("8000", "8000")


# --- configuration ---------------------------------------------------------------------------


def _keys_mount(name: str, service: dict) -> tuple[str, str]:
    mounts = [m for m in _volume_mounts(service) if m[1].endswith("/.data/keys")]
    assert len(mounts) == 1, f"{name} should mount the keys volume once, mounts: {_volume_mounts(service)}"
    return mounts[0]


def test_keys_volume_is_shared_by_bootstrap_services_and_gateway():
    compose = _compose()
    services = compose["services"]
    mounts = {name: _keys_mount(name, services[name]) for name in (BOOTSTRAP, *PROCESSES)}
    assert len(set(mounts.values())) == 1, mounts
    source, target = mounts[BOOTSTRAP]
    assert target == "/app/.data/keys", "bootstrap writes the keys to .data/keys under the repo root, /app"
    for name in PROCESSES:
        assert _environment(services[name])["YB_AUTH_JWKS_FILE"] == f"{target}/{JWKS_FILE}", name
    assert _environment(services["gateway"])["YB_GATEWAY_KEY_DIR"] == target
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for source, _ in _volume_mounts(service):
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_each_service_connects_as_its_own_role():
    services = _services()
    admin_url = _environment(services[BOOTSTRAP])["YB_DATABASE_ADMIN_URL"]
    for service in SERVICES:
        env = _environment(services[service])
        own_url = env.get(f"YB_{service.upper()}_DATABASE_URL")
        assert own_url == service_database_url(admin_url, service), service
        others = {key for key in env if key.endswith("DATABASE_URL")} - {f"YB_{service.upper()}_DATABASE_URL"}
        assert not others, f"{service} also sets {sorted(others)}"
        assert env.get("YB_ENVIRONMENT") == "development"
        assert env.get("YB_BROKER_URL", "").startswith("amqp://") and "@rabbitmq:5672" in env["YB_BROKER_URL"]


def _settings_class(service: str) -> type[CommonSettings]:
    module = importlib.import_module(f"svc_{service}.settings")
    classes = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, CommonSettings) and cls.model_config.get("env_prefix") == f"YB_{service.upper()}_"
    ]
    assert len(classes) == 1, f"svc_{service}.settings: expected one settings class, found {classes}"
    return classes[0]


def _only_env(monkeypatch, env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith("YB_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_service_settings_read_the_compose_environment(monkeypatch):
    services = _services()
    for service in SERVICES:
        env = _environment(services[service])
        _only_env(monkeypatch, env)
        settings = _settings_class(service)()
        assert settings.database_url == env[f"YB_{service.upper()}_DATABASE_URL"], service
        assert settings.broker_url == env["YB_BROKER_URL"]
        assert str(settings.auth_jwks_file) == env["YB_AUTH_JWKS_FILE"]
        assert settings.environment == "development"


def test_gateway_settings_route_to_every_service(monkeypatch):
    from gateway.settings import GatewaySettings

    services = _services()
    env = _environment(services["gateway"])
    upstreams = json.loads(env["YB_GATEWAY_UPSTREAMS"])
    assert upstreams == {service: f"http://{service}:8000" for service in SERVICES}
    _only_env(monkeypatch, env)
    settings = GatewaySettings()
    assert settings.upstreams == upstreams
    assert str(settings.key_dir) == env["YB_GATEWAY_KEY_DIR"]
    assert str(settings.auth_jwks_file) == env["YB_AUTH_JWKS_FILE"]


# --- Dockerfile and .dockerignore --------------------------------------------------------------


def test_dockerfile_builds_one_locked_image_for_a_non_root_user():
    assert DOCKERFILE.is_file()
    instructions = _dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    # The image that runs is the last stage (an earlier one builds the workbench with Node.js).
    assert froms and froms[-1].split()[0].startswith("python:3.11-slim"), froms
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the image runs as root: no USER line"
    assert users[-1].split(":")[0] not in ("root", "0"), f"the last USER is {users[-1]}"
    assert ("WORKDIR", "/app") in instructions
    envs = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert "/app/.venv/bin" in envs, "PATH should include /app/.venv/bin"
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(re.search(r"pip install\b.*\buv\b", run) for run in runs), "uv should be installed with pip"
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs, "no `uv sync`"
    for run in syncs:
        assert "--frozen" in run and "--no-dev" in run and "--all-packages" in run, run
    assert "--no-install-workspace" not in syncs[-1], "the last sync must install the workspace members"
    # A fresh named volume takes its owner from the image: the keys folder must exist there.
    assert any("/app/.data/keys" in run and "mkdir" in run for run in runs)


def test_dockerfile_copies_every_member_manifest_before_installing_dependencies():
    instructions = _dockerfile_instructions()
    first_sync = next(i for i, (kw, args) in enumerate(instructions) if kw == "RUN" and "uv sync" in args)
    copied_early = set()
    for keyword, args in instructions[:first_sync]:
        if keyword == "COPY":
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            copied_early.update(sources)
    assert {"pyproject.toml", "uv.lock"} <= copied_early, copied_early
    for member in _workspace_members():
        manifest = (member / "pyproject.toml").relative_to(REPO).as_posix()
        assert manifest in copied_early, f"{manifest} is not copied before the first `uv sync`"
    later = [args.split() for keyword, args in instructions[first_sync:] if keyword == "COPY"]
    plain = [[a for a in copy if not a.startswith("--")] for copy in later]
    assert [".", "."] in plain, "the sources are never copied"


def test_dockerignore_keeps_local_state_out_and_the_sources_in():
    rules = _dockerignore_rules()
    for path in (".venv/bin/python", ".data/keys/jwks.json", ".git/HEAD"):
        assert _ignored(path, rules), f"{path} would be sent to the build"
    needed = ["pyproject.toml", "uv.lock"]
    for member in _workspace_members():
        needed.append((member / "pyproject.toml").relative_to(REPO).as_posix())
        if (member / "alembic.ini").is_file():
            needed.append((member / "alembic.ini").relative_to(REPO).as_posix())
        needed += [
            p.relative_to(REPO).as_posix()
            for p in (member / "src").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ]
    left_out = [path for path in needed if _ignored(path, rules)]
    assert not left_out, f".dockerignore leaves out files the image needs: {left_out[:10]}"
