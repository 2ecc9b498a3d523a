"""terraform:apply through the action, with the real binary and state in a real PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from goldenpath.actions.terraform.action import TerraformApply
from goldenpath.errors import BackendUnavailable, InvalidInput, PolicyDenied
from goldenpath.settings import BackendSettings
from tests.integration.actions.terraform.terraform_support import (
    FORBIDDEN_TIER_POLICY,
    MODULES,
    HandTerraform,
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
def context(database_url: str, tmp_path: Path, guard: Any) -> Any:
    def make(**inputs: Any) -> Any:
        values = {"module": "basic", "workspace": "orders", "variables": {"name": "orders"}}
        values.update(inputs)
        return make_context(
            state_url=database_url, data_dir=tmp_path / "data", guard=guard, **values
        )

    return make


def hand(tmp_path: Path, database_url: str, workspace: str = "orders") -> HandTerraform:
    folder = tmp_path / f"hand-{len(list(tmp_path.glob('hand-*')))}"
    return HandTerraform(folder, MODULES / "basic", workspace, database_url)


def test_apply_creates_the_resources_and_returns_outputs(
    context: Any, tmp_path: Path, database_url: str
) -> None:
    ctx = context()
    outputs = TerraformApply().apply(ctx)

    assert outputs["greeting"] == "hello orders"
    assert len(outputs["token"]) == 64
    assert ctx.declared_secrets == {"token"}
    assert hand(tmp_path, database_url).state_list() == ["terraform_data.record"]
    log = journal_of(ctx).text
    assert "terraform_data.record: Creation complete" in log
    assert "plan approved by the guardrails: 1 to add" in log
    assert "\x1b[" not in log
    assert outputs["token"] not in log
    # The working copy holds no credential and no local state.
    workdir = tmp_path / "data" / "terraform" / "orders"
    assert not list(workdir.glob("*.tfstate"))
    assert "127.0.0.1" not in "".join(p.read_text() for p in workdir.glob("*.tf*") if p.is_file())


def test_apply_again_changes_nothing_and_returns_the_same_outputs(context: Any) -> None:
    first = TerraformApply().apply(context())
    ctx = context()
    again = TerraformApply().apply(ctx)
    assert again == first
    assert "plan approved by the guardrails: 0 to add, 0 to change" in journal_of(ctx).text


def test_destroy_leaves_the_state_empty(context: Any, tmp_path: Path, database_url: str) -> None:
    TerraformApply().apply(context())
    ctx = context()
    TerraformApply().destroy(ctx, resource_ref("orders"))
    assert hand(tmp_path, database_url).state_list() == []
    # Destroying what is already gone succeeds.
    TerraformApply().destroy(context(), resource_ref("orders"))


def test_a_denied_plan_is_never_applied(context: Any, tmp_path: Path, database_url: str) -> None:
    ctx = context(variables={"name": "orders", "tier": "forbidden"})
    with pytest.raises(PolicyDenied, match=r"terraform_data.record must not use the forbidden"):
        TerraformApply().apply(ctx)
    assert hand(tmp_path, database_url).state_list() == []
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
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'tfstate_orders'"
        ).fetchone()
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
    context: Any, tmp_path: Path, database_url: str
) -> None:
    """terraform_data has nothing remote to refresh, so it never drifts on a refresh-only plan:
    the out-of-band changes a test can make for real are edits of the state by other runs."""
    action = TerraformApply()
    action.apply(context())
    hand(tmp_path, database_url).run("state", "rm", "terraform_data.record")
    assert action.observe(context(), resource_ref("orders")).exists is False


def test_observe_reports_state_changed_by_another_run(
    context: Any, tmp_path: Path, database_url: str
) -> None:
    action = TerraformApply()
    action.apply(context())
    operator = hand(tmp_path, database_url)
    operator.run("apply", "-auto-approve", "-input=false", "-var=name=orders", "-var=tier=gold")

    observed = action.observe(context(), resource_ref("orders"))
    assert observed.exists
    assert [d.field for d in observed.drift] == ["terraform_data.record"]
    assert "Terraform would update" in observed.drift[0].actual
