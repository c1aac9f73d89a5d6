"""The Kubernetes manifests in deploy/k8s, rendered and checked offline (no cluster, no network).

Each overlay is rendered by a small kustomize subset (`render` below: resources, namespace, images,
replicas and JSON6902 patches; anything else in a kustomization.yaml fails the test, so the subset
cannot silently drift from what `kubectl kustomize` would do). Every built-in object is validated
against the Kubernetes OpenAPI schema (kubernetes-validate, strict: unknown fields are errors); the
operators' objects (RabbitmqCluster, CloudNativePG Cluster) have no schema offline and are checked by
hand. Then the platform's own rules: probes, resources, security context, HPA/PDB/Service per process,
the network policy (only the gateway reaches the services), image tags, placeholder-only Secrets.
"""

from __future__ import annotations

import copy
import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[1] / "k8s"
OVERLAYS = ("staging", "production")
SERVICES = ("registration", "claims", "settlement", "transfer", "facility")
PROCESSES = ("gateway", *SERVICES)
IMAGE = "ghcr.io/yibao/platform"
KUBERNETES_VERSION = "1.30.0"
PLACEHOLDER = "REPLACE_ME"
CRDS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "Pooler"),
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}


# --- kustomize subset ---------------------------------------------------------------------------


def _load_docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _pod_spec(obj: dict) -> dict | None:
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def _json_pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]


def _apply_json6902(obj: dict, ops: list[dict]) -> None:
    for op in ops:
        *parents, last = _json_pointer(op["path"])
        node = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        kind = op["op"]
        if isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            if kind == "add":
                node.insert(index, copy.deepcopy(op["value"]))
            elif kind == "replace":
                node[index] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del node[index]
            else:
                raise AssertionError(f"unsupported JSON6902 op {kind}")
        else:
            if kind == "replace":
                assert last in node, f"replace of a missing path {op['path']}"
                node[last] = copy.deepcopy(op["value"])
            elif kind == "add":
                node[last] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del node[last]
            else:
                raise AssertionError(f"unsupported JSON6902 op {kind}")


def _targets(obj: dict, target: dict) -> bool:
    group, _, version = obj["apiVersion"].rpartition("/")
    checks = {"group": group, "version": version, "kind": obj["kind"], "name": obj["metadata"]["name"]}
    for key, value in target.items():
        assert key in checks, f"unsupported patch target field {key}"
        if key == "name":
            if not re.fullmatch(value, checks[key]):
                return False
        elif checks[key] != value:
            return False
    return True


def render(directory: Path) -> list[dict]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unsupported = set(kustomization) - SUPPORTED_KEYS
    assert not unsupported, f"{directory}: kustomize-lite does not support {unsupported}"
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        objects += render(path) if path.is_dir() else _load_docs(path)
    if namespace := kustomization.get("namespace"):
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
    for patch in kustomization.get("patches", []):
        assert set(patch) <= {"path", "target"}, f"only file patches with a target: {patch}"
        ops = yaml.safe_load((directory / patch["path"]).read_text(encoding="utf-8"))
        assert isinstance(ops, list), f"{patch['path']}: only JSON6902 patches (a list of operations)"
        matched = [obj for obj in objects if _targets(obj, patch["target"])]
        assert matched, f"patch {patch['path']} matches no object"
        for obj in matched:
            _apply_json6902(obj, ops)
    for image in kustomization.get("images", []):
        for obj in objects:
            spec = _pod_spec(obj)
            for container in (spec or {}).get("containers", []) + (spec or {}).get("initContainers", []):
                name = re.split(r"[@]", container["image"])[0]
                name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
                if name == image["name"]:
                    new = image.get("newName", name)
                    if "digest" in image:
                        container["image"] = f"{new}@{image['digest']}"
                    else:
                        container["image"] = f"{new}:{image['newTag']}" if "newTag" in image else new
    for replica in kustomization.get("replicas", []):
        found = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == replica["name"]]
        assert found, f"replicas: no Deployment {replica['name']}"
        for obj in found:
            obj["spec"]["replicas"] = replica["count"]
    return objects


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict]]:
    return request.param, render(K8S / "overlays" / request.param)


def _of(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


# --- schema validation ----------------------------------------------------------------------------


def test_objects_are_unique_and_namespaced(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    keys = [(o["apiVersion"], o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys)), "duplicate objects"
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"].get("namespace") == "yibao", obj["metadata"]["name"]


def test_builtin_objects_match_the_kubernetes_schema(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    validated = 0
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CRDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
        validated += 1
    assert validated >= 6 * 4 + 6  # six processes × 4 objects, six Jobs, and more


def test_the_validator_rejects_a_broken_object() -> None:
    """The schema check is real: an unknown field and a wrong type are refused offline."""
    deployment = copy.deepcopy(_of(render(K8S / "overlays" / "production"), "Deployment")["claims"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(_of(render(K8S / "overlays" / "production"), "Deployment")["claims"])
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


# --- the platform's rules -------------------------------------------------------------------------


def _container_is_locked_down(pod: dict, container: dict) -> None:
    pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
    assert sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot"), container["name"]
    assert sc.get("readOnlyRootFilesystem") is True, container["name"]
    assert sc.get("allowPrivilegeEscalation") is False, container["name"]
    assert sc.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
    tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
    assert tmp, f"{container['name']}: no writable /tmp"
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    assert "emptyDir" in volumes[tmp[0]["name"]], f"{container['name']}: /tmp is not an emptyDir"
    resources = container.get("resources", {})
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{container['name']}: {part}"


def test_every_process_has_deployment_service_hpa_pdb(rendered: tuple[str, list[dict]]) -> None:
    env, objects = rendered
    deployments, services = _of(objects, "Deployment"), _of(objects, "Service")
    hpas, pdbs = _of(objects, "HorizontalPodAutoscaler"), _of(objects, "PodDisruptionBudget")
    assert set(deployments) == set(PROCESSES)
    for process in PROCESSES:
        deployment = deployments[process]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert _selects(deployment["spec"]["selector"], pod_labels)
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["command"][:4] == ["python", "-m", "uvicorn", "--factory"]
        app = "gateway.main:create_app" if process == "gateway" else f"svc_{process}.main:create_app"
        assert container["command"][4] == app
        _container_is_locked_down(pod, container)
        env_from = {
            ref.get("configMapRef", ref.get("secretRef", {})).get("name") for ref in container["envFrom"]
        }
        assert "yibao-config" in env_from and "yibao-person-id-key" in env_from
        if process != "gateway":
            names = {e["name"] for e in container.get("env", [])}
            assert f"YB_{process.upper()}_DATABASE_URL" in names and "yibao-broker" in env_from

        service = services[process]
        assert _selects({"matchLabels": service["spec"]["selector"]}, pod_labels)
        assert service["spec"]["ports"][0]["port"] == 8000

        hpa = hpas[process]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": process,
        }
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
        assert 1 <= hpa["spec"]["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]

        pdb = pdbs[process]
        assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["minAvailable"] == 1
        assert _selects(pdb["spec"]["selector"], pod_labels)
        # minAvailable 1 with a single replica would block every node drain.
        assert hpa["spec"]["minReplicas"] >= 2, f"{env}: {process} would be undrainable"


def test_overlays_differ_in_replicas_tag_and_resources() -> None:
    staging, production = (_of(render(K8S / "overlays" / e), "Deployment") for e in OVERLAYS)
    for process in PROCESSES:
        s, p = staging[process], production[process]
        assert s["spec"]["replicas"] < p["spec"]["replicas"]
        s_c, p_c = (
            s["spec"]["template"]["spec"]["containers"][0],
            p["spec"]["template"]["spec"]["containers"][0],
        )
        assert s_c["image"] != p_c["image"]
        assert s_c["resources"] != p_c["resources"]


def _tag(image: str) -> str | None:
    if "@sha256:" in image:
        return "digest"
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def test_images_are_pinned(rendered: tuple[str, list[dict]]) -> None:
    env, objects = rendered
    for obj in objects:
        spec = _pod_spec(obj)
        for container in (spec or {}).get("containers", []) + (spec or {}).get("initContainers", []):
            assert container["image"].startswith(IMAGE), container["image"]
            tag = _tag(container["image"])
            assert tag and tag != "set-by-overlay", f"{env}: {obj['metadata']['name']} has no tag"
            if env == "production":
                assert tag != "latest", f"production uses latest: {obj['metadata']['name']}"
                assert re.fullmatch(r"\d+\.\d+\.\d+|digest", tag), f"production tag not a release: {tag}"


def test_migration_jobs_run_bootstrap_then_each_service(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    jobs = _of(objects, "Job")
    assert jobs["yibao-bootstrap"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "yb-local",
        "bootstrap",
    ]
    assert jobs["yibao-bootstrap"]["metadata"]["labels"]["yibao.io/stage"] == "bootstrap"
    for service in SERVICES:
        job = jobs[f"yibao-migrate-{service}"]
        assert job["metadata"]["labels"]["yibao.io/stage"] == "migrate"
        pod = job["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (container,) = pod["containers"]
        assert container["command"] == ["yb-local", "migrate", service]
        _container_is_locked_down(pod, container)
        # yb-local migrate connects as yb_<service> with no password in the URL: asyncpg reads PGPASSWORD.
        env = {e["name"]: e for e in container["env"]}
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"yibao-pg-role-{service}"
        assert "YB_DATABASE_ADMIN_URL" in env
    assert len(jobs) == 1 + len(SERVICES)
    # Every object is in one of the documented apply stages.
    stages = {o["metadata"].get("labels", {}).get("yibao.io/stage") for o in objects}
    assert stages == {"foundation", "backends", "bootstrap", "migrate", "app"}


def test_configmap_points_at_the_services() -> None:
    import json

    objects = render(K8S / "overlays" / "production")
    config = _of(objects, "ConfigMap")["yibao-config"]["data"]
    assert config["YB_ENVIRONMENT"] == "production"
    assert config["YB_GATEWAY_DEV_ISSUER"] == "false"
    for key in ("YB_BROKER_NAMESPACE", "YB_AUTH_ISSUER", "YB_AUTH_AUDIENCE", "YB_AUTH_JWKS_URL",
                "YB_TRANSFER_OFFICE_CODE", "YB_TRANSFER_PEERS_FILE"):  # fmt: skip
        assert config[key]
    upstreams = json.loads(config["YB_GATEWAY_UPSTREAMS"])
    services = _of(objects, "Service")
    assert set(upstreams) == set(SERVICES)
    for name, url in upstreams.items():
        assert url == f"http://{name}:{services[name]['spec']['ports'][0]['port']}"
    peers = json.loads(_of(objects, "ConfigMap")["yibao-transfer-peers"]["data"]["interop-peers.json"])
    assert peers == {"peers": []}
    # Staff pages sign in through the identity provider (the development sign-in is off), called back
    # on the ingress's own host.
    (ingress,) = _of(objects, "Ingress").values()
    host = ingress["spec"]["rules"][0]["host"]
    assert config["YB_GATEWAY_OIDC_ISSUER"].startswith("https://")
    assert config["YB_GATEWAY_OIDC_REDIRECT_URI"] == f"https://{host}/api/v1/auth/oidc/callback"
    transfer = _of(objects, "Deployment")["transfer"]["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in transfer["containers"][0]["volumeMounts"]}
    assert str(Path(config["YB_TRANSFER_PEERS_FILE"]).parent) in mounts
    assert str(Path(config["YB_TRANSFER_SIGNING_KEY_FILE"]).parent) in mounts


def test_secrets_hold_only_placeholders(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    secrets = _of(objects, "Secret")
    expected = {"yibao-pg-superuser", "yibao-broker", "yibao-person-id-key", "yibao-transfer-signing-key"}
    expected |= {f"yibao-pg-role-{s}" for s in SERVICES}
    assert set(secrets) == expected
    for name, secret in secrets.items():
        assert "data" not in secret, f"{name}: use stringData placeholders, not encoded data"
        for key, value in secret["stringData"].items():
            if key == "username":
                continue
            assert PLACEHOLDER in value, f"{name}.{key} is not a placeholder"
            assert "BEGIN" not in value and len(value.replace(PLACEHOLDER, "")) < 60, (
                f"{name}.{key} looks real"
            )
    for service in SERVICES:
        assert secrets[f"yibao-pg-role-{service}"]["stringData"]["username"] == f"yb_{service}"


# --- network policy -------------------------------------------------------------------------------


def _selects(selector: dict, labels: dict) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _ingress_allowed(
    policies: list[dict], namespace: str, dst: dict, src_ns: str, src: dict, port: int
) -> bool:
    """Whether a TCP connection from pod `src` in `src_ns` to pod `dst` in `namespace` on `port` is allowed."""
    selecting = [
        p
        for p in policies
        if _selects(p["spec"]["podSelector"], dst) and "Ingress" in p["spec"]["policyTypes"]
    ]
    if not selecting:
        return True
    src_ns_labels = {"kubernetes.io/metadata.name": src_ns}
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports):
                continue
            for peer in rule.get("from", []):
                ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
                ns_ok = _selects(ns_sel, src_ns_labels) if ns_sel is not None else src_ns == namespace
                pod_ok = _selects(pod_sel, src) if pod_sel is not None else True
                if "ipBlock" not in peer and ns_ok and pod_ok:
                    return True
    return False


def test_only_the_gateway_reaches_the_services(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    policies = list(_of(objects, "NetworkPolicy").values())
    assert any(p["spec"]["podSelector"] == {} and p["spec"]["policyTypes"] == ["Ingress"] for p in policies)
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"] for name, d in _of(objects, "Deployment").items()
    }
    jobs = {name: j["spec"]["template"]["metadata"]["labels"] for name, j in _of(objects, "Job").items()}
    prometheus = {"app.kubernetes.io/name": "prometheus"}
    controller = {"app.kubernetes.io/name": "ingress-nginx"}
    ns = "yibao"
    for service in SERVICES:
        dst = pods[service]
        assert _ingress_allowed(policies, ns, dst, ns, pods["gateway"], 8000), service
        assert _ingress_allowed(policies, ns, dst, "monitoring", prometheus, 8000), f"{service} /metrics"
        for other in SERVICES:
            if other != service:
                assert not _ingress_allowed(policies, ns, dst, ns, pods[other], 8000), f"{other} → {service}"
        for job in jobs.values():
            assert not _ingress_allowed(policies, ns, dst, ns, job, 8000)
        assert not _ingress_allowed(policies, ns, dst, "ingress-nginx", controller, 8000), (
            f"ingress → {service}"
        )
        assert not _ingress_allowed(policies, ns, dst, "default", {}, 8000)
        assert not _ingress_allowed(policies, ns, dst, "monitoring", {"app": "other"}, 8000)
    gateway = pods["gateway"]
    assert _ingress_allowed(policies, ns, gateway, "ingress-nginx", controller, 8000)
    assert not _ingress_allowed(policies, ns, gateway, "default", {}, 8000)
    assert not _ingress_allowed(policies, ns, gateway, "ingress-nginx", controller, 5432)
    # The backends take clients only from the platform's pods that need them.
    postgres, rabbit = {"cnpg.io/cluster": "yibao-pg"}, {"app.kubernetes.io/name": "yibao-rabbitmq"}
    for service in SERVICES:
        assert _ingress_allowed(policies, ns, postgres, ns, pods[service], 5432)
        assert _ingress_allowed(policies, ns, rabbit, ns, pods[service], 5672)
    assert not _ingress_allowed(policies, ns, postgres, ns, gateway, 5432)
    assert not _ingress_allowed(policies, ns, postgres, "default", {}, 5432)
    for job in jobs.values():
        assert _ingress_allowed(policies, ns, postgres, ns, job, 5432)
    assert _ingress_allowed(policies, ns, rabbit, ns, jobs["yibao-bootstrap"], 5672)


def test_egress_is_limited_to_dns_database_broker(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    policies = [p for p in _of(objects, "NetworkPolicy").values() if "Egress" in p["spec"]["policyTypes"]]
    all_pods = [d["spec"]["template"]["metadata"]["labels"] for d in _of(objects, "Deployment").values()]
    all_pods += [j["spec"]["template"]["metadata"]["labels"] for j in _of(objects, "Job").values()]
    for labels in all_pods:
        rules = [
            r for p in policies if _selects(p["spec"]["podSelector"], labels) for r in p["spec"]["egress"]
        ]
        assert rules, f"{labels['app.kubernetes.io/name']}: egress unrestricted"
        ports = {(p.get("protocol", "TCP"), p["port"]) for r in rules for p in r["ports"]}
        assert {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 5672)} <= ports
        assert ports <= {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 5672), ("TCP", 443), ("TCP", 8000)}


def test_ingress_routes_to_the_gateway(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    (ingress,) = _of(objects, "Ingress").values()
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway"}


# --- operator-managed backends (no schema offline: checked by hand) -------------------------------


def test_rabbitmq_cluster(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    (rabbit,) = [o for o in objects if o["kind"] == "RabbitmqCluster"]
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert rabbit["metadata"]["name"] == "yibao-rabbitmq"
    spec = rabbit["spec"]
    assert spec["replicas"] == 3
    assert re.fullmatch(r"rabbitmq:3\.(1[2-9]|[89])[\w.-]*", spec["image"]), "quorum queues need 3.8+"
    assert spec["persistence"]["storage"]
    assert "default_queue_type = quorum" in spec["rabbitmq"]["additionalConfig"]
    assert set(spec) <= {"replicas", "image", "persistence", "resources", "rabbitmq", "affinity", "service",
                         "tls", "override", "tolerations", "terminationGracePeriodSeconds", "secretBackend",
                         "imagePullSecrets", "skipPostDeploySteps", "delayStartSeconds"}  # fmt: skip
    # The broker URL points at the cluster's client Service.
    url = _of(objects, "Secret")["yibao-broker"]["stringData"]["YB_BROKER_URL"]
    assert "@yibao-rabbitmq:5672/" in url


def test_cloudnativepg_cluster(rendered: tuple[str, list[dict]]) -> None:
    _, objects = rendered
    (pg,) = [o for o in objects if o["kind"] == "Cluster"]
    assert pg["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = pg["spec"]
    assert spec["instances"] == 3
    assert spec["storage"]["size"]
    assert spec["bootstrap"]["initdb"]["database"] == "yibao"
    assert spec["enableSuperuserAccess"] is True
    assert spec["superuserSecret"]["name"] in _of(objects, "Secret")
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    assert set(roles) == {f"yb_{s}" for s in SERVICES}
    secrets = _of(objects, "Secret")
    for service in SERVICES:
        role = roles[f"yb_{service}"]
        assert role["login"] is True and role["superuser"] is False and role["ensure"] == "present"
        secret = secrets[role["passwordSecret"]["name"]]
        # CloudNativePG requires a basic-auth Secret whose username is the role's name.
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert secret["stringData"]["username"] == f"yb_{service}"


def test_pgbouncer_pools_in_transaction_mode_within_max_connections(rendered: tuple[str, list[dict]]) -> None:
    """The services reach PostgreSQL through a CloudNativePG Pooler in transaction mode. At every
    service's HPA maximum, the pooler's backends plus one LISTEN connection per pod leave room in
    max_connections for the Jobs, the superuser and the operator; one pooler alone takes every client."""
    _, objects = rendered
    (pooler,) = [o for o in objects if o["kind"] == "Pooler"]
    (pg,) = [o for o in objects if o["kind"] == "Cluster"]
    assert pooler["apiVersion"] == "postgresql.cnpg.io/v1" and pooler["metadata"]["name"] == "yibao-pg-pooler"
    spec = pooler["spec"]
    assert spec["cluster"]["name"] == pg["metadata"]["name"] != pooler["metadata"]["name"]
    assert spec["type"] == "rw" and spec["instances"] >= 2
    assert spec["pgbouncer"]["poolMode"] == "transaction"
    parameters = {k: int(v) for k, v in spec["pgbouncer"]["parameters"].items()}
    assert set(parameters) <= {"default_pool_size", "max_db_connections", "max_client_conn", "min_pool_size",
                               "reserve_pool_size", "server_idle_timeout"}  # fmt: skip
    config = _of(objects, "ConfigMap")["yibao-config"]["data"]
    assert config["YB_DATABASE_PGBOUNCER"] == "true"
    pool = int(config["YB_DATABASE_POOL_SIZE"])
    max_pods = {name: h["spec"]["maxReplicas"] for name, h in _of(objects, "HorizontalPodAutoscaler").items()}
    pods = sum(max_pods[s] for s in SERVICES)
    backends = spec["instances"] * parameters["max_db_connections"] + pods  # + one LISTEN per pod
    reserve = 20  # the Jobs, the superuser, the operator's own connections
    assert backends + reserve <= int(pg["spec"]["postgresql"]["parameters"]["max_connections"])
    assert len(SERVICES) * parameters["default_pool_size"] <= parameters["max_db_connections"]
    assert pods * pool <= parameters["max_client_conn"], (
        "one pooler must take every client while the other restarts"
    )


def test_only_database_clients_reach_pgbouncer_and_it_reaches_postgres(
    rendered: tuple[str, list[dict]],
) -> None:
    _, objects = rendered
    policies = list(_of(objects, "NetworkPolicy").values())
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"] for name, d in _of(objects, "Deployment").items()
    }
    pooler, postgres = {"cnpg.io/poolerName": "yibao-pg-pooler"}, {"cnpg.io/cluster": "yibao-pg"}
    ns = "yibao"
    for service in SERVICES:
        assert _ingress_allowed(policies, ns, pooler, ns, pods[service], 5432), service
    assert not _ingress_allowed(policies, ns, pooler, ns, pods["gateway"], 5432)
    assert not _ingress_allowed(policies, ns, pooler, "default", {}, 5432)
    assert _ingress_allowed(policies, ns, postgres, ns, pooler, 5432)
    egress = [p for p in policies if "Egress" in p["spec"]["policyTypes"]]
    for service in SERVICES:
        peers = [
            peer for p in egress if _selects(p["spec"]["podSelector"], pods[service])
            for rule in p["spec"]["egress"] if any(port["port"] == 5432 for port in rule["ports"])
            for peer in rule["to"]
        ]  # fmt: skip
        assert any(_selects(peer["podSelector"], pooler) for peer in peers if "podSelector" in peer), service


# --- the subset renderer against a real kustomize (where one is installed) -----------------------


def _kustomize_command(directory: Path) -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(directory)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(directory)]
    return None


@pytest.mark.parametrize("env", OVERLAYS)
def test_the_renderer_matches_kustomize(env: str) -> None:
    """Every other test here reads the subset renderer's output: where `kustomize` or `kubectl` is on
    the PATH (no network needed), it must render exactly the same objects."""
    directory = K8S / "overlays" / env
    command = _kustomize_command(directory)
    if command is None:
        pytest.skip("neither kustomize nor kubectl installed: rendered by the subset only")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"
    real = {_key(o): o for o in yaml.safe_load_all(done.stdout) if o}
    ours = {_key(o): o for o in render(directory)}
    assert set(real) == set(ours)
    for key, obj in real.items():
        assert ours[key] == obj, f"{key}: the subset renders it differently from {command[0]}"


def _key(obj: dict) -> tuple[str, str, str]:
    return obj["apiVersion"], obj["kind"], obj["metadata"]["name"]


# --- the settings each pod gets, read by the process's own settings class -------------------------

# Variables that only serve to compose another value with $(NAME), and those yb-local itself reads.
COMPOSING = {"YB_DB_PASSWORD", "YB_DB_ADMIN_PASSWORD"}
LOCAL_RUNNER = {"YB_DATABASE_ADMIN_URL", "YB_REPLICAS"}


def _settings_classes() -> dict[str, type]:
    from gateway.settings import GatewaySettings
    from shared.settings import CommonSettings

    classes: dict[str, type] = {"gateway": GatewaySettings}
    for service in SERVICES:
        module = importlib.import_module(f"svc_{service}.settings")
        (cls,) = [
            c for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, CommonSettings) and c.__module__ == module.__name__
        ]  # fmt: skip
        classes[service] = cls
    return classes


def _container_env(objects: list[dict], container: dict) -> dict[str, str]:
    """The environment Kubernetes gives the container: envFrom first, then env in order, with
    $(NAME) expanded from what is defined before it (unknown names stay as written)."""
    configmaps, secrets = _of(objects, "ConfigMap"), _of(objects, "Secret")

    def source(ref: dict) -> dict[str, str]:
        if "configMapRef" in ref:
            return configmaps[ref["configMapRef"]["name"]]["data"]
        return secrets[ref["secretRef"]["name"]]["stringData"]

    env: dict[str, str] = {}
    for ref in container.get("envFrom", []):
        env.update(source(ref))
    for item in container.get("env", []):
        if "value" in item:
            value = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), item["value"])
        elif "secretKeyRef" in item["valueFrom"]:
            ref = item["valueFrom"]["secretKeyRef"]
            value = secrets[ref["name"]]["stringData"][ref["key"]]
        else:
            ref = item["valueFrom"]["configMapKeyRef"]
            value = configmaps[ref["name"]]["data"][ref["key"]]
        env[item["name"]] = value
    unexpanded = {k: v for k, v in env.items() if "$(" in v}
    assert not unexpanded, f"{container['name']}: references to undefined variables {unexpanded}"
    return env


def _containers(objects: list[dict]) -> dict[str, dict]:
    found = {}
    for obj in objects:
        spec = _pod_spec(obj)
        for container in (spec or {}).get("containers", []):
            found[obj["metadata"]["name"]] = container
    return found


def test_every_yb_variable_is_read_by_some_process(rendered: tuple[str, list[dict]]) -> None:
    """A misspelt or renamed setting (YB_GATEWAY_DEV_ISSUR) would be silently ignored
    (extra="ignore"): every YB_* a pod gets must be a field of a settings class, under the
    process's own prefix or the common YB_ one."""
    _, objects = rendered
    known = set(COMPOSING | LOCAL_RUNNER)
    for process, cls in _settings_classes().items():
        for name in cls.model_fields:
            known |= {f"YB_{name.upper()}", f"YB_{process.upper()}_{name.upper()}"}
    for name, container in _containers(objects).items():
        unknown = {k for k in _container_env(objects, container) if k.startswith("YB_")} - known
        assert not unknown, f"{name}: no process reads {sorted(unknown)}"


def test_each_process_accepts_its_rendered_settings(
    monkeypatch: pytest.MonkeyPatch, rendered: tuple[str, list[dict]]
) -> None:
    from sqlalchemy.engine import make_url

    _, objects = rendered
    secrets = {name: s["stringData"] for name, s in _of(objects, "Secret").items()}
    deployments = _of(objects, "Deployment")
    for process, cls in _settings_classes().items():
        container = deployments[process]["spec"]["template"]["spec"]["containers"][0]
        env = _container_env(objects, container)
        for key in [k for k in os.environ if k.startswith("YB_")]:
            monkeypatch.delenv(key)  # the test run's own settings must not leak in
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = cls()
        assert settings.environment == "production"
        assert settings.auth_jwks_url and settings.auth_jwks_file is None
        assert settings.person_id_key == secrets["yibao-person-id-key"]["YB_PERSON_ID_KEY"]
        if process == "gateway":
            # gateway.main refuses to start with the development issuer in production.
            assert settings.dev_issuer is False
            assert sorted(settings.upstreams) == sorted(SERVICES)
            continue
        # Requests, the consumer and the relay's batches through PgBouncer; the relay's LISTEN straight
        # to PostgreSQL (it needs a session, which transaction mode does not give).
        assert settings.database_pgbouncer is True
        for given, host in (
            (settings.database_url, "yibao-pg-pooler"),
            (settings.database_listen_url, "yibao-pg-rw"),
        ):
            url = make_url(given)
            assert url.drivername == "postgresql+asyncpg"
            assert (url.username, url.host, url.port, url.database) == (f"yb_{process}", host, 5432, "yibao")
            assert url.password == secrets[f"yibao-pg-role-{process}"]["password"]
        assert settings.broker_url == secrets["yibao-broker"]["YB_BROKER_URL"]
        if process == "transfer":
            mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
            volumes = {v["name"]: v for v in deployments[process]["spec"]["template"]["spec"]["volumes"]}
            key_volume = volumes[mounts[str(settings.signing_key_file.parent)]["name"]]
            assert key_volume["secret"]["secretName"] == "yibao-transfer-signing-key"
            assert settings.signing_key_file.name in secrets["yibao-transfer-signing-key"]
            peers_volume = volumes[mounts[str(settings.peers_file.parent)]["name"]]
            peers = _of(objects, "ConfigMap")[peers_volume["configMap"]["name"]]["data"]
            assert settings.peers_file.name in peers


def test_the_jobs_give_yb_local_what_it_reads(rendered: tuple[str, list[dict]]) -> None:
    """yb-local bootstrap / migrate <service> take the admin URL and the broker URL from the
    environment; migrate derives the service's URL from the admin URL (user yb_<service>), keeping
    any password the admin URL has (shared.migrations.service_database_url). So a migration Job's
    admin URL carries no password and the Job never sees the superuser's Secret: the URL yb-local
    derives has no password and asyncpg takes the role's from PGPASSWORD."""
    from sqlalchemy.engine import make_url

    from shared.migrations import service_database_url

    _, objects = rendered
    secrets = {name: s["stringData"] for name, s in _of(objects, "Secret").items()}
    containers = _containers(objects)
    bootstrap = _container_env(objects, containers["yibao-bootstrap"])
    admin = make_url(bootstrap["YB_DATABASE_ADMIN_URL"])
    assert (admin.username, admin.host, admin.database) == ("postgres", "yibao-pg-rw", "yibao")
    assert admin.password == secrets["yibao-pg-superuser"]["password"]
    assert bootstrap["YB_BROKER_URL"] == secrets["yibao-broker"]["YB_BROKER_URL"]
    for service in SERVICES:
        container = containers[f"yibao-migrate-{service}"]
        env = _container_env(objects, container)
        secret_refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
        secret_refs |= {r["secretRef"]["name"] for r in container.get("envFrom", []) if "secretRef" in r}
        assert secret_refs == {f"yibao-pg-role-{service}"}, f"{service}: migration Job sees {secret_refs}"
        url = make_url(service_database_url(env["YB_DATABASE_ADMIN_URL"], service))
        expected = (f"yb_{service}", "yibao-pg-rw", "yibao", None)
        assert (url.username, url.host, url.database, url.password) == expected
        assert env["PGPASSWORD"] == secrets[f"yibao-pg-role-{service}"]["password"]
