"""A Terraform plan (``terraform show -json``) as the platform's planned resources.

The first planned resource is the workspace itself: it is what the catalog records (the runner
reserves a step's first planned resource), and its config carries the plan's summary. One more
follows per resource change, so request guardrails and the form's preview see them too.
Values Terraform marks sensitive never leave here in clear: the plan is stored with the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from goldenpath.actions.base import PlannedResource
from goldenpath.policy.vocabulary import UNKNOWN, describe_plan
from goldenpath.policy.vocabulary.names import resource_name

__all__ = [
    "DESTROYING",
    "SENSITIVE",
    "WORKSPACE_TYPE",
    "planned_resources",
    "redacted",
    "resource_name",
]

SENSITIVE = "(sensitive)"
WORKSPACE_TYPE = "terraform:workspace"
# Kinds of change (of `summary`'s ``changes``) after which what was there is gone.
DESTROYING = frozenset({"replace", "destroy"})
_SUMMARY_KIND = {
    ("create",): "add",
    ("update",): "change",
    ("delete",): "destroy",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}


def resource_changes(show_json: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Changes that do something: no-ops and data source reads left out."""
    changes = show_json.get("resource_changes") or []
    return [
        change
        for change in changes
        if isinstance(change, Mapping) and tuple(_actions(change)) in _SUMMARY_KIND
    ]


def summary(show_json: Mapping[str, Any]) -> dict[str, Any]:
    """Counts to add / change / replace / destroy, and each address with its kind of change."""
    by_address = {
        str(c.get("address")): _SUMMARY_KIND[tuple(_actions(c))]
        for c in resource_changes(show_json)
    }
    counts = {kind: 0 for kind in ("add", "change", "replace", "destroy")}
    for kind in by_address.values():
        counts[kind] += 1
    return {**counts, "changes": by_address}


def planned_resources(
    show_json: Mapping[str, Any], *, workspace: str, backend: str, module: str
) -> list[PlannedResource]:
    resources = [
        PlannedResource(
            type=WORKSPACE_TYPE,
            name=workspace,
            backend=backend,
            config={"module": module, "plan": summary(show_json)},
        )
    ]
    described = describe_plan(show_json)
    for change in resource_changes(show_json):
        body = change.get("change") or {}
        after = redacted(body.get("after"), body.get("after_sensitive"))
        address = str(change.get("address", ""))
        normalized = described.get(address)
        region = normalized.region if normalized is not None else None
        resources.append(
            PlannedResource(
                type=f"terraform:{change.get('type', 'unknown')}",
                name=resource_name(address),
                backend=backend,
                config={"address": address, "actions": _actions(change), "after": after},
                tags=_tags(after),
                region=region if isinstance(region, str) and region != UNKNOWN else None,
                normalized=normalized.as_dict() if normalized is not None else None,
            )
        )
    return resources


def redacted(value: Any, sensitive: Any) -> Any:
    """``value`` with everything ``sensitive`` (Terraform's ``after_sensitive`` mask) hidden."""
    if sensitive is True:
        return SENSITIVE
    if isinstance(value, Mapping):
        mask = sensitive if isinstance(sensitive, Mapping) else {}
        return {k: redacted(v, mask.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        masks = sensitive if isinstance(sensitive, list) else []
        return [redacted(v, masks[i] if i < len(masks) else None) for i, v in enumerate(value)]
    return value


def _actions(change: Mapping[str, Any]) -> list[str]:
    actions = (change.get("change") or {}).get("actions") or []
    return [str(a) for a in actions] if isinstance(actions, list) else []


def _tags(after: Any) -> dict[str, str]:
    """``after.tags`` (most cloud resources), else ``after.input.tags`` (``terraform_data``)."""
    if not isinstance(after, Mapping):
        return {}
    tags = after.get("tags")
    if not isinstance(tags, Mapping):
        data_input = after.get("input")
        tags = data_input.get("tags") if isinstance(data_input, Mapping) else None
    if not isinstance(tags, Mapping):
        return {}
    return {str(k): str(v) for k, v in tags.items() if isinstance(v, str)}
