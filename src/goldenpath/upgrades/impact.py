"""``templates impact``: re-plan what an older version made under a new one, resource by resource.

Each resource's request is planned again with its original parameters (secret ones unsealed)
under the new version, without side effects, and its outcome is one of:

- ``none``: the new version would make the same thing;
- ``update``: the same resource, changed in place (only fields its action can update);
- ``replace``: destroyed and made again — its data is lost (a name, a backend, or a field the
  action cannot change in place differs, or its step is gone);
- ``denied``: the new version's guardrails deny the re-planned request;
- ``invalid``: its parameters are no longer valid, or planning fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.actions.registry import ActionRegistry
from goldenpath.actions.state_store import StateStore
from goldenpath.errors import GoldenPathError, InvalidInputs
from goldenpath.execution.guardrails import Guardrails, TeamFacts, new_violations
from goldenpath.execution.journal import MASK
from goldenpath.execution.planner import resolve_plan
from goldenpath.execution.steps import requester_of
from goldenpath.settings import BackendSettings
from goldenpath.store.database import Database
from goldenpath.store.records import RequestRecord, ResourceRecord
from goldenpath.templates import parameters as params
from goldenpath.templates.loader import Template

OUTCOMES = ("none", "update", "replace", "denied", "invalid")


@dataclass(frozen=True)
class ResourceImpact:
    resource_id: str
    name: str
    kind: str
    team: str
    from_version: str
    outcome: str
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "name": self.name,
            "kind": self.kind,
            "team": self.team,
            "from_version": self.from_version,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Impact:
    template: str
    version: str
    resources: tuple[ResourceImpact, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {o: sum(1 for r in self.resources if r.outcome == o) for o in OUTCOMES}

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "version": self.version,
            "counts": self.counts,
            "resources": [r.as_dict() for r in self.resources],
        }


def _impact(resource: ResourceRecord, outcome: str, reasons: tuple[str, ...]) -> ResourceImpact:
    return ResourceImpact(
        resource_id=resource.id,
        name=resource.name,
        kind=resource.kind,
        team=resource.owner_team,
        from_version=resource.template_version,
        outcome=outcome,
        reasons=reasons,
    )


@dataclass
class Replanner:
    """What the impact of a version needs from the platform."""

    database: Database
    registry: ActionRegistry
    backends: Mapping[str, BackendSettings]
    guardrails: Guardrails
    unseal: Callable[[bytes | None], dict[str, Any]]
    # Terraform's plans read the workspace's sealed state, as at submission.
    state_store: StateStore | None = None
    data_dir: Path | None = None

    def assess(
        self,
        new: Template,
        resources: Iterable[ResourceRecord],
        requests: Mapping[str, RequestRecord],
    ) -> Impact:
        by_request: dict[str, list[ResourceRecord]] = {}
        for resource in resources:
            by_request.setdefault(resource.request_id, []).append(resource)
        teams: dict[str, TeamFacts] = {}
        found: list[ResourceImpact] = []
        for request_id, made in by_request.items():
            request = requests[request_id]
            team = teams.get(request.owner_team)
            if team is None:
                # Once per team: its spend does not change while nothing is applied.
                team = teams[request.owner_team] = self.guardrails.team_facts(
                    self.database, request.owner_team
                )
            found.extend(self._assess_request(new, request, made, team))
        found.sort(key=lambda r: (OUTCOMES.index(r.outcome), r.team, r.name))
        return Impact(template=new.name, version=new.version, resources=tuple(found))

    def _assess_request(
        self, new: Template, request: RequestRecord, made: list[ResourceRecord], team: TeamFacts
    ) -> list[ResourceImpact]:
        hidden = self.unseal(request.secret_parameters)
        values = {**request.parameters, **hidden}

        def each(outcome: str, *reasons: str) -> list[ResourceImpact]:
            return [_impact(r, outcome, reasons) for r in made]

        try:
            accepted = params.validate(new.schema, values)
        except InvalidInputs as exc:
            return each(
                "invalid", *(f"parameter {e.field}: {e.details['rule']}" for e in exc.errors)
            )
        requester = requester_of(request)
        try:
            plan = resolve_plan(
                new,
                accepted,
                requester,
                self.registry,
                self.backends,
                plan_guard=self.guardrails.terraform_guard(new),
                data_dir=self.data_dir,
                state_store=self.state_store,
            )
        except GoldenPathError as exc:
            return each("invalid", f"planning fails: {exc.message}")
        shown = {k: MASK if k in hidden else v for k, v in accepted.items()}
        verdict = self.guardrails.judge_request(
            self.database, new, shown, requester, plan, team=team
        )
        denied = new_violations(verdict, None) + [
            str(v["message"]) for v in plan["plan_violations"]
        ]
        if denied:
            return each("denied", *denied)
        planned: dict[str, Mapping[str, Any]] = {}
        for entry in plan["resources"]:
            # A step's first planned resource is the one the catalog keeps (a Terraform
            # workspace before the resources its plan changes).
            planned.setdefault(entry["step"], entry)
        results: list[ResourceImpact] = []
        steps = {s.id: s for s in new.document.spec.steps}
        for resource in made:
            outcome, reasons = self._compare(resource, planned.get(resource.step_id), steps)
            results.append(_impact(resource, outcome, reasons))
        return results

    def _compare(
        self, resource: ResourceRecord, planned: Mapping[str, Any] | None, steps: Mapping[str, Any]
    ) -> tuple[str, tuple[str, ...]]:
        if resource.step_id not in steps or planned is None:
            return "replace", (
                f"step '{resource.step_id}' no longer makes it: it would be destroyed",
            )
        identity = (resource.kind, resource.name, resource.backend)
        wanted = (planned["type"], planned["name"], planned["backend"])
        if identity != wanted:
            return "replace", (f"{'/'.join(identity)} becomes {'/'.join(str(w) for w in wanted)}",)
        action = self.registry.get(steps[resource.step_id].action)
        change = action.upgrade_change(dict(resource.config), dict(planned["config"]))
        return change.outcome, change.reasons
