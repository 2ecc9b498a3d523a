"""``fetch:template`` and ``fetch:plain``: a folder shipped beside the template, into the
workspace (rendered with ``${{ values.* }}``, or copied as it is)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from goldenpath.actions.backstage import workspace
from goldenpath.actions.base import Action, ActionInputs, Context, PlanContext, PlannedResource


class FetchPlainInputs(ActionInputs):
    url: str = Field(description="Folder beside the template, e.g. ./content.")
    targetPath: str = Field(default=".", description="Where in the workspace to put it.")


class FetchTemplateInputs(FetchPlainInputs):
    values: dict[str, Any] = Field(default_factory=dict)
    copyWithoutTemplating: list[str] = Field(default_factory=list)
    replace: bool = False


class FetchPlain(Action[FetchPlainInputs]):
    id = "fetch:plain"
    description = "Copy a folder shipped with the template into the workspace, as it is."
    Inputs = FetchPlainInputs
    examples = ({"url": "./static", "targetPath": "docs"},)

    def plan(self, ctx: PlanContext[FetchPlainInputs]) -> list[PlannedResource]:
        workspace.fetch(ctx.template_dir, ctx.inputs.url, None)  # a missing folder fails early
        return []

    def apply(self, ctx: Context[FetchPlainInputs]) -> dict[str, Any]:
        files = workspace.fetch(ctx.template_dir, ctx.inputs.url, None)
        ctx.log(f"fetched {len(files)} files from {ctx.inputs.url}")
        return {"workspace": {"op": self.id, **ctx.inputs.model_dump()}}


class FetchTemplate(Action[FetchTemplateInputs]):
    id = "fetch:template"
    description = (
        "Render a skeleton shipped with the template (Backstage's ${{ values.* }}) into the "
        "workspace; files matching copyWithoutTemplating keep their content."
    )
    Inputs = FetchTemplateInputs
    examples = ({"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},)

    def apply(self, ctx: Context[FetchTemplateInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        files = workspace.fetch(
            ctx.template_dir, inputs.url, inputs.values, inputs.copyWithoutTemplating
        )
        ctx.log(f"rendered {len(files)} files from {inputs.url} into {inputs.targetPath}")
        return {"workspace": {"op": self.id, **inputs.model_dump(mode="json")}}
