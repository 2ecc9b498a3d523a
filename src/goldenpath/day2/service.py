"""The day-2 use cases: what a resource's golden path offers on it, and running one.

A day-2 run is recorded as a request of the resource's template version (kind
``day2:<name>``): judged by the guardrails on the resource as it would be after the change,
audited, queued, cancellable; the worker runs it (execution.day2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from goldenpath.actions.base import ResourceOperation
from goldenpath.errors import (
    Conflict,
    Day2ActionNotFound,
    InvalidInput,
    InvalidInputs,
    PolicyMisconfigured,
    ResourceNotFound,
    TemplateNotFound,
)
from goldenpath.execution.day2 import LIVE, resource_view
from goldenpath.execution.planner import Requester, priced, render_context, step_inputs
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target
from goldenpath.policy import ERROR_RULE
from goldenpath.policy.prices import shipped_table
from goldenpath.service import DryRun, Service
from goldenpath.service_rules import authorize_or_hide
from goldenpath.store import queries
from goldenpath.store.records import RequestRecord, ResourceRecord
from goldenpath.templates import parameters as params
from goldenpath.templates.loader import Template
from goldenpath.templates.model import Day2Action
from goldenpath.templates.rendering import Renderer, pending_step


class Day2Actions:
    def __init__(self, service: Service) -> None:
        self.service = service

    def offered(self, resource_id: str, actor: Actor) -> tuple[Template, list[Day2Action]]:
        """The day-2 actions the resource's golden path declares (with its template)."""
        resource = self.service.resource(resource_id, actor)
        template = self.template_of(resource)
        return template, list(template.document.spec.day2)

    def template_of(self, resource: ResourceRecord) -> Template:
        """The version that made (or last upgraded) the resource: as loaded now, else as the
        request that made it pinned it."""
        try:
            return self.service.catalog.get(resource.template_name, resource.template_version)
        except TemplateNotFound:
            with self.service.database.begin() as conn:
                making = queries.get_request(conn, resource.request_id)
            return Template.from_snapshot(making.template_snapshot)

    def run(
        self,
        resource_id: str,
        name: str,
        parameters: Mapping[str, Any],
        actor: Actor,
        *,
        dry_run: bool = False,
    ) -> DryRun | RequestRecord:
        """Submit the day-2 action ``name`` on the resource (and what its request made with
        it): queued, held for approval, or recorded as rejected and refused."""
        service = self.service
        resource = service.resource(resource_id, actor)
        authorize_or_hide(
            actor,
            "resource.operate",
            Target(team=resource.owner_team),
            ResourceNotFound,
            resource_id,
        )
        template = self.template_of(resource)
        declared = template.document.spec.day2_action(name)
        if declared is None:
            offered = ", ".join(a.name for a in template.document.spec.day2) or "none"
            raise Day2ActionNotFound(resource_id=resource_id, action=name, offered=offered)
        if resource.state not in LIVE:
            raise Conflict(problem=f"resource {resource_id} is {resource.state}")
        values = params.validate(template.day2_schema(name), parameters)
        with service.database.begin() as conn:
            making = queries.get_request(conn, resource.request_id)
            siblings = {r.step_id: r for r in queries.resources_of_request(conn, making.id)}
        targets: dict[str, ResourceRecord] = {}
        for step in declared.steps:
            target = siblings.get(step.resource)
            if target is None or target.state not in LIVE:
                raise Conflict(
                    problem=f"{name} works on what step '{step.resource}' made, and request "
                    f"{making.id} has nothing live from it"
                )
            targets[step.resource] = target
        # For the resource's own team, which exists: it owns the resource.
        requester = Requester(user=actor.user, team=resource.owner_team, roles=actor.roles)
        plan = self._plan(template, declared, values, requester, making, targets)
        verdict = service.guardrails.judge_request(
            service.database, template, values, requester, plan, dry_run=dry_run
        )
        broken = [v for v in verdict.violations if v.rule == ERROR_RULE]
        if broken:
            raise PolicyMisconfigured(
                problems="; ".join(v.message for v in broken),
                policy_problems=[v.as_dict() for v in broken],
            )
        preview = DryRun(
            template=template,
            parameters=values,
            plan=plan,
            verdict=verdict,
            requester=requester,
        )
        if dry_run:
            return preview
        if not verdict.allowed:
            status = "rejected"
        elif verdict.decision == "require_approval":
            status = "pending_approval"
        else:
            status = "queued"
        return service.record_submission(preview, status, declared.steps)

    def _plan(
        self,
        template: Template,
        declared: Day2Action,
        values: Mapping[str, Any],
        requester: Requester,
        making: RequestRecord,
        targets: Mapping[str, ResourceRecord],
    ) -> dict[str, Any]:
        """Each step's rendered inputs, and its resource as it would be after the change (what
        the guardrails judge); the cost is what the change adds to the team's spend."""
        context = render_context(template, values, requester)
        steps: list[dict[str, Any]] = []
        problems: list[InvalidInput] = []
        changed: dict[str, dict[str, Any]] = {}
        for step in declared.steps:
            context["resource"] = resource_view(targets[step.resource])
            renderer = Renderer(context, file=str(template.source))
            operation = self.service.registry.get(step.action)
            assert isinstance(operation, ResourceOperation)
            try:
                [inputs] = step_inputs(operation, step, renderer).inputs
            except InvalidInputs as exc:
                problems.extend(exc.errors)
                continue
            except InvalidInput as exc:
                problems.append(exc)
                continue
            changed.setdefault(step.resource, {}).update(operation.changes(inputs))
            context["steps"][step.id] = pending_step(step.id)
            steps.append(
                {
                    "id": step.id,
                    "name": step.name or step.id,
                    "action": step.action,
                    "resource": targets[step.resource].id,
                    "input": inputs.model_dump(mode="json"),
                    "skipped": False,
                    "resources": [],
                }
            )
        if problems:
            raise InvalidInputs(problems)
        made = {r["step"]: r for r in making.plan.get("resources", [])}
        resources = []
        for step_id, changes in changed.items():
            target = targets[step_id]
            planned = made.get(step_id, {})
            resources.append(
                {
                    "step": step_id,
                    "action": planned.get("action", target.kind),
                    "type": target.kind,
                    "name": target.name,
                    "backend": target.backend,
                    "config": {**target.config, **changes},
                    "tags": dict(planned.get("tags") or {}),
                    "region": planned.get("region"),
                    "monthly_cost_usd": target.monthly_cost_usd,
                }
            )
        prices = self.service.prices.current() if self.service.prices else shipped_table()
        costs = priced(resources, prices, None)
        before = sum(float(targets[s].monthly_cost_usd or 0.0) for s in changed)
        return {
            "day2": {
                "action": declared.name,
                "resources": {s: targets[s].id for s in targets},
            },
            "steps": steps,
            "resources": resources,
            "outputs": [],
            "total_monthly_cost_usd": round(max(0.0, costs["total_monthly_cost_usd"] - before), 2),
            "costs": costs,
            "plan_violations": [],
            "plan_approvals": [],
            "plan_warnings": [],
            "requested_roles": list(requester.roles),
            "ttl_seconds": None,
        }
