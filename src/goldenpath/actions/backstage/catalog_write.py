"""``catalog:write``: an entity descriptor (``catalog-info.yaml``) written into the workspace."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from goldenpath.actions.base import Action, ActionInputs, Context


class CatalogWriteInputs(ActionInputs):
    filePath: str = Field(default="catalog-info.yaml")
    entity: dict[str, Any]


class CatalogWrite(Action[CatalogWriteInputs]):
    id = "catalog:write"
    description = "Write a catalog entity as YAML into the workspace."
    Inputs = CatalogWriteInputs
    examples = (
        {
            "entity": {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": "${{ parameters.name }}"},
                "spec": {"type": "service", "owner": "${{ parameters.owner }}"},
            }
        },
    )

    def apply(self, ctx: Context[CatalogWriteInputs]) -> dict[str, Any]:
        return {"workspace": {"op": self.id, **ctx.inputs.model_dump(mode="json")}}
