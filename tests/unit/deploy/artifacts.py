"""Readers of the deployment artifacts, shared by the tests that check and run them: each
returns what the file says, parsed with the format's own rules (YAML, systemd's INI dialect,
Dockerfile instructions), never a copy of its values."""

from __future__ import annotations

import configparser
import enum
import json
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
KUBERNETES = ROOT / "deploy" / "kubernetes"
SYSTEMD = ROOT / "deploy" / "systemd"


class Role(enum.Enum):
    MIGRATE = "migrate"
    API = "api"
    WORKER = "worker"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        name, _, args = whole.partition(" ")
        instructions.append((name.upper(), args.strip()))
    return instructions


def image_command() -> list[str]:
    """What the image runs by default after its entry point's ``goldenpath``."""
    found = dict(dockerfile_instructions())
    entrypoint = json.loads(found["ENTRYPOINT"])
    return [*entrypoint[entrypoint.index("goldenpath") + 1 :], *json.loads(found["CMD"])]


def compose_file() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def kubernetes_documents() -> list[dict[str, Any]]:
    """Every document of the files kustomization.yaml lists."""
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    documents: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((KUBERNETES / name).read_text()) if d]
    return documents


def systemd_unit(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, empty_lines_in_values=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return {section: dict(parser[section]) for section in parser.sections()}


def commands(artifact: str) -> dict[Role, list[str]]:
    """Each role's arguments to ``goldenpath`` in ``artifact`` (compose, kubernetes, systemd)."""
    if artifact == "compose":
        services = compose_file()["services"]
        return {role: list(services[role.value]["command"]) for role in Role}
    if artifact == "kubernetes":
        names = {
            "goldenpath-migrate": Role.MIGRATE,
            "goldenpath-api": Role.API,
            "goldenpath-worker": Role.WORKER,
        }
        found = {}
        for document in kubernetes_documents():
            role = names.get(document["metadata"]["name"])
            if role is not None and document["kind"] in {"Deployment", "Job"}:
                found[role] = list(document["spec"]["template"]["spec"]["containers"][0]["args"])
        return found
    if artifact == "systemd":
        units = {
            Role.MIGRATE: "goldenpath-migrate.service",
            Role.API: "goldenpath-api.service",
            Role.WORKER: "goldenpath-worker@.service",
        }
        found = {}
        for role, unit in units.items():
            argv = shlex.split(systemd_unit(SYSTEMD / unit)["Service"]["ExecStart"])
            assert argv[0] == "/opt/goldenpath/bin/goldenpath", argv
            found[role] = argv[1:]
        return found
    raise ValueError(artifact)
