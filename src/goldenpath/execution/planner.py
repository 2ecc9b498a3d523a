"""The resolved plan: what a request's steps would really create, after rendering.

Guardrails judge this plan, not the form, so a template that hard-codes something unsafe in a
step is caught as surely as a developer who types it. Planning has no side effects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from goldenpath.actions.base import Action, ActionInputs, PlanContext
from goldenpath.actions.registry import ActionRegistry
from goldenpath.actions.state_store import StateStore
from goldenpath.errors import (
    GoldenPathError,
    InvalidInput,
    InvalidInputs,
    PolicyDenied,
    TemplateInvalid,
)
from goldenpath.policy.prices import PriceTable, shipped_table
from goldenpath.policy.verdict import Verdict
from goldenpath.policy.vocabulary import described
from goldenpath.settings import BackendSettings
from goldenpath.templates.loader import Template
from goldenpath.templates.model import Step
from goldenpath.templates.rendering import STEP_REF, Renderer, pending_step

_PARAMETER_ONLY = re.compile(r"^\s*\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")


@dataclass(frozen=True)
class Requester:
    user: str
    team: str
    roles: tuple[str, ...] = ("developer",)

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "teams": [self.team], "roles": list(self.roles)}


def render_context(
    template: Template, parameters: Mapping[str, Any], requester: Requester
) -> dict[str, Any]:
    return {
        "parameters": dict(parameters),
        "steps": {},
        # ``ref`` and ``entity`` are Backstage's spellings of the same actor.
        "user": {
            "name": requester.user,
            "ref": f"user:default/{requester.user}",
            "entity": {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "User",
                "metadata": {"name": requester.user, "namespace": "default"},
                "spec": {
                    "profile": {"displayName": requester.user},
                    "memberOf": [f"group:default/{requester.team}"],
                },
            },
        },
        "team": {"name": requester.team},
        "template": {"name": template.name, "version": template.version},
    }


def input_field(template: Template, step_id: str, key: str) -> str:
    """The form field a step input comes from (``name``), else the input's own path."""
    for step in template.document.spec.steps:
        if step.id == step_id:
            source = step.input.get(key)
            match = _PARAMETER_ONLY.match(source) if isinstance(source, str) else None
            if match:
                return match.group(1)
    return f"steps.{step_id}.input.{key}"


def _from_parameters(
    raw_input: Mapping[str, Any], error: InvalidInput, step_id: str
) -> InvalidInput:
    """An action's error on a (possibly nested) input, named after the form field it came from
    when that input is exactly ``${{ parameters.X }}`` (``variables.name`` → ``name``)."""
    node: Any = raw_input
    for part in error.field.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    match = _PARAMETER_ONLY.match(node) if isinstance(node, str) else None
    if match:
        field = match.group(1)
    elif node is None or error.field.startswith("steps."):
        field = error.field  # already a form field, or not one of this step's inputs
    else:
        field = f"steps.{step_id}.input.{error.field}"
    return InvalidInput(field=field, rule=str(error.details["rule"]))


def validated_inputs(
    action: Action[Any], raw_input: Mapping[str, Any], rendered: Any, step_id: str
) -> ActionInputs:
    """The step's inputs as the action's model; errors name the parameter the input came from."""
    try:
        return action.Inputs.model_validate(rendered)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "(input)"
            source = raw_input.get(key)
            match = _PARAMETER_ONLY.match(source) if isinstance(source, str) else None
            field = match.group(1) if match else f"steps.{step_id}.input.{key}"
            problems.append(InvalidInput(field=field, rule=_pydantic_rule(error)))
        raise InvalidInputs(problems) from exc


@dataclass(frozen=True)
class Iterations:
    """A step's validated inputs: one, or one per item of its ``each``."""

    inputs: tuple[ActionInputs, ...]
    # The rendered inputs before validation, as the plan shows them.
    rendered: tuple[Any, ...] = ()
    each: bool = False

    def shown(self) -> Any:
        dumped = [i.model_dump(mode="json") for i in self.inputs]
        return dumped if self.each else dumped[0]

    def outputs(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        """The step's outputs; under ``each``, every output is the list of its values (as in
        Backstage), an iteration without that output giving None."""
        if not self.each:
            return results[0]
        names = sorted({name for result in results for name in result})
        return {name: [result.get(name) for result in results] for name in names}


def step_inputs(action: Action[Any], step: Step, renderer: Renderer) -> Iterations:
    """Render and validate a step's inputs, once per ``each`` item when it has one."""
    where = f"spec.steps.{step.id}"
    if step.each is None:
        rendered = renderer.render(step.input, f"{where}.input")
        inputs = validated_inputs(action, step.input, rendered, step.id)
        return Iterations((inputs,), (rendered,))
    items = renderer.iterations(step.each, f"{where}.each") or []
    each_inputs, each_rendered = [], []
    for item in items:
        rendered = renderer.with_values(each=item).render(step.input, f"{where}.input")
        each_inputs.append(validated_inputs(action, step.input, rendered, step.id))
        each_rendered.append(rendered)
    return Iterations(tuple(each_inputs), tuple(each_rendered), each=True)


def _pydantic_rule(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    if error["type"] == "extra_forbidden":
        return "is not an input of this action"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"]).lower()


def resolve_plan(
    template: Template,
    parameters: Mapping[str, Any],
    requester: Requester,
    registry: ActionRegistry,
    backends: Mapping[str, BackendSettings],
    *,
    plan_guard: Callable[[Mapping[str, Any]], Verdict] | None = None,
    data_dir: Path | None = None,
    state_store: StateStore | None = None,
    prices: PriceTable | None = None,
    keep_plans: bool = False,
) -> dict[str, Any]:
    """Render every step against pending outputs, validate its inputs, and ask its action."""
    context = render_context(template, parameters, requester)
    renderer = Renderer(context, file=str(template.source))
    steps: list[dict[str, Any]] = []
    resources: list[dict[str, Any]] = []
    problems: list[InvalidInput] = []
    plan_violations: list[dict[str, Any]] = []
    plan_verdicts: list[Verdict] = []

    def judged(show_json: Mapping[str, Any]) -> Verdict:
        # Kept so that what a Terraform plan sends to a human (require_approval) or warns
        # about reaches the request's verdict, not only its denials.
        assert plan_guard is not None
        verdict = plan_guard(show_json)
        plan_verdicts.append(verdict)
        return verdict

    for step in template.document.spec.steps:
        where = f"spec.steps.{step.id}"
        context["steps"][step.id] = pending_step(step.id)
        if not renderer.condition(step.if_, f"{where}.if"):
            steps.append({"id": step.id, "action": step.action, "skipped": True, "resources": []})
            continue
        action = registry.get(step.action)
        try:
            iterations = step_inputs(action, step, renderer)
            planned = [
                resource
                for inputs in iterations.inputs
                for resource in action.plan(
                    PlanContext(
                        inputs=inputs,
                        backends=backends,
                        owner_team=requester.team,
                        requested_by=requester.user,
                        template_name=template.name,
                        template_dir=template.source.parent,
                        data_dir=data_dir,
                        plan_guard=judged if plan_guard is not None else None,
                        state_store=state_store,
                        keep_plan=keep_plans,
                    )
                )
            ]
            if iterations.each and planned:
                raise InvalidInput(
                    field=f"steps.{step.id}.each",
                    rule=f"'each' cannot repeat {step.action}, which creates a catalog resource",
                )
        except PolicyDenied as exc:
            # A guardrail on what the action itself planned (a Terraform plan): part of the
            # verdict, not an input error, so the request can still become an exception.
            plan_violations.extend(exc.details.get("violations", []))
            continue
        except InvalidInputs as exc:
            problems.extend(_from_parameters(step.input, e, step.id) for e in exc.errors)
            continue
        except InvalidInput as exc:
            problems.append(_from_parameters(step.input, exc, step.id))
            continue
        except TemplateInvalid:
            raise  # an expression that does not render is the template's fault, not the input's
        except GoldenPathError as exc:
            problems.append(InvalidInput(field=f"steps.{step.id}", rule=exc.message))
            continue
        step_resources = [{"step": step.id, "action": step.action, **p.as_dict()} for p in planned]
        resources.extend(step_resources)
        steps.append(
            {
                "id": step.id,
                "name": step.name or step.id,
                "action": step.action,
                "input": list(iterations.rendered) if iterations.each else iterations.rendered[0],
                "skipped": False,
                "resources": step_resources,
            }
        )
    if problems:
        raise InvalidInputs(problems)
    costs = priced(resources, prices or shipped_table(), template.document.spec.cost.monthly_usd)
    return {
        "steps": steps,
        "resources": resources,
        "outputs": _planned_outputs(template, registry),
        "total_monthly_cost_usd": costs["total_monthly_cost_usd"],
        "costs": costs,
        "plan_violations": plan_violations,
        "plan_approvals": [a.as_dict() for v in plan_verdicts for a in v.approvals],
        "plan_warnings": [w.as_dict() for v in plan_verdicts for w in v.warnings],
    }


def priced(
    resources: list[dict[str, Any]], prices: PriceTable, declared: float | None
) -> dict[str, Any]:
    """Each resource's monthly cost from the price table (else what its action estimated),
    written into the resource and its description; the plan's cost per resource and total.

    What the plan prices (two m5.4xlarge) beats the template's flat ``spec.cost``, which is
    booked on the first resource only when nothing in the plan has a price: the budget
    guardrail must judge what will really be spent.
    """
    rows: list[tuple[dict[str, Any], dict[str, Any], str | None]] = []
    for resource in resources:
        source: str | None
        normalized = described(resource)["normalized"]
        from_table = prices.monthly(normalized)
        own = resource["monthly_cost_usd"]
        if from_table is not None:
            resource["monthly_cost_usd"], source = from_table, "price table"
        elif own is None and normalized.get("monthly_cost_usd") is not None:
            resource["monthly_cost_usd"], source = normalized["monthly_cost_usd"], "vocabulary"
        else:
            source = "action" if own is not None else None
        rows.append((resource, normalized, source))
    if declared and rows and not any((r["monthly_cost_usd"] or 0) > 0 for r in resources):
        # Booked on the first resource, so that the team's spend in the catalog adds up.
        resources[0]["monthly_cost_usd"] = declared
        rows[0] = (rows[0][0], rows[0][1], "template")
    breakdown = []
    for resource, normalized, source in rows:
        normalized["monthly_cost_usd"] = resource["monthly_cost_usd"]
        resource["normalized"] = normalized
        breakdown.append(
            {
                "step": resource["step"],
                "address": normalized["address"],
                "kind": normalized["kind"],
                "size": normalized["size"],
                "count": normalized["count"],
                "region": normalized["region"],
                "monthly_cost_usd": resource["monthly_cost_usd"],
                "priced_by": source,
            }
        )
    total = round(sum(r["monthly_cost_usd"] or 0.0 for r in resources), 2)
    return {
        "resources": breakdown,
        "total_monthly_cost_usd": total,
        "price_table": {"source": prices.source, "as_of": prices.as_of, "origin": prices.origin},
    }


def _planned_outputs(template: Template, registry: ActionRegistry) -> list[dict[str, Any]]:
    actions = {s.id: registry.get(s.action) for s in template.document.spec.steps}
    output = template.document.spec.output
    planned = []
    for kind, values in (("value", output.values), ("secret", output.secrets)):
        for name, expression in values.items():
            refs = [
                f"steps.{step}.output.{key}"
                for step, key in STEP_REF.findall(expression)
                if step in actions and key in actions[step].secret_outputs
            ]
            planned.append(
                {"name": name, "kind": kind, "expression": expression, "secret_refs": refs}
            )
    return planned
