"""Helpers for the terraform:apply tests: an action context on a fresh platform database, and
Terraform run by hand against the same sealed state (through a state server of its own), as an
operator (or a crashed worker) would."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.base import Context, ResourceRef
from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform.action import TerraformApplyInputs
from goldenpath.actions.terraform.state import schema_name
from goldenpath.actions.terraform.state_server import StateServer
from goldenpath.policy import PolicySet, check_plan
from goldenpath.settings import STARTER_DIR, BackendSettings

HERE = Path(__file__).parent
MODULES = HERE / "modules"
TEMPLATES = HERE / "templates"
SERVICE_ONBOARDING = STARTER_DIR / "templates" / "service-onboarding"

requires_terraform = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="the terraform binary is not on PATH"
)

# Denies what the tests call forbidden; a Terraform plan policy as a platform team writes one.
FORBIDDEN_TIER_POLICY = """
package goldenpath.terraform.test_forbidden_tier

deny contains msg if {
	some change in input.resource_changes
	change.type == "terraform_data"
	"create" in change.change.actions
	change.change.after.input.tier == "forbidden"
	msg := sprintf("%s must not use the forbidden tier", [change.address])
}
"""


class ListJournal:
    """Keeps a step's log lines in memory, as the runner's journal keeps them in the store."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def log(self, message: str, level: str) -> None:
        self.lines.append((level, message))

    def checkpoint(self, key: str, produce: Callable[[], str]) -> str:
        return produce()

    @property
    def text(self) -> str:
        return "\n".join(message for _, message in self.lines)


def plan_guard(extra_policies: Path) -> Callable[[Mapping[str, Any]], Any]:
    policies = PolicySet.from_paths([STARTER_DIR / "policies", extra_policies])
    return lambda document: check_plan(policies, document)


def make_context(
    *,
    state_url: str,
    data_dir: Path,
    guard: Callable[[Mapping[str, Any]], Any] | None,
    state_store: StateStore | None,
    template_dir: Path = MODULES,
    backends: Mapping[str, BackendSettings] | None = None,
    keep_plan: bool = False,
    **inputs: Any,
) -> Context[TerraformApplyInputs]:
    return Context(
        inputs=TerraformApplyInputs.model_validate(inputs),
        backends=backends or {"postgres": BackendSettings(kind="postgres", dsn=state_url)},
        state_store=state_store,
        owner_team="payments",
        requested_by="alice",
        template_name="terraform-test",
        template_dir=template_dir,
        data_dir=data_dir,
        plan_guard=guard,
        request_id="req",
        step_id="step",
        journal=ListJournal(),
        keep_plan=keep_plan,
    )


def resource_ref(workspace: str) -> ResourceRef:
    return ResourceRef(
        id="res",
        type="terraform:workspace",
        name=workspace,
        backend="terraform",
        config={},
        outputs={},
    )


def journal_of(ctx: Context[Any]) -> ListJournal:
    assert isinstance(ctx.journal, ListJournal)
    return ctx.journal


class HandTerraform:
    """Terraform run by hand in its own folder against a workspace's sealed state, through a
    state server of its own (as ``goldenpath`` would serve it to an operator)."""

    def __init__(self, folder: Path, module: Path, workspace: str, store: StateStore) -> None:
        shutil.copytree(module, folder)
        (folder / "backend_override.tf").write_text('terraform {\n  backend "http" {}\n}\n')
        self.folder = folder
        self.server = StateServer(store, workspace, who="operator@hand").__enter__()
        self.env = {
            **os.environ,
            **self.server.environment(),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }
        self.run("init", "-input=false", "-no-color")

    def close(self) -> None:
        """The operator's session ends: its server stops and drops the locks it granted."""
        self.server.__exit__(None, None, None)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["terraform", *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                ["terraform", *args],
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def state_list(self) -> list[str]:
        listed = self.run("state", "list", "-no-color", check=False)
        if listed.returncode == 1 and "No state file was found" in listed.stderr:
            return []
        listed.check_returncode()
        return listed.stdout.split()


class PgTerraform(HandTerraform):
    """Terraform with the ``pg`` backend the platform used before it sealed state: for the
    import of old workspaces."""

    def __init__(self, folder: Path, module: Path, workspace: str, state_url: str) -> None:
        shutil.copytree(module, folder)
        (folder / "backend_override.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
        self.folder = folder
        self.env = {
            **os.environ,
            "PG_CONN_STR": state_url + "?sslmode=disable",
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
        }
        self.run(
            "init",
            "-input=false",
            "-no-color",
            f"-backend-config=schema_name={schema_name(workspace)}",
        )

    def close(self) -> None:
        pass


def processes_in(folder: Path) -> list[str]:
    """Command lines of live processes whose working directory is inside ``folder``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd.is_relative_to(folder):
            found.append(f"{pid}: {cmdline}")
    return found
