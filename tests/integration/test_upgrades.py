"""Day 2 on a real PostgreSQL: version 1 of a golden path makes five databases; version 2 raises
their connection limit (an update in place) and adds a guardrail two of them now break. The
impact names each; upgrades change the three in place and refuse the two."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from goldenpath.app import Platform
from goldenpath.errors import (
    AccessDenied,
    Conflict,
    PolicyDenied,
    ResourceNotFound,
    TemplateRetired,
)
from goldenpath.store import queries
from tests.conftest import ADMIN, BackgroundWorker, member, remember_secrets, wait_for_request
from tests.integration.upgrade_support import Cli, admin_cli, limits, write_version

ALICE = member("alice", "payments")
OTHER = member("olga", "search")


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


def test_the_cli_shows_the_impact_and_rolls_out_in_waves_then_resumes(
    make_platform: Callable[..., Platform],
    five_databases: tuple[Path, dict[str, str]],
    pg_admin: psycopg.Connection[Any],
) -> None:
    folder, tiers = five_databases
    write_version(folder, "2.0.0", 15, guardrail=True)
    v2 = make_platform(template_dirs=[folder])
    with admin_cli(v2) as cli:
        shown_and_rolled_out(cli, v2, tiers, pg_admin)


def test_the_api_queues_the_rollout_of_the_in_place_ones_and_lists_the_rest(
    make_platform: Callable[..., Platform],
    five_databases: tuple[Path, dict[str, str]],
    pg_admin: psycopg.Connection[Any],
) -> None:
    folder, tiers = five_databases
    write_version(folder, "2.0.0", 15, guardrail=True)
    v2 = make_platform(template_dirs=[folder])
    with (
        admin_cli(v2) as cli,
        httpx.Client(
            base_url=cli.env["GOLDENPATH_URL"],
            headers={"Authorization": f"Bearer {cli.env['GOLDENPATH_TOKEN']}"},
            timeout=120,
        ) as api,
    ):
        for bad, field in (({"version": "../1"}, "version"), ({"teams": "a"}, "teams")):
            refused = api.post("/api/v1/templates/versioned-db/rollout", json=bad)
            assert refused.status_code == 422, refused.text
            assert [f["field"] for f in refused.json()["fields"]] == [field]
        newest = v2.service.requests(ADMIN, template="versioned-db", limit=1)
        assert newest[0].template_version == "1.0.0"  # nothing was queued

        answer = api.post("/api/v1/templates/versioned-db/rollout", json={})
        assert answer.status_code == 202, answer.text
        started = answer.json()
        assert started["version"] == "2.0.0"
        assert sorted(s["name"] for s in started["started"]) == sorted(
            n for n, tier in tiers.items() if tier == "standard"
        )
        assert {r["name"]: r["outcome"] for r in started["refused"]} == {
            n: "denied" for n, tier in tiers.items() if tier == "legacy"
        }
        assert all("legacy tier is gone" in r["why"] for r in started["refused"])
        for item in started["started"]:
            done = wait_for_request(v2, item["request"]["id"])
            assert done.status == "succeeded", done.error
    for name, tier in tiers.items():
        assert limits(pg_admin, name) == ((10, 10) if tier == "legacy" else (15, 15))


def shown_and_rolled_out(
    cli: Cli, v2: Platform, tiers: dict[str, str], pg_admin: psycopg.Connection[Any]
) -> None:
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


RENAMED = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {{name: renamed-db, version: "{version}"}}
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^gpt[a-z0-9_]{{3,40}}$"}}
  steps:
    - id: db
      action: postgres:database
      input: {{name: "${{{{ parameters.name }}}}{suffix}", connection_limit: 5}}
  output:
    secrets: {{password: "${{{{ steps.db.output.password }}}}"}}
"""


def test_allow_replace_destroys_the_database_and_makes_it_again(
    make_platform: Callable[..., Platform],
    tmp_path: Path,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "renamed-1.yaml").write_text(RENAMED.format(version="1.0.0", suffix=""))
    v1 = make_platform(template_dirs=[folder])
    name = unique_name("ren")
    with BackgroundWorker(v1):
        made = v1.service.submit("renamed-db", {"name": name}, ALICE)
        assert wait_for_request(v1, made.id).status == "succeeded"
    (folder / "renamed-2.yaml").write_text(RENAMED.format(version="2.0.0", suffix="_v2"))
    v2 = make_platform(template_dirs=[folder])
    [resource] = v2.service.resources(ADMIN)
    [item] = v2.upgrades.impact("renamed-db", None, ADMIN).resources
    assert item.outcome == "replace"
    assert item.reasons == (
        f"postgres:database/{name}/postgres becomes postgres:database/{name}_v2/postgres",
    )
    with pytest.raises(Conflict, match="its data would be lost"):
        v2.upgrades.upgrade(resource.id, ALICE)
    assert databases(pg_admin, name) == [name]  # refused: nothing changed

    upgrade = v2.upgrades.upgrade(resource.id, ALICE, allow_replace=True).request
    assert upgrade is not None and upgrade.plan["upgrade"]["allow_replace"] is True
    # Queued, not run yet: a second upgrade of the same resource is refused, not queued too.
    with pytest.raises(Conflict, match=f"being upgraded by request {upgrade.id}"):
        v2.upgrades.upgrade(resource.id, ALICE, allow_replace=True)
    with BackgroundWorker(v2):
        done = wait_for_request(v2, upgrade.id)
    assert done.status == "succeeded", done.error
    assert databases(pg_admin, name) == [f"{name}_v2"]  # the old one is gone
    replaced = v2.service.resource(resource.id, ADMIN)
    assert (replaced.name, replaced.state, replaced.template_version) == (
        f"{name}_v2",
        "active",
        "2.0.0",
    )
    assert done.outputs["secrets"] == ["db.dsn", "db.password"]
    revealed = remember_secrets(v2.service.reveal_secrets(done.id, ALICE))
    with psycopg.connect(revealed["db.dsn"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (f"{name}_v2",)
    with v2.database.begin() as conn:
        [event] = [e for e in queries.events(conn) if e["action"] == "resource.upgraded"]
    assert (event["target"], event["details"]["change"]) == (resource.id, "replace")


def test_a_replace_failing_after_its_destroy_is_marked_and_a_retry_makes_it_once(
    make_platform: Callable[..., Platform],
    tmp_path: Path,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "renamed-1.yaml").write_text(RENAMED.format(version="1.0.0", suffix=""))
    v1 = make_platform(template_dirs=[folder])
    name = unique_name("ref")
    with BackgroundWorker(v1):
        made = v1.service.submit("renamed-db", {"name": name}, ALICE)
        assert wait_for_request(v1, made.id).status == "succeeded"
    (folder / "renamed-2.yaml").write_text(RENAMED.format(version="2.0.0", suffix="_v2"))
    v2 = make_platform(template_dirs=[folder])
    [resource] = v2.service.resources(ADMIN)
    # Someone else's role has the new name: making it again fails after the old is destroyed.
    pg_admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(f"{name}_v2")))
    with BackgroundWorker(v2):
        upgrade = v2.upgrades.upgrade(resource.id, ALICE, allow_replace=True).request
        assert upgrade is not None
        failed = wait_for_request(v2, upgrade.id)
        assert failed.status == "failed"
        assert "already exists" in (failed.error or ""), failed.error
        assert databases(pg_admin, name) == []  # destroyed, nothing made: nothing rolled back
        marked = v2.service.resource(resource.id, ADMIN)
        assert marked.state == "failed"
        assert f"destroyed to be made again by upgrade {upgrade.id}" in (marked.error or "")

        pg_admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(f"{name}_v2")))
        v2.service.retry(upgrade.id, ALICE)
        done = wait_for_request(v2, upgrade.id)
    assert done.status == "succeeded", done.error
    assert databases(pg_admin, name) == [f"{name}_v2"]
    replaced = v2.service.resource(resource.id, ADMIN)
    assert (replaced.name, replaced.state, replaced.error) == (f"{name}_v2", "active", None)
    with v2.database.begin() as conn:
        events = queries.events(conn)
    assert [e["target"] for e in events if e["action"] == "resource.upgraded"] == [resource.id]
    started = [e for e in events if e["action"] == "step.started" and upgrade.id in e["target"]]
    assert len(started) == 2  # the step ran twice; the old database was destroyed once
    logs = "\n".join(line.message for line in v2.service.logs(upgrade.id, ALICE))
    assert logs.count(f"destroyed postgres:database '{name}'") == 1


PAIR = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {{name: pair-db, version: "{version}"}}
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^gpt[a-z0-9_]{{3,40}}$"}}
  steps:
    - id: first
      action: postgres:database
      input: {{name: "${{{{ parameters.name }}}}_a", connection_limit: {limit}}}
    - id: second
      action: postgres:database
      input: {{name: "${{{{ parameters.name }}}}_b", connection_limit: {limit}}}
"""


def test_a_cancelled_upgrade_stops_before_its_next_step_and_destroys_nothing(
    make_platform: Callable[..., Platform],
    tmp_path: Path,
    pg_admin: psycopg.Connection[Any],
    unique_name: Callable[[str], str],
    database_url: str,
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "pair-1.yaml").write_text(PAIR.format(version="1.0.0", limit=10))
    v1 = make_platform(template_dirs=[folder])
    name = unique_name("pair")
    with BackgroundWorker(v1):
        made = v1.service.submit("pair-db", {"name": name}, ALICE)
        assert wait_for_request(v1, made.id).status == "succeeded"
    (folder / "pair-2.yaml").write_text(PAIR.format(version="2.0.0", limit=15))
    v2 = make_platform(template_dirs=[folder])
    first = next(r for r in v2.service.resources(ADMIN) if r.step_id == "first")
    # The first step's update waits on the action's lock on its name, held here, while the
    # upgrade is cancelled: it finishes that step (a change in place is not interrupted), and
    # stops before the second.
    with psycopg.connect(database_url, autocommit=True) as blocker:
        key = f"goldenpath:postgres:database:{name}_a"
        blocker.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
        with BackgroundWorker(v2):
            upgrade = v2.upgrades.upgrade(first.id, ALICE).request
            assert upgrade is not None
            wait_for_request(v2, upgrade.id, until=lambda r: r.step("first").status == "running")
            assert v2.service.cancel(upgrade.id, ALICE).status == "cancelling"
            blocker.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
            done = wait_for_request(v2, upgrade.id)
    assert done.status == "cancelled", done.error
    assert [(s.step_id, s.status) for s in done.steps] == [
        ("first", "succeeded"),
        ("second", "failed"),
    ]
    assert limits(pg_admin, f"{name}_a") == (15, 15)
    assert limits(pg_admin, f"{name}_b") == (10, 10)  # never reached
    resources = {r.step_id: r for r in v2.service.resources(ADMIN)}
    assert (resources["first"].state, resources["first"].template_version) == ("active", "2.0.0")
    assert (resources["second"].state, resources["second"].template_version) == (
        "active",
        "1.0.0",
    )
    assert databases(pg_admin, name) == [f"{name}_a", f"{name}_b"]  # nothing rolled back


def databases(pg_admin: psycopg.Connection[Any], stem: str) -> list[str]:
    rows = pg_admin.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", [f"{stem}%"]
    )
    return [r[0] for r in rows]
