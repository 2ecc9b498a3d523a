"""Terraform plan guardrails: the conftest-style input built from `terraform show -json`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from goldenpath.policy.engine import TERRAFORM_NAMESPACE, PolicySet
from goldenpath.policy.verdict import Verdict, Violation

_KINDS = {
    ("create",): "creates",
    ("update",): "updates",
    ("delete",): "deletes",
    ("delete", "create"): "replaces",
    ("create", "delete"): "replaces",
    ("no-op",): "no_ops",
    ("read",): "reads",
}


def plan_document(show_json: Mapping[str, Any]) -> dict[str, Any]:
    """The plan as conftest sees it, plus `goldenpath`: addresses grouped by kind of change."""
    if not isinstance(show_json, Mapping):
        raise TypeError(f"a terraform plan must be a JSON object, not {type(show_json).__name__}")
    summary: dict[str, list[str]] = {kind: [] for kind in dict.fromkeys(_KINDS.values())}
    changes = show_json.get("resource_changes") or []
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, Mapping):
            continue
        actions = (change.get("change") or {}).get("actions") or []
        kind = _KINDS.get(tuple(actions))
        if kind is not None:
            summary[kind].append(str(change.get("address", "")))
    return {**show_json, "goldenpath": summary}


def check_plan(policies: PolicySet, show_json: Mapping[str, Any]) -> Verdict:
    """Run the `goldenpath.terraform.*` policies on a `terraform show -json` document."""
    try:
        document = plan_document(show_json)
    except TypeError as exc:
        return Verdict.of(
            [
                Violation(
                    policy="terraform plan",
                    rule="error",
                    message=f"policy engine error in terraform plan: {exc}",
                    package=TERRAFORM_NAMESPACE,
                )
            ]
        )
    return policies.evaluate(document, namespace=TERRAFORM_NAMESPACE)
