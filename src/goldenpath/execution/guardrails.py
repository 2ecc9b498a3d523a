"""Guardrails on requests: the org-wide policies plus a template's own, judged on the resolved plan.

A template's guardrails are added to the org's, never instead of them, so a template author
cannot switch an org rule off. The policy set for a template version is built once and cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from goldenpath.execution.planner import Requester
from goldenpath.policy import PolicySet, Verdict, check_plan
from goldenpath.policy.vocabulary import described
from goldenpath.settings import TeamSettings
from goldenpath.store import queries
from goldenpath.store.database import Database
from goldenpath.templates.loader import Template


@dataclass(frozen=True)
class TeamFacts:
    """What the budget guardrail needs to know about the requesting team."""

    name: str
    monthly_budget_usd: float | None
    current_spend_usd: float


def input_document(
    template: Template,
    parameters: Mapping[str, Any],
    requester: Requester,
    team: TeamFacts,
    plan: Mapping[str, Any],
    *,
    dry_run: bool = False,
    exception: bool = False,
) -> dict[str, Any]:
    """The document every request policy sees (documented in docs/policies.md)."""
    return {
        "template": {
            "name": template.name,
            "version": template.version,
            "owner": template.document.metadata.owner,
        },
        "parameters": dict(parameters),
        "actor": requester.as_dict(),
        "team": {
            "name": team.name,
            "monthly_budget_usd": team.monthly_budget_usd,
            "current_spend_usd": team.current_spend_usd,
        },
        "request": {"dry_run": dry_run, "exception": exception},
        "plan": {
            "resources": [_policy_resource(r) for r in plan.get("resources", [])],
            "outputs": list(plan.get("outputs", [])),
            "total_monthly_cost_usd": plan.get("total_monthly_cost_usd", 0.0),
        },
    }


def _policy_resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "step": resource["step"],
        "action": resource["action"],
        "type": resource["type"],
        "name": resource["name"],
        "backend": resource["backend"],
        "config": resource["config"],
        "tags": resource["tags"],
        "region": resource["region"],
        "monthly_cost_usd": resource["monthly_cost_usd"],
        "normalized": described(resource)["normalized"],
    }


class Guardrails:
    def __init__(self, org: PolicySet, teams: Mapping[str, TeamSettings] | None = None) -> None:
        self.org = org
        self.teams = dict(teams or {})
        self._by_template: dict[tuple[str, str], PolicySet] = {}
        self._lock = threading.Lock()

    def for_template(self, template: Template) -> PolicySet:
        if not template.guardrails:
            return self.org
        key = (template.name, template.version)
        with self._lock:
            found = self._by_template.get(key)
            if found is None:
                found = self.org.with_sources(template.guardrails)
                self._by_template[key] = found
        return found

    def judge(self, template: Template, document: Mapping[str, Any]) -> Verdict:
        return self.for_template(template).evaluate(document)

    def terraform_guard(self, template: Template) -> Callable[[Mapping[str, Any]], Verdict]:
        """A judge of Terraform plans (``terraform show -json``) for this template's steps."""
        policies = self.for_template(template)
        # The plan's resources reach the request policies in the request's own document.
        return lambda show_json: check_plan(policies, show_json, request_policies=False)

    def team_facts(self, database: Database, team: str) -> TeamFacts:
        """The team's budget (stored, else configured) and what it spends now."""
        with database.autocommit() as conn:
            return self.team_facts_in(conn, team)

    def team_facts_in(self, conn: sa.Connection, team: str) -> TeamFacts:
        """`team_facts`, read in the caller's transaction."""
        configured = self.teams.get(team)
        spend, budget = queries.team_spend_and_budget(conn, team)
        if budget is None and configured is not None:
            budget = configured.monthly_budget_usd
        return TeamFacts(name=team, monthly_budget_usd=budget, current_spend_usd=spend)

    def judge_request(
        self,
        database: Database,
        template: Template,
        parameters: Mapping[str, Any],
        requester: Requester,
        plan: Mapping[str, Any],
        *,
        dry_run: bool = False,
        exception: bool = False,
        team: TeamFacts | None = None,
    ) -> Verdict:
        """The verdict on a request's plan, with the team's budget and current spend (``team``
        when the caller already has them)."""
        team = team or self.team_facts(database, requester.team)
        document = input_document(
            template, parameters, requester, team, plan, dry_run=dry_run, exception=exception
        )
        return self.judge(template, document)


def new_violations(verdict: Verdict, approved: Mapping[str, Any] | None) -> list[str]:
    """Deny messages in ``verdict`` that an approved exception did not already cover."""
    covered = {v["message"] for v in (approved or {}).get("violations", [])}
    return [v.message for v in verdict.violations if v.message not in covered]
