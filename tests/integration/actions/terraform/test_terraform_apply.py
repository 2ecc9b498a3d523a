"""terraform:apply through the action, with the real binary and state in a real PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform import cli as terraform_cli
from goldenpath.actions.terraform.action import TerraformApply
from goldenpath.actions.terraform.process import run
from goldenpath.errors import BackendUnavailable, InvalidInput, PolicyDenied
from goldenpath.settings import BackendSettings
from tests.integration.actions.terraform.terraform_support import (
    FORBIDDEN_TIER_POLICY,
    MODULES,
    HandTerraform,
    PgTerraform,
    journal_of,
    make_context,
    plan_guard,
    requires_terraform,
    resource_ref,
)

pytestmark = requires_terraform


@pytest.fixture
def guard(tmp_path: Path) -> Any:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "forbidden_tier.rego").write_text(FORBIDDEN_TIER_POLICY)
    return plan_guard(folder)


@pytest.fixture
def context(database_url: str, tmp_path: Path, guard: Any, state_store: StateStore) -> Any:
    def make(**inputs: Any) -> Any:
        values = {"module": "basic", "workspace": "orders", "variables": {"name": "orders"}}
        values.update(inputs)
        return make_context(
            state_url=database_url,
            data_dir=tmp_path / "data",
            guard=guard,
            state_store=state_store,
            **values,
        )

    return make


@pytest.fixture
def hand(open_hand: Any, state_store: StateStore) -> Callable[[], HandTerraform]:
    """An operator's Terraform on the workspace 'orders'."""
    return lambda: open_hand(MODULES / "basic", "orders", state_store)


def test_apply_creates_the_resources_and_returns_outputs(
    context: Any, tmp_path: Path, hand: Any
) -> None:
    ctx = context()
    outputs = TerraformApply().apply(ctx)

    assert outputs["greeting"] == "hello orders"
    assert len(outputs["token"]) == 64
    assert ctx.declared_secrets == {"token"}
    assert hand().state_list() == ["terraform_data.record"]
    log = journal_of(ctx).text
    assert "terraform_data.record: Creation complete" in log
    assert "plan approved by the guardrails: 1 to add" in log
    assert "\x1b[" not in log
    assert outputs["token"] not in log
    # The working copy holds no credential and no local state.
    workdir = tmp_path / "data" / "terraform" / "orders"
    assert not list(workdir.glob("*.tfstate"))
    assert "127.0.0.1" not in "".join(p.read_text() for p in workdir.glob("*.tf*") if p.is_file())


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Terraform commands the action runs, in order (each still runs)."""
    started: list[str] = []

    def recorded(argv: list[str], **options: Any) -> Any:
        started.append(argv[1])
        return run(argv, **options)

    monkeypatch.setattr(terraform_cli, "run", recorded)
    return started


def test_outputs_are_read_from_the_sealed_state_as_terraform_output_prints_them(
    context: Any, hand: Any, commands: list[str]
) -> None:
    ctx = context()
    outputs = TerraformApply().apply(ctx)

    printed = json.loads(hand().run("output", "-json", "-no-color").stdout)
    assert outputs == {name: output["value"] for name, output in printed.items()}
    assert ctx.declared_secrets == {n for n, output in printed.items() if output["sensitive"]}
    # Read from the state the apply's own state server kept: no Terraform run for them.
    assert commands == ["init", "plan", "show", "apply"]


def test_a_module_is_initialized_once_and_again_only_when_its_files_change(
    context: Any, commands: list[str], tmp_path: Path
) -> None:
    template = tmp_path / "template"
    shutil.copytree(MODULES / "basic", template / "basic")

    def apply(workspace: str) -> dict[str, Any]:
        commands.clear()
        ctx = context(workspace=workspace, variables={"name": workspace}, template_dir=template)
        return dict(TerraformApply().apply(ctx))

    assert apply("orders")["greeting"] == "hello orders"
    assert commands[0] == "init"
    # Another workspace of the same module, planned and applied on a kept init.
    TerraformApply().plan(context(workspace="carts", template_dir=template))
    assert apply("carts")["greeting"] == "hello carts"
    assert "init" not in commands
    # A changed file is a new module: initialized before it runs.
    main = template / "basic" / "main.tf"
    main.write_text(main.read_text().replace('"hello ${var.name}"', '"hi ${var.name}"'))
    assert apply("carts")["greeting"] == "hi carts"
    assert commands[0] == "init"


def saved_plans(database_url: str) -> list[bytes]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT state FROM gp_terraform_states WHERE workspace LIKE 'saved-plan:%'"
        ).fetchall()
    return [bytes(row[0]) for row in rows]


def test_the_plan_judged_at_submission_is_the_plan_applied(
    context: Any, commands: list[str], database_url: str
) -> None:
    TerraformApply().plan(context(keep_plan=True))
    [kept] = saved_plans(database_url)
    assert b"orders" not in kept and b"terraform_data" not in kept  # sealed

    commands.clear()
    ctx = context()
    outputs = TerraformApply().apply(ctx)
    assert commands == ["apply"]  # init kept by the submission's plan, no second plan
    assert outputs["greeting"] == "hello orders"
    assert "applying the plan made at submission" in journal_of(ctx).text
    assert "plan approved by the guardrails: 1 to add" in journal_of(ctx).text
    assert saved_plans(database_url) == []  # taken once


def test_a_preview_keeps_no_plan(context: Any, database_url: str) -> None:
    TerraformApply().plan(context())
    assert saved_plans(database_url) == []


def test_a_state_changed_since_the_submission_is_planned_again(
    context: Any, commands: list[str], hand: Any
) -> None:
    TerraformApply().plan(context(keep_plan=True, variables={"name": "orders"}))
    operator = hand()
    operator.run("apply", "-auto-approve", "-input=false", "-var=name=orders", "-var=tier=gold")

    commands.clear()
    ctx = context(variables={"name": "orders"})
    TerraformApply().apply(ctx)
    assert "plan" in commands
    assert "applying the plan made at submission" not in journal_of(ctx).text
    assert "planning again: the plan kept at submission was made from another state" in (
        journal_of(ctx).text
    )
    shown = json.loads(operator.run("show", "-json").stdout)
    [record] = shown["values"]["root_module"]["resources"]
    assert record["values"]["input"]["tier"] == "bronze"  # the module's, not the operator's


def test_a_kept_plan_is_judged_again_by_the_guardrails_of_the_run(
    context: Any, database_url: str, tmp_path: Path, hand: Any
) -> None:
    variables = {"name": "orders", "tier": "forbidden"}
    unguarded = context(keep_plan=True, variables=variables)
    TerraformApply().plan(replace(unguarded, plan_guard=None))
    assert len(saved_plans(database_url)) == 1

    with pytest.raises(PolicyDenied, match="must not use the forbidden tier"):
        TerraformApply().apply(context(variables=variables))
    assert hand().state_list() == []


def test_the_pg_backend_is_initialized_at_every_run(
    context: Any, commands: list[str], database_url: str
) -> None:
    backends = {
        "postgres": BackendSettings(kind="postgres", dsn=database_url),
        "terraform": BackendSettings(kind="terraform", state="pg", conn_str=database_url),
    }
    for _ in range(2):
        commands.clear()
        TerraformApply().apply(context(backends=backends))
        assert commands[0] == "init"


def test_apply_again_changes_nothing_and_returns_the_same_outputs(context: Any) -> None:
    first = TerraformApply().apply(context())
    ctx = context()
    again = TerraformApply().apply(ctx)
    assert again == first
    assert "plan approved by the guardrails: 0 to add, 0 to change" in journal_of(ctx).text


def test_destroy_leaves_the_state_empty(context: Any, hand: Any) -> None:
    TerraformApply().apply(context())
    ctx = context()
    TerraformApply().destroy(ctx, resource_ref("orders"))
    assert hand().state_list() == []
    # Destroying what is already gone succeeds.
    TerraformApply().destroy(context(), resource_ref("orders"))


def test_a_denied_plan_is_never_applied(context: Any, hand: Any) -> None:
    ctx = context(variables={"name": "orders", "tier": "forbidden"})
    with pytest.raises(PolicyDenied, match=r"terraform_data.record must not use the forbidden"):
        TerraformApply().apply(ctx)
    assert hand().state_list() == []
    assert "Creation complete" not in journal_of(ctx).text


def test_the_dry_run_is_refused_by_the_same_guardrail(context: Any) -> None:
    with pytest.raises(PolicyDenied, match="forbidden tier"):
        TerraformApply().plan(context(variables={"name": "orders", "tier": "forbidden"}))


def test_a_variable_validation_failure_names_the_variable_and_its_rule(context: Any) -> None:
    expected = "The name must be at least 3 characters and must not end with '-'."
    for action in (TerraformApply().plan, TerraformApply().apply):
        with pytest.raises(InvalidInput) as caught:
            action(context(variables={"name": "ab"}))
        assert caught.value.field == "variables.name"
        assert caught.value.details["rule"] == expected


def test_plan_lists_the_workspace_then_each_change_and_creates_no_state(
    context: Any, tmp_path: Path, database_url: str, pg_admin: Any
) -> None:
    planned = TerraformApply().plan(context(variables={"name": "orders", "tier": "gold"}))

    workspace, record = planned
    assert (workspace.type, workspace.name) == ("terraform:workspace", "orders")
    assert workspace.config["plan"]["add"] == 1
    assert workspace.config["plan"]["changes"] == {"terraform_data.record": "add"}
    assert record.type == "terraform:terraform_data"
    assert record.config["address"] == "terraform_data.record"
    assert record.config["after"]["input"]["name"] == "orders"
    assert record.tags == {"owner": "payments", "tier": "gold"}
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM gp_terraform_states").fetchone()
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'tfstate_orders'"
        ).fetchone()
    assert stored == (0,), "a dry run stored a state"
    assert schemas == (0,), "a dry run created a state schema"


def test_plan_of_an_applied_workspace_reads_its_state(context: Any) -> None:
    TerraformApply().apply(context())
    planned = TerraformApply().plan(context(variables={"name": "orders", "tier": "silver"}))
    assert planned[0].config["plan"]["changes"] == {"terraform_data.record": "change"}


@pytest.mark.parametrize(
    ("module", "rule"),
    [
        ("../basic", "relative path inside the template"),
        ("/etc", "relative path inside the template"),
        ("escape", "leads outside the template folder"),
        ("missing", "does not exist"),
    ],
)
def test_a_module_outside_the_template_is_refused(
    context: Any, tmp_path: Path, module: str, rule: str
) -> None:
    template = tmp_path / "template"
    template.mkdir()
    os.symlink(MODULES, template / "escape")
    ctx = context(module=module)
    ctx = type(ctx)(**{**ctx.__dict__, "template_dir": template})
    with pytest.raises(InvalidInput, match=rule):
        TerraformApply().plan(ctx)


def test_a_symlink_inside_the_module_may_not_lead_out(context: Any, tmp_path: Path) -> None:
    template = tmp_path / "template"
    (template / "mod").mkdir(parents=True)
    (template / "mod" / "main.tf").write_text((MODULES / "basic" / "main.tf").read_text())
    os.symlink("/etc/passwd", template / "mod" / "passwd")
    ctx = context(module="mod")
    ctx = type(ctx)(**{**ctx.__dict__, "template_dir": template})
    with pytest.raises(InvalidInput, match="'passwd' is a symlink leading outside"):
        TerraformApply().apply(ctx)


def test_a_missing_binary_is_reported_clearly(context: Any, database_url: str) -> None:
    ctx = context(backend="tf-tofu")
    backends = {
        **ctx.backends,
        "tf-tofu": BackendSettings(kind="terraform", binary="tofu", conn_str=database_url),
    }
    ctx = type(ctx)(**{**ctx.__dict__, "backends": backends})
    with pytest.raises(BackendUnavailable, match="'tofu' was not found on PATH"):
        TerraformApply().plan(ctx)


def test_observe_is_in_sync_after_apply_and_absent_before(context: Any) -> None:
    action = TerraformApply()
    assert action.observe(context(), resource_ref("orders")).exists is False
    action.apply(context())
    observed = action.observe(context(), resource_ref("orders"))
    assert observed.in_sync, observed


def test_observe_finds_nothing_when_the_state_was_emptied_out_of_band(
    context: Any, hand: Any
) -> None:
    """terraform_data has nothing remote to refresh, so it never drifts on a refresh-only plan:
    the out-of-band changes a test can make for real are edits of the state by other runs."""
    action = TerraformApply()
    action.apply(context())
    hand().run("state", "rm", "terraform_data.record")
    assert action.observe(context(), resource_ref("orders")).exists is False


def test_observe_reports_state_changed_by_another_run(context: Any, hand: Any) -> None:
    action = TerraformApply()
    action.apply(context())
    operator = hand()
    operator.run("apply", "-auto-approve", "-input=false", "-var=name=orders", "-var=tier=gold")

    observed = action.observe(context(), resource_ref("orders"))
    assert observed.exists
    assert [d.field for d in observed.drift] == ["terraform_data.record"]
    assert "Terraform would update" in observed.drift[0].actual


def test_state_kept_by_the_pg_backend_is_imported_sealed_and_its_clear_copy_dropped(
    context: Any, tmp_path: Path, database_url: str, state_store: StateStore
) -> None:
    """A workspace applied before the platform sealed state (Terraform's pg backend) keeps
    working: its first plan after the upgrade changes nothing, and no clear copy is left."""
    old = PgTerraform(tmp_path / "old", MODULES / "basic", "orders", database_url)
    old.run("apply", "-auto-approve", "-input=false", "-no-color", "-var=name=orders")
    token = json.loads(old.run("output", "-json").stdout)["token"]["value"]
    assert state_store.read("orders") is None

    planned = TerraformApply().plan(context())
    assert planned[0].config["plan"]["changes"] == {}
    assert json.loads(state_store.read("orders") or b"{}")["outputs"]["token"]["value"] == token
    with psycopg.connect(database_url) as conn:
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'tfstate_orders'"
        ).fetchone()
        sealed = conn.execute("SELECT state FROM gp_terraform_states").fetchone()
    assert schemas == (0,), "the pg backend's clear copy was left behind"
    assert sealed is not None and token.encode() not in bytes(sealed[0])

    ctx = context()
    assert TerraformApply().apply(ctx)["token"] == token
    assert "plan approved by the guardrails: 0 to add, 0 to change" in journal_of(ctx).text


def test_an_operator_runs_terraform_on_the_sealed_state_through_the_cli(
    context: Any, tmp_path: Path, database_url: str
) -> None:
    TerraformApply().apply(context())
    mine = tmp_path / "mine"
    shutil.copytree(MODULES / "basic", mine)
    env = {
        **os.environ,
        "GOLDENPATH_DATABASE_URL": database_url,
        "GOLDENPATH_DATA_DIR": str(tmp_path / "data"),  # the same key as the state's
    }

    def goldenpath(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "goldenpath.cli.main", "db", "terraform", *args]
        return subprocess.run(
            command, cwd=mine, env=env, capture_output=True, text=True, timeout=180
        )

    listed = goldenpath("orders", "state", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["terraform_data.record"]
    assert not (mine / "goldenpath_backend_override.tf").exists()

    refused = goldenpath("Orders; rm -rf /", "state", "list")
    assert refused.returncode != 0
    assert "workspace" in refused.stderr + refused.stdout
