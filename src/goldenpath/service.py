"""Use cases: what developers and the platform team can do. The faces (API, CLI, portal, Slack)
call these and nothing below them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.actions.registry import ActionRegistry
from goldenpath.errors import AccessDenied, Conflict, InvalidInput, InvalidInputs, PolicyDenied
from goldenpath.execution.guardrails import Guardrails
from goldenpath.execution.journal import MASK, masked
from goldenpath.execution.planner import Requester, input_field, resolve_plan
from goldenpath.execution.queue import Queue
from goldenpath.policy import Verdict
from goldenpath.secretbox import SecretBox
from goldenpath.settings import BackendSettings
from goldenpath.store import queries
from goldenpath.store.database import Database
from goldenpath.store.records import LogLine, RequestRecord, ResourceRecord
from goldenpath.templates import parameters as params
from goldenpath.templates.loader import Template, TemplateCatalog

TEAM_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"


@dataclass(frozen=True)
class DryRun:
    """What a request would do, and the guardrails' verdict on it, without doing it."""

    template: Template
    parameters: dict[str, Any]
    plan: dict[str, Any]
    verdict: Verdict
    hidden: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Service:
    database: Database
    catalog: TemplateCatalog
    registry: ActionRegistry
    backends: Mapping[str, BackendSettings]
    queue: Queue
    box: SecretBox
    guardrails: Guardrails
    data_dir: Path | None = None

    # --- templates ------------------------------------------------------------------------

    def templates(self) -> list[Template]:
        return list(self.catalog)

    def template(self, name: str) -> Template:
        return self.catalog.get(name)

    # --- requests -------------------------------------------------------------------------

    def dry_run(
        self,
        template_name: str,
        parameters: Mapping[str, Any],
        requester: Requester,
        *,
        exception: bool = False,
    ) -> DryRun:
        template = self.catalog.get(template_name)
        _check_requester(requester)
        _check_access(template, requester)
        values = params.validate(template.schema, parameters)
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
            ),
            secrets,
        )
        shown = {k: MASK if k in hidden else v for k, v in values.items()}
        self._check_names_free(template, plan)
        verdict = self.guardrails.judge_request(
            self.database, template, shown, requester, plan, dry_run=True, exception=exception
        )
        return DryRun(
            template=template, parameters=shown, plan=plan, verdict=verdict, hidden=hidden
        )

    def submit(
        self,
        template_name: str,
        parameters: Mapping[str, Any],
        requester: Requester,
        *,
        justification: str | None = None,
    ) -> RequestRecord:
        """Record a request and queue it, or hold it for approval, or reject it.

        A request the guardrails deny is still recorded (as ``rejected``, with its verdict) and
        then refused with `PolicyDenied`; with a justification it becomes an exception request
        that waits in ``pending_approval`` for someone else to decide.
        """
        if justification is not None:
            justification = _check_justification(justification)
        preview = self.dry_run(
            template_name, parameters, requester, exception=justification is not None
        )
        template, verdict = preview.template, preview.verdict
        status = self._initial_status(template, verdict, justification)
        request_id = queries.new_id()
        with self.database.begin() as conn:
            # The job and the request commit together; a worker sees neither before both.
            job_id = self.queue.defer_request(conn, request_id) if status == "queued" else None
            queries.insert_request(
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
                    "error": _denial_text(verdict) if status == "rejected" else None,
                    "finished_at": queries.now() if status == "rejected" else None,
                    "job_id": job_id,
                },
            )
            queries.insert_steps(
                conn,
                request_id,
                [
                    {
                        "step_id": step.id,
                        "position": position,
                        "name": step.name or step.id,
                        "action": step.action,
                    }
                    for position, step in enumerate(template.document.spec.steps)
                ],
            )
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
                },
            )
            record = queries.get_request(conn, request_id)
        if status == "rejected":
            raise PolicyDenied(
                summary=_denial_text(verdict),
                request_id=request_id,
                violations=[v.as_dict() for v in verdict.violations],
            )
        return record

    def approve(self, request_id: str, actor: str, comment: str | None = None) -> RequestRecord:
        """Approve a request waiting for approval; it is queued at once."""
        return self._decide(request_id, actor, comment, approved=True)

    def reject(self, request_id: str, actor: str, comment: str | None = None) -> RequestRecord:
        return self._decide(request_id, actor, comment, approved=False)

    def _decide(
        self, request_id: str, actor: str, comment: str | None, *, approved: bool
    ) -> RequestRecord:
        _check_uuid("request_id", request_id)
        if comment is not None:
            comment = _check_justification(comment, field="comment", shortest=1)
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id, for_update=True)
            if request.status != "pending_approval":
                raise Conflict(
                    problem=f"request {request_id} is {request.status}, not waiting for approval"
                )
            if actor == request.requested_by:
                raise AccessDenied(problem="nobody may approve or reject their own request")
            status = "queued" if approved else "rejected"
            queries.update_request(
                conn,
                request_id,
                status=status,
                decided_by=actor,
                decision_comment=comment,
                decided_at=queries.now(),
                **(
                    {}
                    if approved
                    else {
                        "finished_at": queries.now(),
                        "error": f"rejected by {actor}" + (f": {comment}" if comment else ""),
                    }
                ),
            )
            queries.record_event(
                conn,
                actor,
                "request.approved" if approved else "request.rejected",
                request_id,
                {"comment": comment, "exception": request.is_exception},
            )
            if approved:
                job_id = self.queue.defer_request(conn, request_id)
                queries.update_request(conn, request_id, job_id=job_id)
            return queries.get_request(conn, request_id)

    def _initial_status(
        self, template: Template, verdict: Verdict, justification: str | None
    ) -> str:
        if not verdict.allowed:
            return "pending_approval" if justification is not None else "rejected"
        if verdict.decision == "require_approval" or template.document.spec.approval == "always":
            return "pending_approval"
        return "queued"

    def request(self, request_id: str) -> RequestRecord:
        _check_uuid("request_id", request_id)
        with self.database.begin() as conn:
            return queries.get_request(conn, request_id)

    def requests(
        self,
        *,
        status: str | None = None,
        template: str | None = None,
        team: str | None = None,
        limit: int = 50,
    ) -> list[RequestRecord]:
        with self.database.begin() as conn:
            return queries.list_requests(
                conn, status=status, template=template, team=team, limit=limit
            )

    def logs(self, request_id: str, after_id: int = 0) -> list[LogLine]:
        _check_uuid("request_id", request_id)
        with self.database.begin() as conn:
            queries.get_request(conn, request_id)
            return queries.logs(conn, request_id, after_id)

    def reveal_secrets(self, request_id: str, actor: str) -> dict[str, Any]:
        """The request's secret outputs, in clear; every reveal is recorded."""
        _check_uuid("request_id", request_id)
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id)
            if request.status != "succeeded":
                raise Conflict(problem=f"request {request_id} has not succeeded; no secrets")
            queries.record_event(
                conn,
                actor,
                "secret.revealed",
                request_id,
                {"names": request.outputs and request.outputs.get("secrets")},
            )
        return dict(self.box.open(request.secret_outputs)) if request.secret_outputs else {}

    # --- resources ------------------------------------------------------------------------

    def resources(
        self, *, team: str | None = None, include_destroyed: bool = False
    ) -> list[ResourceRecord]:
        with self.database.begin() as conn:
            return queries.list_resources(conn, team=team, include_destroyed=include_destroyed)

    def resource(self, resource_id: str) -> ResourceRecord:
        _check_uuid("resource_id", resource_id)
        with self.database.begin() as conn:
            return queries.get_resource(conn, resource_id)

    def destroy(self, resource_id: str, actor: str) -> ResourceRecord:
        """Queue the destruction of a resource; its state becomes ``destroying`` at once."""
        _check_uuid("resource_id", resource_id)
        with self.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id)
            if resource.state == "destroyed":
                raise Conflict(problem=f"resource {resource_id} is already destroyed")
            if resource.state in ("creating",):
                raise Conflict(problem=f"resource {resource_id} is still being created")
            queries.update_resource(conn, resource_id, state="destroying", error=None)
            queries.record_event(conn, actor, "resource.destroy_requested", resource_id, {})
            self.queue.defer_destroy(conn, resource_id)
            return queries.get_resource(conn, resource_id)

    # --- helpers --------------------------------------------------------------------------

    def _check_names_free(self, template: Template, plan: Mapping[str, Any]) -> None:
        with self.database.begin() as conn:
            taken = [
                InvalidInput(
                    field=input_field(template, r["step"], "name"),
                    rule=f"a {r['type']} named '{r['name']}' already exists",
                )
                for r in plan["resources"]
                if queries.name_taken(conn, r["type"], r["backend"], r["name"])
            ]
        if taken:
            raise Conflict(
                problem="; ".join(f"{t.field}: {t.details['rule']}" for t in taken),
                fields=[{"field": t.field, "rule": t.details["rule"]} for t in taken],
            )


def _denial_text(verdict: Verdict) -> str:
    return "; ".join(f"{v.policy}: {v.message}" for v in verdict.violations)


def _check_justification(text: str, field: str = "justification", shortest: int = 10) -> str:
    text = text.strip()
    if not shortest <= len(text) <= 2000:
        raise InvalidInput(field=field, rule=f"must be {shortest} to 2000 characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidInput(field=field, rule="must not contain control characters")
    return text


def _check_requester(requester: Requester) -> None:
    problems = []
    if not re.match(TEAM_PATTERN, requester.team):
        problems.append(InvalidInput(field="team", rule=f"must match the pattern {TEAM_PATTERN}"))
    if not re.match(USER_PATTERN, requester.user):
        problems.append(InvalidInput(field="user", rule=f"must match the pattern {USER_PATTERN}"))
    if problems:
        raise InvalidInputs(problems)


def _check_access(template: Template, requester: Requester) -> None:
    teams = template.document.spec.access.teams
    if "*" not in teams and requester.team not in teams:
        raise AccessDenied(
            problem=f"team '{requester.team}' may not run golden path '{template.name}'"
        )


def _check_uuid(field: str, value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise InvalidInput(field=field, rule="must be a UUID") from None
