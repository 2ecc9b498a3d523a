"""Day 2 on a real PostgreSQL: version 1 of a golden path makes five databases; version 2 raises
their connection limit (an update in place) and adds a guardrail two of them now break. The
impact names each; upgrades change the three in place and refuse the two."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.errors import (
    AccessDenied,
    Conflict,
    PolicyDenied,
    ResourceNotFound,
    TemplateRetired,
)
from goldenpath.store import queries
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request

ALICE = member("alice", "payments")
OTHER = member("olga", "search")

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: versioned-db
  version: "{version}"
  status: {status}
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^gpt[a-z0-9_]{{3,40}}$"}}
      tier: {{type: string, enum: [standard, legacy], default: standard}}
  steps:
    - id: db
      action: postgres:database
      input: {{name: "${{{{ parameters.name }}}}", connection_limit: {limit}}}
{extra}"""

NO_LEGACY = """\
package goldenpath.templates.versioned_db

import rego.v1

deny contains msg if {
\tinput.parameters.tier == "legacy"
\tmsg := sprintf("%s: the legacy tier is gone in 2.0.0", [input.parameters.name])
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_version(
    folder: Path, version: str, limit: int, *, status: str = "active", guardrail: bool = False
) -> None:
    extra = "  guardrails: [no_legacy.rego]\n" if guardrail else ""
    if guardrail:
        (folder / "no_legacy.rego").write_text(NO_LEGACY)
    (folder / f"versioned-db-{version}.yaml").write_text(
        TEMPLATE.format(version=version, status=status, limit=limit, extra=extra)
    )


def limits(pg_admin: psycopg.Connection[Any], name: str) -> tuple[int, int]:
    role = pg_admin.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", [name])
    database = pg_admin.execute("SELECT datconnlimit FROM pg_database WHERE datname = %s", [name])
    return role.fetchone()[0], database.fetchone()[0]  # type: ignore[index]


@pytest.fixture
def five_databases(
    make_platform: Callable[..., Platform], tmp_path: Path, unique_name: Callable[[str], str]
) -> tuple[Path, dict[str, str]]:
    """Five databases made by version 1.0.0: three standard, two legacy."""
    folder = tmp_path / "templates"
    folder.mkdir()
    write_version(folder, "1.0.0", 10)
    v1 = make_platform(template_dirs=[folder])
    tiers = {unique_name("std"): "standard" for _ in range(3)}
    tiers |= {unique_name("old"): "legacy" for _ in range(2)}
    with BackgroundWorker(v1):
        for name, tier in tiers.items():
            request = v1.service.submit("versioned-db", {"name": name, "tier": tier}, ALICE)
            assert wait_for_request(v1, request.id).status == "succeeded"
    return folder, tiers


def test_impact_then_upgrades_change_three_in_place_and_refuse_two(
    make_platform: Callable[..., Platform],
    five_databases: tuple[Path, dict[str, str]],
    pg_admin: psycopg.Connection[Any],
) -> None:
    folder, tiers = five_databases
    write_version(folder, "2.0.0", 15, guardrail=True)
    v2 = make_platform(template_dirs=[folder])
    assert list(v2.catalog.versions_of("versioned-db")) == ["1.0.0", "2.0.0"]
    assert v2.catalog.get("versioned-db").version == "2.0.0"

    changes = {
        (c.area, c.item, c.change)
        for c in v2.upgrades.diff("versioned-db", "1.0.0", "2.0.0", ALICE)
    }
    assert changes == {
        ("steps", "db", "changed"),
        ("guardrails", "versioned-db/no_legacy.rego", "added"),
    }

    impact = v2.upgrades.impact("versioned-db", None, ADMIN)
    assert impact.counts == {"none": 0, "update": 3, "replace": 0, "denied": 2, "invalid": 0}
    by_name = {r.name: r for r in impact.resources}
    for name, tier in tiers.items():
        item = by_name[name]
        assert (item.team, item.from_version) == ("payments", "1.0.0")
        if tier == "legacy":
            assert item.outcome == "denied"
            assert item.reasons == (f"{name}: the legacy tier is gone in 2.0.0",)
        else:
            assert item.outcome == "update"
            assert item.reasons == ("connection_limit: 10 -> 15",)
    with pytest.raises(AccessDenied, match=r"identity\.manage"):
        v2.upgrades.impact("versioned-db", None, ALICE)

    with BackgroundWorker(v2):
        for item in impact.resources:
            if item.outcome == "denied":
                with pytest.raises(PolicyDenied, match="legacy tier is gone"):
                    v2.upgrades.upgrade(item.resource_id, ALICE)
                continue
            with pytest.raises(ResourceNotFound):
                v2.upgrades.upgrade(item.resource_id, OTHER)  # another team's: hidden
            dry = v2.upgrades.upgrade(item.resource_id, ALICE, dry_run=True)
            assert dry.request is None and dry.preview is not None
            assert limits(pg_admin, item.name) == (10, 10)  # a dry run changes nothing
            upgraded = v2.upgrades.upgrade(item.resource_id, ALICE).request
            assert upgraded is not None
            done = wait_for_request(v2, upgraded.id)
            assert done.status == "succeeded", done.error
            assert done.template_version == "2.0.0"

    for name, tier in tiers.items():
        assert limits(pg_admin, name) == ((10, 10) if tier == "legacy" else (15, 15))
    resources = {r.name: r for r in v2.service.resources(ADMIN)}
    for name, tier in tiers.items():
        resource = resources[name]
        assert resource.state == "active"
        assert resource.template_version == ("1.0.0" if tier == "legacy" else "2.0.0")
        if tier == "standard":
            assert resource.config["connection_limit"] == 15
            with pytest.raises(Conflict, match=r"already at versioned-db@2\.0\.0"):
                v2.upgrades.upgrade(resource.id, ALICE)
    # Upgraded ones are current; the impact now lists only the two still refused.
    assert v2.upgrades.impact("versioned-db", None, ADMIN).counts["denied"] == 2
    assert v2.upgrades.impact("versioned-db", None, ADMIN).counts["update"] == 0


def test_a_retired_version_takes_no_requests_and_a_deprecated_one_warns(
    make_platform: Callable[..., Platform], tmp_path: Path, unique_name: Callable[[str], str]
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    write_version(folder, "1.0.0", 10, status="retired")
    write_version(folder, "1.5.0", 15, status="deprecated")
    write_version(folder, "3.0.0", 30, status="retired")
    platform = make_platform(template_dirs=[folder])
    assert platform.catalog.get("versioned-db").version == "1.5.0"  # the newest not retired
    preview = platform.service.dry_run("versioned-db", {"name": unique_name("dep")}, ALICE)
    assert [w.message for w in preview.verdict.warnings] == ["versioned-db@1.5.0 is deprecated"]
    with pytest.raises(TemplateRetired, match=r"versioned-db@3\.0\.0 is retired"):
        platform.service.dry_run(
            "versioned-db", {"name": unique_name("ret")}, ALICE, version="3.0.0"
        )


@pytest.fixture
def serve(make_platform: Callable[..., Platform]) -> Iterator[Callable[[Platform], str]]:
    """The platform's API (with its worker) on a free port, over real HTTP."""
    stops: list[Callable[[], None]] = []

    def start(platform: Platform) -> str:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_api(platform, run_worker=True),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)

        def stop() -> None:
            server.should_exit = True
            thread.join(timeout=15)

        stops.append(stop)
        return f"http://127.0.0.1:{port}"

    yield start
    for stop in stops:
        stop()


def test_the_cli_shows_the_impact_and_rolls_out_in_waves_then_resumes(
    make_platform: Callable[..., Platform],
    five_databases: tuple[Path, dict[str, str]],
    pg_admin: psycopg.Connection[Any],
    serve: Callable[[Platform], str],
) -> None:
    folder, tiers = five_databases
    write_version(folder, "2.0.0", 15, guardrail=True)
    v2 = make_platform(template_dirs=[folder])
    issued = v2.directory.bootstrap()
    assert issued is not None
    v2.directory.create_team(ADMIN, "payments")
    env = {"GOLDENPATH_URL": serve(v2), "GOLDENPATH_TOKEN": issued.token}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "goldenpath.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, **env},
        )

    shown = cli("templates", "impact", "versioned-db")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "versioned-db@2.0.0: 0 none, 3 update, 0 replace, 2 denied, 0 invalid" in shown.stdout
    diff = cli("templates", "diff", "versioned-db", "1.0.0", "2.0.0")
    assert "guardrails: versioned-db/no_legacy.rego added" in diff.stdout

    rolled = cli("templates", "rollout", "versioned-db", "--max-parallel", "2", "--json")
    assert rolled.returncode == 6, rolled.stdout + rolled.stderr  # 2 refused: conflict
    report = json.loads(rolled.stdout)
    assert sorted(u["status"] for u in report["upgraded"]) == ["succeeded"] * 3
    assert sorted(r["outcome"] for r in report["refused"]) == ["denied", "denied"]
    for name, tier in tiers.items():
        assert limits(pg_admin, name) == ((10, 10) if tier == "legacy" else (15, 15))

    # Run again (after a crash, say): nothing left to update, no second change.
    again = cli("templates", "rollout", "versioned-db", "--json")
    assert json.loads(again.stdout)["upgraded"] == []
    with v2.database.begin() as conn:
        upgrades = [e for e in queries.events(conn) if e["action"] == "resource.upgraded"]
    assert len(upgrades) == 3
