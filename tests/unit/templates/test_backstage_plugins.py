"""A Backstage action id that Golden Path lacks, implemented by a plugin package through the
``goldenpath.actions`` entry-point group: the template that uses it then loads and runs."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib import invalidate_caches
from pathlib import Path

import pytest

from goldenpath.actions.registry import default_registry
from goldenpath.actions.testing import action_context
from goldenpath.errors import TemplateInvalid
from goldenpath.templates.loader import load_template

TEMPLATE = """\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: dispatch-bs}
spec:
  owner: platform-team
  parameters:
    properties:
      workflow: {type: string, default: build.yml}
  steps:
    - id: dispatch
      name: Dispatch the workflow
      action: github:actions:dispatch
      input:
        repoUrl: github.com?owner=acme&repo=orders
        workflowId: ${{ parameters.workflow }}
        branchOrTagName: main
"""

PLUGIN = """
from typing import Any

from goldenpath.actions.base import Action, ActionInputs, Context


class DispatchInputs(ActionInputs):
    repoUrl: str
    workflowId: str
    branchOrTagName: str


class Dispatch(Action[DispatchInputs]):
    id = "github:actions:dispatch"
    description = "Dispatch a GitHub Actions workflow (a plugin's action)."
    Inputs = DispatchInputs

    def apply(self, ctx: Context[DispatchInputs]) -> dict[str, Any]:
        ctx.log(f"dispatched {ctx.inputs.workflowId}")
        return {"dispatched": ctx.inputs.workflowId}
"""


@pytest.fixture
def plugin_installed(tmp_path: Path) -> Iterator[None]:
    """A tiny installed distribution: a module and its dist-info with one entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_backstage_actions.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "acme_backstage_actions-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-backstage-actions\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[goldenpath.actions]\ndispatch = acme_backstage_actions:Dispatch\n"
    )
    sys.path.insert(0, str(site))
    invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("acme_backstage_actions", None)
        invalidate_caches()


def test_without_the_plugin_the_template_is_refused_naming_step_and_action(
    tmp_path: Path,
) -> None:
    file = tmp_path / "dispatch.yaml"
    file.write_text(TEMPLATE)
    with pytest.raises(
        TemplateInvalid, match=r"step 'dispatch' uses action 'github:actions:dispatch'"
    ):
        load_template(file, default_registry().classes())


def test_a_plugin_package_implements_a_backstage_action_id(
    plugin_installed: None, tmp_path: Path
) -> None:
    file = tmp_path / "dispatch.yaml"
    file.write_text(TEMPLATE)
    registry = default_registry()
    template = load_template(file, registry.classes())
    [step] = template.document.spec.steps
    assert step.action == "github:actions:dispatch"
    action = registry.get(step.action)
    inputs = action.Inputs.model_validate(
        {
            "repoUrl": "github.com?owner=acme&repo=orders",
            "workflowId": "build.yml",
            "branchOrTagName": "main",
        }
    )
    assert action.apply(action_context(inputs, {})) == {"dispatched": "build.yml"}
