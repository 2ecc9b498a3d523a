"""Terraform plan guardrails: the conftest-style input built from `terraform show -json`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from goldenpath.policy.engine import REQUEST_NAMESPACE, TERRAFORM_NAMESPACE, PolicySet
from goldenpath.policy.verdict import Verdict, Violation
from goldenpath.policy.vocabulary import UNKNOWN, describe_plan
from goldenpath.policy.vocabulary.names import resource_name

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
    """The plan as conftest sees it, plus `goldenpath`: addresses grouped by kind of change,
    and `goldenpath.resources`, every changed resource in the resource vocabulary."""
    if not isinstance(show_json, Mapping):
        raise TypeError(f"a terraform plan must be a JSON object, not {type(show_json).__name__}")
    summary: dict[str, Any] = {kind: [] for kind in dict.fromkeys(_KINDS.values())}
    changes = show_json.get("resource_changes") or []
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, Mapping):
            continue
        actions = (change.get("change") or {}).get("actions") or []
        kind = _KINDS.get(tuple(actions))
        if kind is not None:
            summary[kind].append(str(change.get("address", "")))
    summary["resources"] = [d.as_dict() for d in describe_plan(show_json).values()]
    return {**show_json, "goldenpath": summary}


def resource_document(show_json: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's resources as a request's plan shows them to the request policies, so that
    `check-plan` judges a plan as a golden path running it would (no team, no template)."""
    resources: list[dict[str, Any]] = []
    for address, described in describe_plan(show_json).items():
        region = described.region
        resources.append(
            {
                "step": "plan",
                "action": "terraform:apply",
                "type": f"terraform:{described.provider_type}",
                "name": resource_name(address),
                "backend": "terraform",
                "config": {"address": address},
                "tags": described.tags if isinstance(described.tags, Mapping) else {},
                "region": region if isinstance(region, str) and region != UNKNOWN else None,
                "monthly_cost_usd": described.monthly_cost_usd,
                "normalized": described.as_dict(),
            }
        )
    total = sum(float(r["monthly_cost_usd"] or 0.0) for r in resources)
    return {"plan": {"resources": resources, "outputs": [], "total_monthly_cost_usd": total}}


def check_plan(
    policies: PolicySet, show_json: Mapping[str, Any], *, request_policies: bool = True
) -> Verdict:
    """Run the `goldenpath.terraform.*` policies on a `terraform show -json` document, and
    (unless told not to) the request policies on its resources in the resource vocabulary."""
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
    verdict = policies.evaluate(document, namespace=TERRAFORM_NAMESPACE)
    if not request_policies:
        return verdict
    judged = policies.evaluate(resource_document(show_json), namespace=REQUEST_NAMESPACE)
    return Verdict.of(
        {*verdict.violations, *judged.violations},
        {*verdict.warnings, *judged.warnings},
        {*verdict.approvals, *judged.approvals},
    )
