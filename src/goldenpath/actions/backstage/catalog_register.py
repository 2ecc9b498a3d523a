"""``catalog:register``: the entity the template produced, registered as a resource in our
catalog (kind ``catalog:entity``, named after the entity, owned by the requesting team).

Backstage registers a URL that its catalog reads later; here the descriptor is read from the
files this request published (the workspace), so what is registered is exactly what was pushed.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import Field, model_validator

from goldenpath.actions.backstage import workspace
from goldenpath.actions.base import (
    Action,
    ActionInputs,
    Context,
    PlanContext,
    PlannedResource,
)
from goldenpath.errors import ActionError
from goldenpath.templates.backstage.filters import parse_entity_ref

ENTITY_KIND = "catalog:entity"


class CatalogRegisterInputs(ActionInputs):
    catalogInfoUrl: str | None = None
    repoContentsUrl: str | None = None
    catalogInfoPath: str = "/catalog-info.yaml"
    optional: bool = False
    # Added by the Backstage loader: the workspace operations of the steps before this one.
    workspace: list[Any] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_location(self) -> CatalogRegisterInputs:
        if not self.catalogInfoUrl and not self.repoContentsUrl:
            raise ValueError("give catalogInfoUrl, or repoContentsUrl and catalogInfoPath")
        return self


class CatalogRegister(Action[CatalogRegisterInputs]):
    id = "catalog:register"
    description = "Register the produced catalog entity as a resource of the requesting team."
    Inputs = CatalogRegisterInputs
    examples = (
        {
            "repoContentsUrl": "${{ steps['publish'].output.repoContentsUrl }}",
            "catalogInfoPath": "/catalog-info.yaml",
        },
    )

    def plan(self, ctx: PlanContext[CatalogRegisterInputs]) -> list[PlannedResource]:
        if workspace.is_pending(ctx.inputs.workspace):
            # Known once the files exist; the runner plans again then, and the entry is made.
            # It is a catalog record only, nothing a guardrail would judge.
            return []
        entity = _entity(ctx)
        if entity is None:
            return []
        return [
            PlannedResource(
                type=ENTITY_KIND,
                name=str(entity["metadata"]["name"]),
                backend="catalog",
                config={"entity_ref": _ref(entity), "url": _url(ctx), "entity": entity},
                tags={"owner": ctx.owner_team},
            )
        ]

    def apply(self, ctx: Context[CatalogRegisterInputs]) -> dict[str, Any]:
        entity = _entity(ctx)
        if entity is None:
            ctx.log(f"no entity at {_path(ctx.inputs)}; optional, so nothing registered")
            return {}
        ctx.log(f"registered {_ref(entity)}")
        return {"entityRef": _ref(entity), "catalogInfoUrl": _url(ctx)}


def _path(inputs: CatalogRegisterInputs) -> str:
    if inputs.repoContentsUrl or not inputs.catalogInfoUrl:
        return inputs.catalogInfoPath.lstrip("/")
    _, _, after = inputs.catalogInfoUrl.partition("/blob/")
    return after.partition("/")[2] if after else inputs.catalogInfoUrl.rsplit("/", 1)[-1]


def _url(ctx: PlanContext[CatalogRegisterInputs]) -> str:
    inputs = ctx.inputs
    if inputs.catalogInfoUrl:
        return inputs.catalogInfoUrl
    return f"{str(inputs.repoContentsUrl).rstrip('/')}/{_path(inputs)}"


def _entity(ctx: PlanContext[CatalogRegisterInputs]) -> dict[str, Any] | None:
    path = workspace.relative_path(_path(ctx.inputs), "catalogInfoPath")
    file = workspace.replay(ctx.template_dir, ctx.inputs.workspace).get(path)
    if file is None:
        if ctx.inputs.optional:
            return None
        raise ActionError(
            problem=f"catalog:register: '{path}' is not among the files this request produced"
        )
    try:
        entity = yaml.safe_load(file.content.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ActionError(problem=f"catalog:register: '{path}' is not YAML: {exc}") from None
    if not (
        isinstance(entity, dict)
        and isinstance(entity.get("kind"), str)
        and isinstance(entity.get("metadata"), dict)
        and isinstance(entity["metadata"].get("name"), str)
    ):
        raise ActionError(
            problem=f"catalog:register: '{path}' is not an entity (kind, metadata.name)"
        )
    return entity


def _ref(entity: dict[str, Any]) -> str:
    namespace = entity["metadata"].get("namespace") or "default"
    parsed = parse_entity_ref(f"{entity['kind']}:{namespace}/{entity['metadata']['name']}")
    return f"{parsed['kind'].lower()}:{parsed['namespace']}/{parsed['name']}"
