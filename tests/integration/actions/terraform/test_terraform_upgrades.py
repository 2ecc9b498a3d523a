"""A Terraform golden path upgraded: version 2.0.0 renames the module's resource, so a real
``terraform plan`` against each workspace's sealed state destroys one and makes another. The
impact says "replace" for every workspace; a rollout refuses it unless ``--allow-replace``,
and with it Terraform replaces the resource in each workspace's state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from goldenpath.app import Platform
from goldenpath.errors import Conflict
from goldenpath.store import queries
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request
from tests.integration.actions.terraform.terraform_support import HandTerraform, requires_terraform
from tests.integration.upgrade_support import admin_cli

pytestmark = [requires_terraform, pytest.mark.slow]
ALICE = member("alice", "payments")

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: tf-record
  version: "{version}"
spec:
  access: {{teams: ["*"]}}
  parameters:
    required: [name]
    properties:
      name: {{type: string, pattern: "^[a-z][a-z0-9-]{{2,40}}$"}}
  steps:
    - id: record
      action: terraform:apply
      input:
        module: module
        workspace: ${{{{ parameters.name }}}}{suffix}
        variables:
          name: ${{{{ parameters.name }}}}
  output:
    values: {{greeting: "${{{{ steps.record.output.greeting }}}}"}}
"""

MODULE = """\
variable "name" {{
  type = string
}}

resource "terraform_data" "{resource}" {{
  input = {{ name = var.name, tier = "{tier}", tags = {{ owner = "payments" }} }}
}}

output "greeting" {{
  value = "hello ${{var.name}} from {resource}/${{terraform_data.{resource}.output.tier}}"
}}
"""


def write_version(
    root: Path, version: str, *, resource: str, tier: str, workspace_suffix: str = ""
) -> Path:
    """``tf-record/<version>/``: the template and its module, one folder per version."""
    folder = root / "tf-record" / version
    (folder / "module").mkdir(parents=True)
    (folder / "template.yaml").write_text(TEMPLATE.format(version=version, suffix=workspace_suffix))
    (folder / "module" / "main.tf").write_text(MODULE.format(resource=resource, tier=tier))
    return folder / "module"


def state_of(tmp_path: Path, platform: Platform, workspace: str, module: Path) -> list[str]:
    assert platform.service.state_store is not None
    operator = HandTerraform(
        tmp_path / f"hand-{workspace}-{len(list(tmp_path.iterdir()))}",
        module,
        workspace,
        platform.service.state_store,
    )
    try:
        return operator.state_list()
    finally:
        operator.close()


def made_by_v1(v1: Platform, workspaces: list[str]) -> Platform:
    """Each workspace made by a request of version 1.0.0, run by a worker."""
    with BackgroundWorker(v1):
        for workspace in workspaces:
            request = v1.service.submit("tf-record", {"name": workspace}, ALICE)
            done = wait_for_request(v1, request.id, timeout=180)
            assert done.status == "succeeded", done.error
    return v1


def test_a_renamed_resource_is_a_replace_refused_without_allow_replace(
    make_platform: Callable[..., Platform],
    tmp_path: Path,
    unique_name: Callable[[str], str],
) -> None:
    root = tmp_path / "templates"
    v1_module = write_version(root, "1.0.0", resource="record", tier="bronze")
    workspaces = [unique_name("tf").replace("_", "-") for _ in range(2)]
    v1 = made_by_v1(make_platform(template_dirs=[root]), workspaces)
    for workspace in workspaces:
        assert state_of(tmp_path, v1, workspace, v1_module) == ["terraform_data.record"]

    write_version(root, "1.1.0", resource="record", tier="silver")
    v2_module = write_version(root, "2.0.0", resource="entry", tier="bronze")
    v2 = make_platform(template_dirs=[root])

    # A change Terraform makes in place is an update; the plan says what changes.
    in_place = v2.upgrades.impact("tf-record", "1.1.0", ADMIN)
    assert in_place.counts["update"] == 2, in_place.as_dict()
    assert {r.reasons for r in in_place.resources} == {("terraform_data.record: change",)}
    first = next(r for r in in_place.resources if r.name == workspaces[0])
    with BackgroundWorker(v2):
        upgrade = v2.upgrades.upgrade(first.resource_id, ALICE, to="1.1.0").request
        assert upgrade is not None
        done = wait_for_request(v2, upgrade.id, timeout=180)
        assert done.status == "succeeded", done.error
    changed = v2.service.resource(first.resource_id, ADMIN)
    assert changed.outputs["greeting"] == f"hello {workspaces[0]} from record/silver"
    assert state_of(tmp_path, v2, workspaces[0], v1_module) == ["terraform_data.record"]

    impact = v2.upgrades.impact("tf-record", None, ADMIN)
    assert impact.counts == {"none": 0, "update": 0, "replace": 2, "denied": 0, "invalid": 0}
    for item in impact.resources:
        assert item.name in workspaces
        assert (item.kind, item.team) == ("terraform:workspace", "payments")
        assert item.from_version == ("1.1.0" if item.name == workspaces[0] else "1.0.0")
        assert item.reasons == (
            "terraform_data.entry: add",
            "terraform_data.record: destroy",
            "terraform plan destroys terraform_data.record: its data is lost",
        )
    with pytest.raises(Conflict, match="destroying and re-creating"):
        v2.upgrades.upgrade(impact.resources[0].resource_id, ALICE)

    with admin_cli(v2) as cli:
        refused = cli("templates", "rollout", "tf-record", "--json")
        assert refused.returncode == 6, refused.stdout + refused.stderr
        report = json.loads(refused.stdout)
        assert report["upgraded"] == []
        assert sorted(r["name"] for r in report["refused"]) == sorted(workspaces)
        for workspace in workspaces:  # nothing changed
            assert state_of(tmp_path, v2, workspace, v1_module) == ["terraform_data.record"]

        replaced = cli("templates", "rollout", "tf-record", "--allow-replace", "--json")
        assert replaced.returncode == 0, replaced.stdout + replaced.stderr
        report = json.loads(replaced.stdout)
        assert sorted(u["status"] for u in report["upgraded"]) == ["succeeded"] * 2
        assert report["refused"] == []

    for workspace in workspaces:
        assert state_of(tmp_path, v2, workspace, v2_module) == ["terraform_data.entry"]
    resources = {r.name: r for r in v2.service.resources(ADMIN)}
    for workspace in workspaces:
        resource = resources[workspace]
        assert (resource.state, resource.template_version) == ("active", "2.0.0")
        assert resource.outputs["greeting"] == f"hello {workspace} from entry/bronze"
    with v2.database.begin() as conn:
        upgraded = [e for e in queries.events(conn) if e["action"] == "resource.upgraded"]
    assert sorted(e["details"]["change"] for e in upgraded) == ["replace", "replace", "update"]
    # Now at 2.0.0, against the state Terraform left: nothing more to do.
    assert v2.upgrades.impact("tf-record", None, ADMIN).resources == ()


def test_a_workspace_that_moves_is_destroyed_then_made_anew(
    make_platform: Callable[..., Platform],
    tmp_path: Path,
    unique_name: Callable[[str], str],
) -> None:
    root = tmp_path / "templates"
    v1_module = write_version(root, "1.0.0", resource="record", tier="bronze")
    workspace = unique_name("mv").replace("_", "-")
    made_by_v1(make_platform(template_dirs=[root]), [workspace])
    v2_module = write_version(
        root, "2.0.0", resource="record", tier="bronze", workspace_suffix="-b"
    )
    v2 = make_platform(template_dirs=[root])
    [item] = v2.upgrades.impact("tf-record", None, ADMIN).resources
    assert item.outcome == "replace"
    assert item.reasons == (
        f"terraform:workspace/{workspace}/terraform becomes "
        f"terraform:workspace/{workspace}-b/terraform",
    )
    with BackgroundWorker(v2):
        upgrade = v2.upgrades.upgrade(item.resource_id, ALICE, allow_replace=True).request
        assert upgrade is not None
        done = wait_for_request(v2, upgrade.id, timeout=180)
    assert done.status == "succeeded", done.error
    assert state_of(tmp_path, v2, workspace, v1_module) == []  # the old workspace, emptied
    assert state_of(tmp_path, v2, f"{workspace}-b", v2_module) == ["terraform_data.record"]
    moved = v2.service.resource(item.resource_id, ADMIN)
    assert (moved.name, moved.state, moved.template_version) == (
        f"{workspace}-b",
        "active",
        "2.0.0",
    )
