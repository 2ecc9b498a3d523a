"""A Terraform plan's resource changes in the vocabulary, one description per address."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from goldenpath.policy.vocabulary import aws, azure, google
from goldenpath.policy.vocabulary.description import Description
from goldenpath.policy.vocabulary.plan import PlannedChange, TerraformPlan

Describer = Callable[[PlannedChange, TerraformPlan], Description]

# Resources that exist only in Terraform's state: nothing in any cloud to judge or pay for.
INTERNAL_TYPES = frozenset({"terraform_data", "null_resource"})
INTERNAL_PREFIXES = ("random_", "time_", "local_", "tls_")


def _describer(type_: str) -> Describer | None:
    if type_.startswith("aws_"):
        return aws.describer(type_)
    if type_.startswith("google_"):
        return google.DESCRIBERS.get(type_)
    if type_.startswith("azurerm_"):
        return azure.DESCRIBERS.get(type_)
    return None


def _unmapped(change: PlannedChange, kind: str) -> Description:
    return Description(
        kind=kind,
        provider=change.type.split("_", 1)[0] or "unknown",
        provider_type=change.type,
        address=change.address,
        source="terraform",
        change=change.change,
        tags={},
        count=0 if kind == "internal" else 1,
        monthly_cost_usd=0.0 if kind == "internal" else None,
    )


def describe_change(change: PlannedChange, plan: TerraformPlan) -> Description:
    describer = _describer(change.type)
    if describer is not None:
        return describer(change, plan)
    if change.type in INTERNAL_TYPES or change.type.startswith(INTERNAL_PREFIXES):
        return _unmapped(change, "internal")
    return _unmapped(change, "unknown")


def describe_plan(show_json: Mapping[str, Any]) -> dict[str, Description]:
    """Every managed resource the plan creates, updates, replaces or deletes, by address."""
    plan = TerraformPlan(show_json)
    return {change.address: describe_change(change, plan) for change in plan.changes}
