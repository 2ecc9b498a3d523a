"""The runner: executes one request's steps in order, records each, and rolls back on failure.

Re-entrant by design. A request picked up again after its worker died starts here again:
finished steps are skipped (their outputs reloaded), the interrupted step runs again and its
action finds what it made before, and an interrupted rollback carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from goldenpath.actions.base import Action, ActionInputs, Context, Observation, ResourceRef
from goldenpath.actions.registry import ActionRegistry
from goldenpath.actions.state_store import StateStore
from goldenpath.errors import (
    ActionError,
    BackendUnavailable,
    Cancelled,
    Conflict,
    GoldenPathError,
    LockLost,
    RequestBusy,
    ResourceTaken,
)
from goldenpath.execution.day2 import is_day2, run_day2
from goldenpath.execution.guardrails import Guardrails, new_violations
from goldenpath.execution.journal import StepJournal, masked, redact
from goldenpath.execution.locks import HeldLock, held
from goldenpath.execution.planner import Iterations, render_context, step_inputs
from goldenpath.execution.steps import (
    INPUT_CHECKPOINT,
    expiry,
    planned_cost,
    requester_of,
    resource_ref,
    revealed,
    secret_inputs,
    watch_for_cancel,
)
from goldenpath.execution.upgrade import is_upgrade, run_upgrade
from goldenpath.policy import Verdict, Violation
from goldenpath.secretbox import SecretBox
from goldenpath.settings import BackendSettings
from goldenpath.store import queries
from goldenpath.store.database import Database
from goldenpath.store.outage import is_database_unreachable
from goldenpath.store.queries import AuditEvent
from goldenpath.store.records import RequestRecord, ResourceRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.rendering import Renderer

logger = logging.getLogger(__name__)
PENDING_MARK = "(known after apply"
# A step's success, written in the caller's next transaction; the audit event it makes is
# appended there with the others (one chain-lock hold for all of them).
StepWrite = Callable[[sa.Connection], AuditEvent]
# The catalog holds one resource per step: a loop would make several under one step's name.
EACH_MAKES_RESOURCES = "'each' cannot repeat {action}, which creates a catalog resource"


def failure_text(exc: BaseException) -> str:
    if isinstance(exc, GoldenPathError):
        return exc.message
    return f"unexpected error: {type(exc).__name__}: {exc}"


@dataclass
class Runner:
    database: Database
    registry: ActionRegistry
    backends: Mapping[str, BackendSettings]
    box: SecretBox
    guardrails: Guardrails
    data_dir: Path | None = None
    # Where actions keep state between runs (Terraform's), sealed.
    state_store: StateStore | None = None
    # Told the request's id after each change a watcher may show (Slack's thread message);
    # it must not block, and its failure never fails the request.
    progress: Callable[[str], None] | None = None
    # Queues the destroy of a resource inside the transaction given, to be tried again until
    # its backend answers: for a rollback that met the backend down.
    destroy_later: Callable[[sa.Connection, str], object] | None = None
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)

    # --- requests -------------------------------------------------------------------------

    def run(self, request_id: str) -> None:
        with self._exclusive(f"goldenpath:request:{request_id}") as acquired:
            if not acquired:
                # Raised, not returned: a returned job counts as done and is deleted, and a
                # request whose lock a stranger (or a dying worker) holds would stay queued.
                raise RequestBusy(request_id=request_id)
            with self._one_statement() as conn:
                request = queries.get_request(conn, request_id)
            if request.finished or request.status == "pending_approval":
                return
            if request.status == "cancelling":  # cancelled while its worker was gone
                self._roll_back(request, "cancelled", final="cancelled")
                return
            if request.status == "rolling_back":
                self._roll_back(request, request.error or "rollback resumed")
                return
            if is_upgrade(request):
                run_upgrade(self, request)
                return
            if is_day2(request):
                run_day2(self, request)
                return
            self._run_steps(request)

    def _start(self, request: RequestRecord, template: Template) -> bool:
        """Checks before the first step (files unchanged, guardrails still allow), then the
        request is ``running``; False when it was finished instead."""
        if not any(s.status != "pending" for s in request.steps):
            if template.bundle_changed():
                self._finish(
                    request.id,
                    "failed",
                    error=f"the files of golden path '{template.name}' changed since this "
                    "request was submitted; nothing was run: submit it again to use them",
                )
                return False
            refused = self._still_denied(request, template)
            if refused:
                self._finish(request.id, "rejected", error=refused)
                return False
        with self._one_statement() as conn:
            queries.update_request(
                conn,
                request.id,
                status="running",
                started_at=request.started_at or queries.now(),
                attempts=request.attempts + 1,
            )
        self._progressed(request.id)
        return True

    def _run_steps(self, request: RequestRecord) -> None:
        template = Template.from_snapshot(request.template_snapshot)
        if not self._start(request, template):
            return
        requester = requester_of(request)
        hidden = self._open(request.secret_parameters)
        context = render_context(template, {**request.parameters, **hidden}, requester)
        secrets: set[str] = {str(v) for v in hidden.values()}
        renderer = Renderer(context, file=str(template.source))
        # A step's success is written with what comes next (the request's end, after the last).
        succeeded: StepWrite | None = None
        for step in template.document.spec.steps:
            record = request.step(step.id)
            assert record is not None
            if record.status == "succeeded":
                outputs = {**(record.outputs or {}), **self._open(record.secret_outputs)}
                secrets.update(str(v) for v in self._open(record.secret_outputs).values())
                context["steps"][step.id] = {"output": outputs}
                continue
            if record.status == "skipped":
                context["steps"][step.id] = {"output": {}}
                continue
            self._write(request.id, succeeded)
            succeeded = None
            try:
                if not renderer.condition(step.if_, f"spec.steps.{step.id}.if"):
                    with self._one_statement() as conn:
                        queries.update_step(conn, request.id, step.id, status="skipped")
                    context["steps"][step.id] = {"output": {}}
                    continue
                self._raise_if_cancelled(request.id)
                action = self.registry.get(step.action)
                outputs, succeeded = self._apply_step(
                    request, template, step.id, action, step_inputs(action, step, renderer), secrets
                )
            except Exception as exc:
                final, error = self._step_failed(request, step.id, exc, secrets)
                if template.document.spec.rollback:
                    self._roll_back(request, error, final=final)
                else:
                    self._finish(request.id, final, error=error)
                return
            context["steps"][step.id] = {"output": outputs}
        self._finish_with_outputs(request, template, renderer, secrets, succeeded)

    def _write(self, request_id: str, write: StepWrite | None) -> None:
        if write is not None:
            with self._begin() as conn:
                queries.record_events(conn, [write(conn)])
            self._progressed(request_id)

    def _apply_step(
        self,
        request: RequestRecord,
        template: Template,
        step_id: str,
        action: Action[Any],
        iterations: Iterations,
        secrets: set[str],
    ) -> tuple[dict[str, Any], StepWrite]:
        """Apply one step: its action once, or once per item of its ``each``. Returns its
        outputs and the write that records its success, for the caller's next transaction."""
        for each_inputs in iterations.inputs:
            secrets.update(secret_inputs(each_inputs))
            if iterations.each and action.plan(
                self._context(request, template, step_id, each_inputs, None, secrets)
            ):
                raise ActionError(problem=EACH_MAKES_RESOURCES.format(action=action.id))
        inputs = iterations.inputs[0] if iterations.inputs else None
        first = (
            self._catalog_entry(request, template, step_id, action, inputs, secrets)
            if inputs is not None and not iterations.each
            else None
        )
        with self._begin() as conn:
            resource_id = None
            if first is not None:
                resource_id = queries.reserve_resource(
                    conn,
                    {
                        "kind": first["type"],
                        "name": first["name"],
                        "backend": first["backend"],
                        "owner_team": request.owner_team,
                        "template_name": request.template_name,
                        "template_version": request.template_version,
                        "request_id": request.id,
                        "step_id": step_id,
                        "config": dict(first["config"]),
                        "monthly_cost_usd": first["monthly_cost_usd"],
                        "expires_at": expiry(request),
                    },
                )
            if inputs is not None and not iterations.each:
                # A step run again keeps the inputs of its first attempt.
                queries.keep_checkpoint(
                    conn, request.id, step_id, INPUT_CHECKPOINT, self.box.seal(revealed(inputs))
                )
            self.step_started(
                conn,
                request.id,
                step_id,
                masked(iterations.shown(), secrets),
                {"action": action.id, "resource": resource_id, "attempt": request.attempts + 1},
            )
        self._progressed(request.id)
        results: list[dict[str, Any]] = []
        secret_names = set(action.secret_outputs)
        for each_inputs in iterations.inputs:
            ctx = self._context(request, template, step_id, each_inputs, resource_id, secrets)
            with self._watch_for_cancel(request.id, ctx.cancelled):
                results.append(action.apply(ctx))
            secret_names |= ctx.declared_secrets
        outputs = iterations.outputs(results)
        secret_part = {k: v for k, v in outputs.items() if k in secret_names}
        plain_part = {k: v for k, v in outputs.items() if k not in secret_names}
        secrets.update(str(v) for v in secret_part.values())

        def succeeded(conn: sa.Connection) -> AuditEvent:
            self.step_succeeded(conn, request.id, step_id, plain_part, secret_part)
            if resource_id is not None:
                queries.update_resource(
                    conn, resource_id, state="active", outputs=plain_part, error=None
                )
            return AuditEvent(
                "worker",
                "step.succeeded",
                f"{request.id}/{step_id}",
                {"outputs": sorted(plain_part), "secret_outputs": sorted(secret_part)},
            )

        return outputs, succeeded

    @staticmethod
    def step_started(
        conn: sa.Connection, request_id: str, step_id: str, shown: Any, event: dict[str, Any]
    ) -> None:
        """The step is running with these (masked) inputs; audited as ``step.started``."""
        queries.update_step(
            conn,
            request_id,
            step_id,
            status="running",
            input=shown,
            started_at=queries.now(),
            error=None,
        )
        queries.record_event(conn, "worker", "step.started", f"{request_id}/{step_id}", event)

    def step_succeeded(
        self,
        conn: sa.Connection,
        request_id: str,
        step_id: str,
        plain: Mapping[str, Any],
        secret: Mapping[str, Any],
    ) -> None:
        """The step is done, with its outputs (the secret ones sealed)."""
        queries.update_step(
            conn,
            request_id,
            step_id,
            status="succeeded",
            outputs=dict(plain),
            secret_outputs=self.box.seal(dict(secret)) if secret else None,
            finished_at=queries.now(),
        )

    def _step_failed(
        self, request: RequestRecord, step_id: str, exc: Exception, secrets: set[str]
    ) -> tuple[str, str]:
        """Record a step's failure (redacted: step, log, audit); the request's final status
        (``failed``, or ``cancelled`` when that was asked) and its error.

        A lost database or a lost run lock is not the step's failure: it is raised again, the
        job runs again once the database is back, and the step, idempotent, finds what it made.
        """
        if isinstance(exc, LockLost) or is_database_unreachable(exc):
            raise exc
        if not isinstance(exc, Cancelled) and self._cancel_asked(request.id):
            exc = Cancelled(detail=failure_text(exc))
        logger.info("request %s step %s failed: %s", request.id, step_id, exc)
        text = redact(failure_text(exc), secrets)
        with self._begin() as conn:
            if isinstance(exc, ResourceTaken):
                # Someone else's resource has the name: nothing of ours to undo, and the
                # catalog must not keep the name reserved.
                queries.release_step_resource(conn, request.id, step_id)
            queries.update_step(
                conn, request.id, step_id, status="failed", error=text, finished_at=queries.now()
            )
            queries.append_log(conn, request.id, step_id, "error", text)
            queries.record_event(
                conn, "worker", "step.failed", f"{request.id}/{step_id}", {"error": text}
            )
        final = "cancelled" if isinstance(exc, Cancelled) else "failed"
        return final, f"step '{step_id}' failed: {text}"

    def _catalog_entry(
        self,
        request: RequestRecord,
        template: Template,
        step_id: str,
        action: Action[Any],
        inputs: ActionInputs,
        secrets: set[str],
    ) -> dict[str, Any] | None:
        """What this step's resource is in the catalog: from the plan judged at submission,
        unless that plan could not know it (its name came from an earlier step's output);
        then the action plans again, now with real inputs."""
        stored = [r for r in request.plan.get("resources", []) if r.get("step") == step_id]
        if stored and PENDING_MARK not in str(stored[0].get("name")):
            entry = dict(stored[0])
            entry["monthly_cost_usd"] = planned_cost(request, step_id, entry["monthly_cost_usd"])
            if len(stored) > 1:
                # A Terraform workspace: the catalog keeps each resource's estimate beside it.
                entry["config"] = {
                    **dict(entry["config"]),
                    "monthly_costs": {
                        str((r.get("normalized") or {}).get("address", r["name"])): r[
                            "monthly_cost_usd"
                        ]
                        for r in stored[1:]
                    },
                }
            return entry
        planned = action.plan(self._context(request, template, step_id, inputs, None, secrets))
        if not planned:
            return None
        entry = planned[0].as_dict()
        entry["monthly_cost_usd"] = planned_cost(request, step_id, planned[0].monthly_cost_usd)
        return entry

    def _finish_with_outputs(
        self,
        request: RequestRecord,
        template: Template,
        renderer: Renderer,
        secrets: set[str],
        succeeded: StepWrite | None,
    ) -> None:
        output = template.document.spec.output
        try:
            values = renderer.render(output.values, "spec.output.values")
            secret_values = renderer.render(output.secrets, "spec.output.secrets")
            links = [
                renderer.render(
                    {k: v for k, v in link.items() if k != "if"}, f"spec.output.links[{i}]"
                )
                for i, link in enumerate(output.links)
                if renderer.condition(link.get("if"), f"spec.output.links[{i}].if")
            ]
            text = renderer.render(output.text, "spec.output.text")
        except GoldenPathError as exc:
            self._write(request.id, succeeded)  # the last step's success, before undoing it
            error = f"outputs could not be rendered: {exc.message}"
            if template.document.spec.rollback:
                self._roll_back(request, error)
            else:
                self._finish(request.id, "failed", error=error)
            return
        self._finish(
            request.id,
            "succeeded",
            outputs={
                "values": values,
                "links": links,
                "text": text,
                "secrets": sorted(secret_values),
            },
            secret_outputs=self.box.seal(secret_values) if secret_values else None,
            first=succeeded,
        )

    def _finish(
        self,
        request_id: str,
        status: str,
        *,
        first: StepWrite | None = None,
        **values: Any,
    ) -> None:
        """The request ends with ``status`` (after the write ``first``, in one transaction)."""
        with self._begin() as conn:
            events = [first(conn)] if first is not None else []
            queries.update_request(
                conn, request_id, status=status, finished_at=queries.now(), **values
            )
            error = values.get("error")
            events.append(
                AuditEvent(
                    "worker", f"request.{status}", request_id, {"error": error} if error else {}
                )
            )
            queries.record_events(conn, events)
        self._progressed(request_id)

    def _progressed(self, request_id: str) -> None:
        if self.progress is None:
            return
        try:
            self.progress(request_id)
        except Exception:
            logger.exception("could not queue the progress notice of request %s", request_id)

    def _still_denied(self, request: RequestRecord, template: Template) -> str | None:
        """Judge the stored plan again just before anything is applied.

        Org policies may have changed since submission. Violations an approver accepted as an
        exception stay accepted; any other deny refuses the request before it touches anything.
        """
        requester = requester_of(request)
        verdict = self.guardrails.judge_request(
            self.database,
            template,
            request.parameters,
            requester,
            request.plan,
            exception=request.is_exception,
        )
        approved = request.verdict if request.is_exception and request.decided_by else None
        fresh = new_violations(verdict, approved)
        if not fresh:
            return None
        return "denied by guardrail before apply: " + "; ".join(fresh)

    # --- rollback and destroy -------------------------------------------------------------

    def _roll_back(self, request: RequestRecord, error: str, *, final: str = "failed") -> None:
        with self._begin() as conn:
            queries.update_request(conn, request.id, status="rolling_back", error=error)
            resources = {r.step_id: r for r in queries.resources_of_request(conn, request.id)}
            current = queries.get_request(conn, request.id)
        template = Template.from_snapshot(request.template_snapshot)
        incomplete = []
        for step in reversed(current.steps):
            self._check_lock()
            resource = resources.get(step.step_id)
            if resource is None or resource.state == "destroyed":
                if step.status == "succeeded":
                    with self._begin() as conn:
                        queries.update_step(conn, request.id, step.step_id, status="rolled_back")
                continue
            try:
                self.destroy_resource(resource, template=template, actor="rollback")
            except Exception as exc:
                if isinstance(exc, LockLost) or is_database_unreachable(exc):
                    raise
                # The resource stays in the catalog as 'failed', holding its name, until it is
                # destroyed: by a queued destroy once its backend answers again, if the backend
                # was unreachable, else by someone who looks (we cannot tell what is left).
                later = isinstance(exc, BackendUnavailable) and self.destroy_later is not None
                note = "; it is destroyed once the backend answers again" if later else ""
                incomplete.append(f"{resource.kind} '{resource.name}': {failure_text(exc)}{note}")
                with self._begin() as conn:
                    if later:
                        assert self.destroy_later is not None
                        self.destroy_later(conn, resource.id)
                    if step.status != "failed":
                        queries.update_step(
                            conn,
                            request.id,
                            step.step_id,
                            status="rollback_failed",
                            error=failure_text(exc),
                        )
                continue
            if step.status != "failed":
                with self._begin() as conn:
                    queries.update_step(conn, request.id, step.step_id, status="rolled_back")
        if incomplete:
            error += "; rollback incomplete: " + "; ".join(incomplete)
        self._finish(request.id, final, error=error)

    def destroy_resource(
        self, resource: ResourceRecord, *, template: Template | None = None, actor: str = "worker"
    ) -> None:
        """Destroy one catalogued resource through its action; idempotent."""
        with self.holding(resource.id):
            with self._one_statement() as conn:
                queries.update_resource(conn, resource.id, state="destroying", error=None)
            action, ctx, ref = self._resource_handles(resource, template)
            try:
                action.destroy(ctx, ref)
            except Exception as exc:
                with self._begin() as conn:
                    queries.update_resource(
                        conn, resource.id, state="failed", error=failure_text(exc)
                    )
                    queries.record_event(
                        conn,
                        actor,
                        "resource.destroy_failed",
                        resource.id,
                        {"error": failure_text(exc)},
                    )
                raise
            with self._begin() as conn:
                queries.update_resource(
                    conn, resource.id, state="destroyed", destroyed_at=queries.now()
                )
                queries.record_event(conn, actor, "resource.destroyed", resource.id, {})

    @contextmanager
    def holding(self, resource_id: str) -> Iterator[None]:
        """The resource's lock, for one operation on it at a time (destroy, upgrade, day 2)."""
        with self._exclusive(f"goldenpath:resource:{resource_id}") as acquired:
            if not acquired:
                raise Conflict(problem=f"resource {resource_id} is busy with another operation")
            yield

    def observe_resource(self, resource: ResourceRecord, *, actor: str = "worker") -> Observation:
        """Compare a resource's live state with what was made; mark it drifted or active."""
        action, ctx, ref = self._resource_handles(resource, None)
        observation = action.observe(ctx, ref)
        state = "active" if observation.in_sync else "drifted"
        drift = [
            {"field": d.field, "expected": d.expected, "actual": d.actual}
            for d in observation.drift
        ]
        with self.database.begin() as conn:
            current = queries.get_resource(conn, resource.id)
            if current.state in ("active", "drifted"):  # never over a destroy in progress
                error = None if observation.exists else "not found on its backend"
                queries.update_resource(conn, resource.id, state=state, error=error)
            queries.record_event(
                conn,
                actor,
                "resource.checked",
                resource.id,
                {"exists": observation.exists, "drift": drift},
            )
        return observation

    def _resource_handles(
        self, resource: ResourceRecord, template: Template | None
    ) -> tuple[Action[Any], Context[Any], ResourceRef]:
        """The action, a context and a reference for working on a catalogued resource."""
        request, template, action, inputs = self.made_with(resource, template)
        ctx = self._context(request, template, resource.step_id, inputs, resource.id, set())
        return action, ctx, resource_ref(resource)

    def made_with(
        self, resource: ResourceRecord, template: Template | None = None
    ) -> tuple[RequestRecord, Template, Action[Any], ActionInputs]:
        """The request that made a resource, its template, the step's action and the inputs
        the resource now has (an upgrade replaces them)."""
        with self.database.begin() as conn:
            request = queries.get_request(conn, resource.request_id)
            stored = queries.get_checkpoint(
                conn, resource.request_id, resource.step_id, INPUT_CHECKPOINT
            )
        template = template or Template.from_snapshot(request.template_snapshot)
        step = next(s for s in template.document.spec.steps if s.id == resource.step_id)
        action = self.registry.get(step.action)
        raw_input = self.box.open(stored) if stored else {"name": resource.name}
        return request, template, action, action.Inputs.model_validate(raw_input)

    # --- helpers --------------------------------------------------------------------------

    def _context(
        self,
        request: RequestRecord,
        template: Template,
        step_id: str,
        inputs: ActionInputs,
        resource_id: str | None,
        secrets: set[str],
    ) -> Context[Any]:
        return Context(
            inputs=inputs,
            backends=self.backends,
            owner_team=request.owner_team,
            requested_by=request.requested_by,
            template_name=template.name,
            template_dir=template.source.parent,
            data_dir=self.data_dir,
            plan_guard=self._plan_guard(request, template),
            state_store=self.state_store,
            request_id=request.id,
            step_id=step_id,
            resource_id=resource_id,
            journal=StepJournal(self.database, self.box, request.id, step_id, secrets),
        )

    def _cancel_asked(self, request_id: str) -> bool:
        with self._one_statement() as conn:
            return queries.request_status(conn, request_id) == "cancelling"

    def _raise_if_cancelled(self, request_id: str) -> None:
        if self._cancel_asked(request_id):
            raise Cancelled(detail="before the step started")

    def _watch_for_cancel(
        self, request_id: str, cancelled: threading.Event
    ) -> AbstractContextManager[None]:
        return watch_for_cancel(lambda: self._cancel_asked(request_id), cancelled)

    def _plan_guard(
        self, request: RequestRecord, template: Template
    ) -> Callable[[Mapping[str, Any]], Verdict]:
        """The Terraform plan judge at apply time. On an approved exception, what the approver
        accepted (the submitted verdict's violations) no longer denies; a plan that asks for an
        approval nobody gave (it changed since submission) is refused."""
        judge = self.guardrails.terraform_guard(template)
        decided = request.decided_by is not None
        accepted = (
            {v["message"] for v in (request.verdict or {}).get("violations", [])}
            if request.is_exception and decided
            else set()
        )

        def guarded(show_json: Mapping[str, Any]) -> Verdict:
            verdict = judge(show_json)
            unapproved = () if decided else verdict.approvals
            return Verdict.of(
                violations=[
                    *(v for v in verdict.violations if v.message not in accepted),
                    *(
                        Violation(
                            policy=a.policy,
                            rule="deny",
                            message=f"needs an approval nobody gave: {a.message}",
                            package=a.package,
                        )
                        for a in unapproved
                    ),
                ],
                warnings=verdict.warnings,
                approvals=verdict.approvals,
            )

        return guarded

    def _open(self, sealed: bytes | None) -> dict[str, Any]:
        return dict(self.box.open(sealed)) if sealed else {}

    @contextmanager
    def _exclusive(self, key: str) -> Iterator[HeldLock]:
        """The run lock ``key`` (see `execution.locks`); while it is held, this thread's
        reads and writes (`_begin`, `_one_statement`) go through its connection."""
        with held(self.database, key) as lock:
            previous, self._local.lock = getattr(self._local, "lock", None), lock
            try:
                yield lock
            finally:
                self._local.lock = previous

    def _held(self) -> HeldLock | None:
        lock: HeldLock | None = getattr(self._local, "lock", None)
        return lock if lock else None

    def _begin(self) -> AbstractContextManager[sa.Connection]:
        """A transaction: on this thread's run lock's connection while it holds one."""
        lock = self._held()
        return lock.transaction() if lock is not None else self.database.begin()

    def _one_statement(self) -> AbstractContextManager[sa.Connection]:
        """Autocommit, for one read or one write that needs nothing beside it: on this
        thread's run lock's connection while it holds one."""
        lock = self._held()
        return lock.statement() if lock is not None else self.database.autocommit()

    def _check_lock(self) -> None:
        """Before work that does not go through the lock's connection: go on only while this
        thread's run lock is still held."""
        lock = self._held()
        if lock is not None:
            lock.check()
