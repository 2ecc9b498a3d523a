"""``templates diff``: what changed between two versions of a golden path, field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from goldenpath.templates.loader import Template


@dataclass(frozen=True)
class Change:
    """One difference: where (parameters, steps, outputs, guardrails, lifecycle), what, how."""

    area: str
    item: str
    change: str
    before: Any = None
    after: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "item": self.item,
            "change": self.change,
            "before": self.before,
            "after": self.after,
        }


def _compare(area: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes = [Change(area, key, "removed", before=old[key]) for key in old if key not in new]
    changes += [Change(area, key, "added", after=new[key]) for key in new if key not in old]
    changes += [
        Change(area, key, "changed", before=old[key], after=new[key])
        for key in old
        if key in new and old[key] != new[key]
    ]
    return changes


def _steps(template: Template) -> dict[str, Any]:
    return {
        step.id: {"action": step.action, "input": step.input, "if": step.if_}
        for step in template.document.spec.steps
    }


def _outputs(template: Template) -> dict[str, Any]:
    output = template.document.spec.output
    return {
        **{f"values.{k}": v for k, v in output.values.items()},
        **{f"secrets.{k}": v for k, v in output.secrets.items()},
    }


def template_diff(old: Template, new: Template) -> list[Change]:
    """Every change from ``old`` to ``new``: parameters, required, steps, outputs, guardrails."""
    old_schema, new_schema = old.schema, new.schema
    changes = _compare(
        "parameters", old_schema.get("properties", {}), new_schema.get("properties", {})
    )
    required_before = sorted(old_schema.get("required", []))
    required_after = sorted(new_schema.get("required", []))
    if required_before != required_after:
        changes.append(
            Change("parameters", "(required)", "changed", required_before, required_after)
        )
    changes += _compare("steps", _steps(old), _steps(new))
    old_order = [s.id for s in old.document.spec.steps]
    new_order = [s.id for s in new.document.spec.steps]
    shared = [s for s in old_order if s in new_order]
    if shared != [s for s in new_order if s in old_order]:
        changes.append(Change("steps", "(order)", "changed", old_order, new_order))
    changes += _compare("outputs", _outputs(old), _outputs(new))
    changes += _compare("guardrails", old.guardrails, new.guardrails)
    old_meta, new_meta = old.document.metadata, new.document.metadata
    if old_meta.status != new_meta.status:
        changes.append(Change("lifecycle", "status", "changed", old_meta.status, new_meta.status))
    old_life = old.document.spec.lifecycle.model_dump(mode="json")
    new_life = new.document.spec.lifecycle.model_dump(mode="json")
    if old_life != new_life:
        changes.append(Change("lifecycle", "spec.lifecycle", "changed", old_life, new_life))
    return changes
