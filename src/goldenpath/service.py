"""Use cases: what developers and the platform team can do. The faces (API, CLI, portal, Slack)
call these and nothing below them."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from goldenpath import notifications
from goldenpath.actions.registry import ActionRegistry
from goldenpath.actions.state_store import StateStore
from goldenpath.backend_check import BackendCheck, check_backends
from goldenpath.errors import (
    AccessDenied,
    BackendNotConfigured,
    Conflict,
    InvalidInput,
    InvalidInputs,
    PolicyDenied,
    PolicyMisconfigured,
    RequestNotFound,
    TemplateInvalid,
    TemplateRetired,
)
from goldenpath.execution.guardrails import Guardrails
from goldenpath.execution.journal import MASK, masked
from goldenpath.execution.planner import Requester, input_field, resolve_plan
from goldenpath.execution.queue import Queue
from goldenpath.execution.runner import Runner
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target, authorize
from goldenpath.paging import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    newest_first_cursor,
    newest_first_key,
    page_after,
)
from goldenpath.policy import ERROR_RULE, PolicySet, Verdict, Violation
from goldenpath.policy.prices import PriceBook
from goldenpath.resource_service import ResourceUseCases
from goldenpath.secretbox import SecretBox
from goldenpath.service_rules import (
    TEAM_PATTERN,
    authorize_or_hide,
    check_justification,
    check_uuid,
    denial_text,
    lifetime_seconds,
    request_target,
    visible,
)
from goldenpath.settings import BackendSettings
from goldenpath.setup_check import (
    BackendStatus,
    MissingBackend,
    backend_overview,
    missing_backends,
)
from goldenpath.store import identity as identity_store
from goldenpath.store import queries
from goldenpath.store.database import Database
from goldenpath.store.records import LogLine, RequestRecord
from goldenpath.templates import parameters as params
from goldenpath.templates.backstage.pickers import owner_team
from goldenpath.templates.loader import Template, TemplateCatalog
from goldenpath.templates.model import Step

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DryRun:
    """What a request would do, and the guardrails' verdict on it, without doing it."""

    template: Template
    parameters: dict[str, Any]
    plan: dict[str, Any]
    verdict: Verdict
    requester: Requester
    hidden: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Service(ResourceUseCases):
    """Every use case; requests here, resources in `ResourceUseCases`."""

    database: Database
    catalog: TemplateCatalog
    registry: ActionRegistry
    backends: Mapping[str, BackendSettings]
    queue: Queue
    box: SecretBox
    guardrails: Guardrails
    data_dir: Path | None = None
    # Where actions keep state between runs (Terraform's): plans read it.
    state_store: StateStore | None = None
    default_team: str = "default"
    approval_expiry: timedelta = timedelta(hours=72)
    webhooks: bool = False
    runner: Runner | None = None
    prices: PriceBook | None = None
    # Resources with a TTL are announced this long before it ends (0: never).
    expiry_warning: timedelta = timedelta(days=3)
    # Team -> Slack channel for the team's notices.
    team_channels: Mapping[str, str] = field(default_factory=dict)
    portal_url: str = ""

    # --- templates ------------------------------------------------------------------------

    def templates(self, actor: Actor) -> list[Template]:
        authorize(actor, "template.read")
        return list(self.catalog)

    def template(self, name: str, actor: Actor) -> Template:
        authorize(actor, "template.read")
        return self.catalog.get(name)

    def needs_setup(self, template: Template) -> tuple[MissingBackend, ...]:
        """The backends ``template`` needs that this platform has not configured."""
        return missing_backends(template, self.registry, self.backends)

    def org_policies(self, actor: Actor) -> PolicySet:
        """The org-wide guardrails in force (anyone who may read the catalog may read them)."""
        authorize(actor, "template.read")
        return self.guardrails.org

    def template_problems(self, actor: Actor) -> list[TemplateInvalid]:
        """The template files that did not load, with the field and the reason (admins)."""
        authorize(actor, "identity.manage")
        return list(self.catalog.problems)

    def backends_overview(self, actor: Actor) -> list[BackendStatus]:
        """Configured backends and the missing ones golden paths need (admins)."""
        authorize(actor, "identity.manage")
        return backend_overview(self.catalog, self.registry, self.backends)

    def check_backends(self, actor: Actor) -> list[BackendCheck]:
        """Whether each configured backend answers a trivial call now (admins)."""
        authorize(actor, "identity.manage")
        return check_backends(self.backends, data_dir=self.data_dir)

    # --- requests -------------------------------------------------------------------------

    def dry_run(
        self,
        template_name: str,
        parameters: Mapping[str, Any],
        actor: Actor,
        *,
        team: str | None = None,
        exception: bool = False,
        ttl: str | None = None,
        version: str | None = None,
        keeping: frozenset[tuple[str, str, str]] = frozenset(),
        submitting: bool = False,
    ) -> DryRun:
        """What a request would make and the verdict on it. ``keeping``: (type, backend, name)
        of resources an upgrade changes in place, whose names are then not "taken".
        ``submitting``: the plans made are kept for the run to apply (see ``submit``)."""
        template = self.catalog.get(template_name, version)
        if template.document.metadata.status == "retired":
            newest = self.catalog.newest(template.name)
            raise TemplateRetired(
                template=f"{template.name}@{template.version}",
                instead=f"use {newest.name}@{newest.version}" if newest else "none is offered",
            )
        requester = self._requester(actor, team)
        access = template.document.spec.access
        authorize(
            actor,
            "template.run",
            Target(
                team=requester.team,
                access_teams=tuple(access.teams),
                access_roles=tuple(access.roles),
            ),
        )
        missing = self.needs_setup(template)
        if missing:
            raise BackendNotConfigured(
                template=template.name, needs=", ".join(m.describe() for m in missing)
            )
        values = params.validate(template.schema, parameters)
        self._check_owner_pickers(template, values)
        # Secret parameters (a CI secret's value) are masked in everything kept or shown; the
        # clear values travel sealed, for the worker only.
        hidden = {k: values[k] for k in params.secret_names(template.schema) if k in values}
        secrets = {str(v) for v in hidden.values() if v not in (None, "")}
        plan = masked(
            resolve_plan(
                template,
                values,
                requester,
                self.registry,
                self.backends,
                plan_guard=self.guardrails.terraform_guard(template),
                data_dir=self.data_dir,
                state_store=self.state_store,
                prices=self.prices.current() if self.prices is not None else None,
                keep_plans=submitting,
            ),
            secrets,
        )
        # The worker judges the plan again before applying: it needs the requester's roles.
        plan["requested_roles"] = list(requester.roles)
        plan["ttl_seconds"] = lifetime_seconds(template, ttl)
        shown = {k: MASK if k in hidden else v for k, v in values.items()}
        self._check_names_free(template, plan, keeping)
        verdict = self.guardrails.judge_request(
            self.database, template, shown, requester, plan, dry_run=True, exception=exception
        )
        verdict = Verdict.of(
            violations=[*verdict.violations, *map(Violation.from_dict, plan["plan_violations"])],
            warnings=[
                *verdict.warnings,
                *map(Violation.from_dict, plan["plan_warnings"]),
                *self._deprecation(template),
            ],
            approvals=[*verdict.approvals, *map(Violation.from_dict, plan["plan_approvals"])],
        )
        broken = [v for v in verdict.violations if v.rule == ERROR_RULE]
        if broken:
            # Fail closed, but say whose problem it is: nothing is recorded for a request the
            # platform cannot judge.
            raise PolicyMisconfigured(
                problems="; ".join(v.message for v in broken),
                policy_problems=[v.as_dict() for v in broken],
            )
        return DryRun(
            template=template,
            parameters=shown,
            plan=plan,
            verdict=verdict,
            requester=requester,
            hidden=hidden,
        )

    def submit(
        self,
        template_name: str,
        parameters: Mapping[str, Any],
        actor: Actor,
        *,
        team: str | None = None,
        justification: str | None = None,
        ttl: str | None = None,
        version: str | None = None,
        upgrade: Mapping[str, Any] | None = None,
    ) -> RequestRecord:
        """Record a request and queue it, or hold it for approval, or reject it.

        A request the guardrails deny is still recorded (as ``rejected``, with its verdict) and
        then refused with `PolicyDenied`; with a justification it becomes an exception request
        that waits in ``pending_approval`` for someone else to decide.
        """
        if justification is not None:
            justification = check_justification(justification)
        preview = self.dry_run(
            template_name,
            parameters,
            actor,
            team=team,
            exception=justification is not None,
            ttl=ttl,
            version=version,
            keeping=frozenset(tuple(k) for k in (upgrade or {}).get("keeping", ())),
            submitting=True,
        )
        if upgrade is not None:
            # What the worker changes in place instead of making anew (execution.upgrade).
            preview.plan["upgrade"] = dict(upgrade)
        status = self._initial_status(preview.template, preview.verdict, justification)
        return self.record_submission(
            preview, status, preview.template.document.spec.steps, justification=justification
        )

    def record_submission(
        self,
        preview: DryRun,
        status: str,
        steps: Sequence[Step],
        *,
        justification: str | None = None,
    ) -> RequestRecord:
        """Record a judged request with its steps (and queue its job when ``queued``); refuse
        it with `PolicyDenied` when ``rejected``."""
        template, verdict, requester = preview.template, preview.verdict, preview.requester
        request_id = queries.new_id()
        with self.database.begin() as conn:
            # The job and the request commit together; a worker sees neither before both.
            job_id = self.queue.defer_request(conn, request_id) if status == "queued" else None
            inserted = queries.insert_request(
                conn,
                {
                    "id": request_id,
                    "template_name": template.name,
                    "template_version": template.version,
                    "template_snapshot": template.snapshot(),
                    "parameters": preview.parameters,
                    "secret_parameters": self.box.seal(preview.hidden) if preview.hidden else None,
                    "status": status,
                    "requested_by": requester.user,
                    "owner_team": requester.team,
                    "plan": preview.plan,
                    "verdict": verdict.as_dict(),
                    "is_exception": not verdict.allowed and justification is not None,
                    "justification": justification,
                    "error": denial_text(verdict) if status == "rejected" else None,
                    "finished_at": queries.now() if status == "rejected" else None,
                    "job_id": job_id,
                },
            )
            step_records = queries.insert_steps(
                conn,
                request_id,
                [
                    {
                        "step_id": step.id,
                        "position": position,
                        "name": step.name or step.id,
                        "action": step.action,
                    }
                    for position, step in enumerate(steps)
                ],
            )
            record = replace(inserted, steps=step_records)
            if status == "pending_approval":
                self._announce(conn, "request.pending_approval", record)
            # Last: the audit append holds the platform-wide chain lock until the commit.
            queries.record_event(
                conn,
                requester.user,
                "request.submitted",
                request_id,
                {
                    "template": f"{template.name}@{template.version}",
                    "team": requester.team,
                    "verdict": verdict.decision,
                    "status": status,
                    **({"kind": record.kind} if record.kind != "create" else {}),
                },
            )
        if status == "rejected":
            raise PolicyDenied(
                summary=denial_text(verdict),
                request_id=request_id,
                violations=[v.as_dict() for v in verdict.violations],
            )
        return record

    def approve(self, request_id: str, actor: Actor, comment: str | None = None) -> RequestRecord:
        """Approve a request waiting for approval; it is queued at once."""
        return self._decide(request_id, actor, comment, approved=True)

    def reject(self, request_id: str, actor: Actor, comment: str | None = None) -> RequestRecord:
        return self._decide(request_id, actor, comment, approved=False)

    def _decide(
        self, request_id: str, actor: Actor, comment: str | None, *, approved: bool
    ) -> RequestRecord:
        check_uuid("request_id", request_id)
        if comment is not None:
            comment = check_justification(comment, field="comment", shortest=1)
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id, for_update=True)
            authorize_or_hide(
                actor, "request.decide", request_target(request), RequestNotFound, request_id
            )
            if request.status != "pending_approval":
                raise Conflict(
                    problem=f"request {request_id} is {request.status}, not waiting for approval"
                )
            status = "queued" if approved else "rejected"
            queries.update_request(
                conn,
                request_id,
                status=status,
                decided_by=actor.user,
                decision_comment=comment,
                decided_at=queries.now(),
                **(
                    {}
                    if approved
                    else {
                        "finished_at": queries.now(),
                        "error": f"rejected by {actor.user}" + (f": {comment}" if comment else ""),
                    }
                ),
            )
            queries.record_event(
                conn,
                actor.user,
                "request.approved" if approved else "request.rejected",
                request_id,
                {"comment": comment, "exception": request.is_exception},
            )
            if approved:
                job_id = self.queue.defer_request(conn, request_id)
                queries.update_request(conn, request_id, job_id=job_id)
            decided = queries.get_request(conn, request_id)
            self._announce(
                conn,
                "request.approved" if approved else "request.rejected",
                decided,
                decided_by=actor.user,
                comment=comment,
            )
            return decided

    def expire_approvals(self) -> list[str]:
        """Reject requests that waited for approval longer than allowed (worker housekeeping)."""
        cutoff = datetime.now(UTC) - self.approval_expiry
        expired = []
        with self.database.begin() as conn:
            for request in queries.waiting_since(conn, cutoff):
                hours = self.approval_expiry.total_seconds() / 3600
                queries.update_request(
                    conn,
                    request.id,
                    status="rejected",
                    decided_by="system",
                    decided_at=queries.now(),
                    finished_at=queries.now(),
                    error=f"no decision within {hours:g} h: the approval expired",
                )
                queries.record_event(conn, "system", "request.expired", request.id, {})
                self._announce(conn, "request.expired", queries.get_request(conn, request.id))
                expired.append(request.id)
        return expired

    def cancel(self, request_id: str, actor: Actor) -> RequestRecord:
        """Cancel a request. Not started yet: at once. Running: the worker stops the current
        step (a Terraform run is interrupted), rolls back what was done, and ends it
        ``cancelled``."""
        check_uuid("request_id", request_id)
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id, for_update=True)
            authorize_or_hide(
                actor, "request.cancel", request_target(request), RequestNotFound, request_id
            )
            if request.status in ("queued", "pending_approval"):
                queries.update_request(
                    conn,
                    request_id,
                    status="cancelled",
                    finished_at=queries.now(),
                    error=f"cancelled by {actor.user}",
                )
            elif request.status == "running":
                queries.update_request(conn, request_id, status="cancelling")
            else:
                raise Conflict(
                    problem=f"request {request_id} is {request.status}; it cannot be cancelled"
                )
            queries.record_event(conn, actor.user, "request.cancelled", request_id, {})
            return queries.get_request(conn, request_id)

    def retry(self, request_id: str, actor: Actor) -> RequestRecord:
        """Run a failed request again from its first step that did not succeed.

        Steps that succeeded (and were kept: the template turned rollback off) are not run
        again; rolled-back and failed steps run again, reusing what they checkpointed.
        """
        check_uuid("request_id", request_id)
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id, for_update=True)
            authorize_or_hide(
                actor, "request.retry", request_target(request), RequestNotFound, request_id
            )
            if request.status != "failed":
                raise Conflict(
                    problem=f"request {request_id} is {request.status}; only a failed request "
                    "can be retried"
                )
            for step in request.steps:
                if step.status != "succeeded":
                    queries.update_step(
                        conn,
                        request_id,
                        step.step_id,
                        status="pending",
                        error=None,
                        started_at=None,
                        finished_at=None,
                    )
            job_id = self.queue.defer_request(conn, request_id)
            queries.update_request(
                conn, request_id, status="queued", error=None, finished_at=None, job_id=job_id
            )
            queries.record_event(conn, actor.user, "request.retried", request_id, {})
            return queries.get_request(conn, request_id)

    def _initial_status(
        self, template: Template, verdict: Verdict, justification: str | None
    ) -> str:
        if not verdict.allowed:
            return "pending_approval" if justification is not None else "rejected"
        if verdict.decision == "require_approval" or template.document.spec.approval == "always":
            return "pending_approval"
        return "queued"

    def request(self, request_id: str, actor: Actor) -> RequestRecord:
        check_uuid("request_id", request_id)
        with self.database.autocommit() as conn:
            request = queries.get_request(conn, request_id)
        authorize_or_hide(
            actor, "request.read", request_target(request), RequestNotFound, request_id
        )
        return request

    def requests(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        template: str | None = None,
        team: str | None = None,
        limit: int = 50,
    ) -> list[RequestRecord]:
        teams = visible(actor, team)
        with self.database.begin() as conn:
            return queries.list_requests(
                conn, status=status, template=template, teams=teams, limit=limit
            )

    def request_page(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        template: str | None = None,
        team: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[RequestRecord]:
        """One page of the requests `requests` lists, newest first, and how many there are."""
        check_limit(limit)
        teams = visible(actor, team)
        before = newest_first_key(cursor)
        with self.database.begin() as conn:
            found = queries.list_requests(
                conn, status=status, template=template, teams=teams, limit=limit + 1, before=before
            )
            total = queries.count_requests(conn, status=status, template=template, teams=teams)
        return page_after(found, limit, total, lambda r: newest_first_cursor(r.created_at, r.id))

    def logs(self, request_id: str, actor: Actor, after_id: int = 0) -> list[LogLine]:
        self.request(request_id, actor)
        with self.database.begin() as conn:
            return queries.logs(conn, request_id, after_id)

    def reveal_secrets(self, request_id: str, actor: Actor) -> dict[str, Any]:
        """The request's secret outputs, in clear, to members of the owning team; audited."""
        check_uuid("request_id", request_id)
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id)
            authorize_or_hide(
                actor, "secret.reveal", request_target(request), RequestNotFound, request_id
            )
            if request.status != "succeeded":
                raise Conflict(problem=f"request {request_id} has not succeeded; no secrets")
            queries.record_event(
                conn,
                actor.user,
                "secret.revealed",
                request_id,
                {"names": request.outputs and request.outputs.get("secrets")},
            )
        return dict(self.box.open(request.secret_outputs)) if request.secret_outputs else {}

    # --- helpers --------------------------------------------------------------------------

    def _announce(
        self, conn: sa.Connection, event: str, request: RequestRecord, **extra: Any
    ) -> None:
        if self.webhooks:
            self.queue.defer_notification(conn, notifications.payload(event, request, **extra))
        # Slack's messages of the request (the approvers', the requester's thread) follow.
        self.queue.defer_slack_sync(conn, request.id)

    def _requester(self, actor: Actor, team: str | None) -> Requester:
        """Who asks, for which owner team: the given one, else the actor's only team."""
        if team is not None:
            if not re.match(TEAM_PATTERN, team):
                raise InvalidInput(field="team", rule=f"must match the pattern {TEAM_PATTERN}")
        elif len(actor.teams) == 1:
            team = actor.teams[0]
        elif actor.teams:
            raise InvalidInput(
                field="team",
                rule=f"you are in several teams: choose one of {', '.join(actor.teams)}",
            )
        elif actor.is_admin:
            team = self.default_team
        else:
            raise AccessDenied(problem=f"'{actor.user}' is not a member of any team")
        if actor.is_admin and not actor.member_of(team) and not self._known_team(team):
            # Only an admin gets here with a team they are not in: it must exist, or nobody
            # could reveal the resource's secrets and no budget would judge it.
            with self.database.begin() as conn:
                identity_store.get_team(conn, team)
        return Requester(user=actor.user, team=team, roles=actor.roles)

    def team_names(self) -> list[str]:
        """Every team, for an owner picker's choices (Backstage shows every group too)."""
        with self.database.begin() as conn:
            stored = {t.name for t in identity_store.list_teams(conn)}
        return sorted(stored | {self.default_team, *self.guardrails.teams})

    def _check_owner_pickers(self, template: Template, values: Mapping[str, Any]) -> None:
        """A Backstage OwnerPicker's value must name one of our teams."""
        picked = {
            name: owner_team(values[name])
            for name, prop in template.schema.get("properties", {}).items()
            if isinstance(prop, Mapping)
            and prop.get("ui:field") == "OwnerPicker"
            and isinstance(values.get(name), str)
        }
        if not picked:
            return  # the teams are read only when a picker needs them
        teams = set(self.team_names())
        problems = [
            InvalidInput(field=name, rule=f"must be a team of this platform ('{team}' is not)")
            for name, team in picked.items()
            if team not in teams
        ]
        if problems:
            raise InvalidInputs(problems)

    def _known_team(self, team: str) -> bool:
        """The platform's own default team (made at bootstrap) and teams configured with a
        budget in the settings count as existing without a look-up."""
        return team == self.default_team or team in self.guardrails.teams

    def _deprecation(self, template: Template) -> list[Violation]:
        metadata = template.document.metadata
        if metadata.status != "deprecated":
            return []
        newest = self.catalog.newest(template.name)
        advice = f"; use {newest.version}" if newest and newest.version != template.version else ""
        note = f": {metadata.status_note}" if metadata.status_note else ""
        return [
            Violation(
                policy="template lifecycle",
                rule="warn",
                message=f"{template.name}@{template.version} is deprecated{note}{advice}",
                package="goldenpath.lifecycle",
            )
        ]

    def _check_names_free(
        self,
        template: Template,
        plan: Mapping[str, Any],
        keeping: frozenset[tuple[str, str, str]] = frozenset(),
    ) -> None:
        with self.database.begin() as conn:
            taken = [
                InvalidInput(
                    field=input_field(template, r["step"], "name"),
                    rule=f"a {r['type']} named '{r['name']}' already exists",
                )
                for r in plan["resources"]
                if (r["type"], r["backend"], r["name"]) not in keeping
                and queries.name_taken(conn, r["type"], r["backend"], r["name"])
            ]
        if taken:
            raise Conflict(
                problem="; ".join(f"{t.field}: {t.details['rule']}" for t in taken),
                fields=[{"field": t.field, "rule": t.details["rule"]} for t in taken],
            )
