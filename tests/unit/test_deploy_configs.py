"""The deployment files are valid and agree with each other and with the code.

No container engine runs here, so compose files are checked against the Compose
specification's JSON schema and Kubernetes manifests against the API schemas bundled with
kubernetes-validate; `docker compose config` and `kubectl kustomize` run too where available.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import crossplane
import jsonschema
import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from contracts.services import SERVICE_NAMES
from libs.messaging import Subjects, create_broker
from libs.supervision.nats_server import nats_server_binary
from libs.telemetry.metrics import new_registry
from services.router.settings import RouterSettings
from tuneloop.cli import app
from tuneloop.commands.config_reference import known_variables, render_config_reference
from tuneloop.commands.events_reference import render_events_reference

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILES = [REPO / "docker-compose.yml", DEPLOY / "compose.cluster.yml"]
K8S = DEPLOY / "k8s"
PORTS = {
    "gateway": 8000,
    "exporter": 8001,
    "trainer": 8002,
    "registry": 8003,
    "router": 8004,
    "evaluator": 8005,
    "cost": 8006,
    "retrainer": 8007,
}


class ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's merge tags (`!reset`, `!override`)."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


for _tag in ("!reset", "!override"):
    ComposeLoader.add_constructor(_tag, _tagged)


def load_compose(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=ComposeLoader)
    return loaded


def interpolated(value: Any) -> Any:
    """Compose's `${VAR:-default}` / `${VAR:?error}` with defaults, as `config` would."""
    if isinstance(value, dict):
        return {k: interpolated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolated(v) for v in value]
    if isinstance(value, str):
        value = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)
        return re.sub(r"\$\{[A-Z0-9_]+:\?[^}]*\}", "set", value)
    return value


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    loaded: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return dict(env) if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_files_follow_the_compose_specification(path: Path) -> None:
    document = load_compose(path)
    jsonschema.validate(interpolated(document), compose_schema())
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode
    != 0
    if shutil.which("docker")
    else True,
    reason="the docker compose plugin is not installed",
)
def test_docker_compose_config_accepts_the_files() -> None:
    env = {**os.environ, "POSTGRES_PASSWORD": "x", "GRAFANA_ADMIN_PASSWORD": "x"}
    for files in (
        ["-f", "docker-compose.yml"],
        ["-f", "docker-compose.yml", "-f", "deploy/compose.cluster.yml"],
    ):
        result = subprocess.run(
            [
                "docker",
                "compose",
                *files,
                "--profile",
                "gpu",
                "--profile",
                "observability",
                "config",
                "-q",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def test_every_service_runs_with_a_health_check_after_its_dependencies() -> None:
    services = load_compose(REPO / "docker-compose.yml")["services"]
    for name in SERVICE_NAMES:
        service = services[name]
        assert service["command"] == ["service", name]
        assert environment(service)[f"TUNELOOP_{name.upper()}_PORT"] == str(PORTS[name])
        assert service["healthcheck"]["test"][-1] == str(PORTS[name])
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    for name, service in services.items():
        for dependency, condition in dict(service.get("depends_on") or {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}"


def test_secrets_have_no_default_and_are_in_the_env_example() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert "POSTGRES_PASSWORD" in required
    example = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    assert required <= listed
    assert not re.search(r"PASSWORD:-", text), "a password with a default"
    assert ".env" in (REPO / ".gitignore").read_text().split()


def compose_variables() -> set[str]:
    names: set[str] = set()
    for path in COMPOSE_FILES:
        for service in load_compose(path)["services"].values():
            names |= set(environment(service))
        for key, value in load_compose(path).items():
            if key.startswith("x-") and isinstance(value, dict):
                names |= set(value)
    return names


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path, document


def k8s_variables() -> set[str]:
    names: set[str] = set()
    for _, document in k8s_documents():
        if document["kind"] == "ConfigMap" and document["metadata"]["name"] == "tuneloop-config":
            names |= set(document["data"])
        for container in pod_containers(document):
            names |= {item["name"] for item in container.get("env", [])}
    names |= set(re.findall(r"^([A-Z0-9_]+)=", (K8S / "secrets.env.example").read_text(), re.M))
    return names


def pod_containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    template = document.get("spec", {}).get("template", {})
    containers: list[dict[str, Any]] = template.get("spec", {}).get("containers", [])
    return containers


@pytest.mark.parametrize("where", ["compose", "k8s"])
def test_every_tuneloop_variable_set_is_one_the_code_reads(where: str) -> None:
    names = compose_variables() if where == "compose" else k8s_variables()
    tuneloop = {n for n in names if n.startswith("TUNELOOP_")}
    unknown = tuneloop - known_variables()
    assert not unknown, f"{where} sets variables nothing reads: {sorted(unknown)}"


def test_router_upstreams_in_the_files_are_valid_settings() -> None:
    values = [
        environment(s).get("TUNELOOP_ROUTER_UPSTREAMS")
        for path in COMPOSE_FILES
        for s in load_compose(path)["services"].values()
    ]
    values += [
        e.get("value")
        for _, d in k8s_documents()
        for c in pod_containers(d)
        for e in c.get("env", [])
        if e["name"] == "TUNELOOP_ROUTER_UPSTREAMS"
    ]
    values = [interpolated(v) for v in values if v]
    assert len(values) >= 3
    for value in values:
        assert RouterSettings(upstreams=value).upstream_map()


def test_kubernetes_manifests_match_the_api_schemas() -> None:
    kinds = set()
    for _path, document in k8s_documents():
        kubernetes_validate.validate(document, "1.32.0", strict=True)
        kinds.add((document["kind"], document["metadata"]["name"]))
    for name in SERVICE_NAMES:
        assert ("Deployment", name) in kinds
        assert ("Service", name) in kinds
    assert ("StatefulSet", "nats") in kinds
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


def test_kubernetes_services_probe_and_advertise_their_own_port() -> None:
    for _, document in k8s_documents():
        if document["kind"] != "Deployment":
            continue
        name = document["metadata"]["name"]
        (container,) = pod_containers(document)
        assert container["args"] == ["service", name]
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[name]}]
        env = {e["name"]: e for e in container["env"]}
        assert env[f"TUNELOOP_{name.upper()}_PORT"]["value"] == str(PORTS[name])
        assert env["TUNELOOP_HTTP_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        assert container["readinessProbe"]["httpGet"]["path"] == "/livez"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_valid_manifests(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    shutil.copy(K8S / "secrets.env.example", copy / "secrets.env")
    built = subprocess.run(
        ["kubectl", "kustomize", str(copy)], capture_output=True, text=True, check=True
    ).stdout
    documents = [d for d in yaml.safe_load_all(built) if d]
    for document in documents:
        kubernetes_validate.validate(document, "1.32.0", strict=True)
        assert document["metadata"].get("namespace", "tuneloop") == "tuneloop"
    secret = next(d for d in documents if d["kind"] == "Secret")
    assert secret["metadata"]["name"] == "tuneloop-secrets"


def test_a_broken_manifest_is_caught() -> None:
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.32.0", strict=True)


def test_nginx_config_parses_and_forwards_to_the_gateways() -> None:
    parsed = crossplane.parse(str(DEPLOY / "nginx" / "nginx.conf"))
    assert parsed["status"] == "ok", parsed["errors"]
    text = (DEPLOY / "nginx" / "nginx.conf").read_text()
    assert "server gateway:8000" in text
    assert "proxy_pass http://gateways;" in text


def test_prometheus_scrapes_every_service_on_its_port() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (tuneloop,) = [job for job in config["scrape_configs"] if job["job_name"] == "tuneloop"]
    targets = {c["names"][0]: c["port"] for c in tuneloop["dns_sd_configs"]}
    assert targets == PORTS


def exported_metric_families() -> set[str]:
    """Metric families of a service's registry, as the stack builds it."""
    registry = new_registry()
    create_broker("nats://127.0.0.1:4222", Subjects("tuneloop"), max_attempts=3, metrics=registry)
    return {family.name for family in registry.collect()}


def family_of(series: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", series)


def test_the_grafana_dashboard_queries_metrics_the_services_export() -> None:
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )["datasources"][0]
    dashboard = json.loads((DEPLOY / "grafana/dashboards/tuneloop.json").read_text())
    exported = exported_metric_families()
    queries = [
        target["expr"]
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]
    assert len(queries) >= 10
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == datasource["uid"]
    for query in queries:
        used = set(re.findall(r"\b((?:faststream|process)_[a-z_]+)", query))
        assert used, query
        missing = {m for m in used if family_of(m) not in exported}
        assert not missing, f"{query} uses metrics no service exports: {missing}"
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    assert "jobs" in titles
    assert "experiments" in titles


def test_the_nats_cluster_config_is_accepted_by_nats_server() -> None:
    for node in ("nats-1", "nats-2"):
        result = subprocess.run(
            [str(nats_server_binary()), "-t", "-c", str(DEPLOY / "nats/compose-cluster.conf")],
            env={**os.environ, "NATS_SERVER_NAME": node},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


class Livez(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/livez" else 404)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.mark.parametrize(("status", "expected"), [(200, 0), (503, 1)])
def test_the_container_health_check_asks_livez(status: int, expected: int) -> None:
    handler = type("Handler", (Livez,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = subprocess.run(
            [sys.executable, str(DEPLOY / "livez.py"), str(server.server_address[1])],
            env={**os.environ, "TUNELOOP_HTTP_HOST": "127.0.0.1"},
            capture_output=True,
            timeout=30,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == expected


def test_the_health_check_fails_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "livez.py"), str(port)],
        env={**os.environ, "TUNELOOP_HTTP_HOST": "0.0.0.0"},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1


def test_the_entrypoint_binds_the_containers_own_address(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    fake = bin_dir / "tuneloop"
    fake.write_text('#!/bin/sh\necho "$TUNELOOP_HTTP_HOST $*"\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    auto = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "service", "router"],
        env={**env, "TUNELOOP_HTTP_HOST": "auto"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert auto[1:] == ["service", "router"]
    assert auto[0] == socket.gethostbyname(socket.gethostname())
    assert auto[0] != "0.0.0.0"
    given = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "db", "upgrade"],
        env={**env, "TUNELOOP_HTTP_HOST": "10.1.2.3"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert given == ["10.1.2.3", "db", "upgrade"]


def test_the_configuration_reference_is_fresh() -> None:
    assert (REPO / "docs/configuration.md").read_text() == render_config_reference(), (
        "docs/configuration.md is stale: run `tuneloop docs config` and commit it"
    )


def test_the_events_reference_is_fresh() -> None:
    expected = render_events_reference(REPO / "contracts/asyncapi.json")
    assert (REPO / "docs/events.md").read_text() == expected, (
        "docs/events.md is stale: run `tuneloop docs events` and commit it"
    )


def test_the_configuration_reference_names_every_variable() -> None:
    text = render_config_reference()
    for variable in (
        "TUNELOOP_NATS_URL",
        "TUNELOOP_ROUTER_UPSTREAMS",
        "TUNELOOP_URL",
        "TUNELOOP_API_KEY",
        "TUNELOOP_EXPORTER_TOKENIZER",
        "OTEL_TRACES_EXPORTER",
    ):
        assert f"`{variable}`" in text


def test_docs_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("old\n")
    runner = CliRunner()
    result = runner.invoke(app, ["docs", "config", "--check", "--output", str(stale)])
    assert result.exit_code == 1
    assert "stale" in result.stderr
    assert runner.invoke(app, ["docs", "config", "--output", str(stale)]).exit_code == 0
    assert runner.invoke(app, ["docs", "config", "--check", "--output", str(stale)]).exit_code == 0


def test_a_broken_compose_file_is_caught() -> None:
    broken = {"services": {"gateway": {"image": "x", "depends_on": {"nats": {"condition": 1}}}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())
