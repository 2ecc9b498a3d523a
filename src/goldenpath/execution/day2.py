"""Running a day-2 request: one of a template's named operations (``spec.day2``) on what a
request made.

A day-2 request is an ordinary request (queued, judged, audited, cancellable) whose plan carries
``day2``: the operation's name and the resource each step works on. Each step's operation changes
its resource in place; then, in one transaction, the platform's records follow: the outputs it
replaced (a new password sealed where the old one was, in the resource's step and in the outputs
of the request that made it), the config it set, and the inputs observe and destroy read. A step
interrupted by a crash runs again with its checkpoints (the same new password), so the records
never hand out a password that does not work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from goldenpath.actions.base import ActionInputs, ResourceOperation
from goldenpath.errors import Conflict, ResourceBusy
from goldenpath.execution.journal import masked
from goldenpath.execution.planner import render_context, step_inputs
from goldenpath.execution.steps import INPUT_CHECKPOINT, requester_of, revealed
from goldenpath.store import queries
from goldenpath.store.records import RequestRecord, ResourceRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.model import Day2Step
from goldenpath.templates.rendering import Renderer

if TYPE_CHECKING:
    from goldenpath.execution.runner import Runner

LIVE = ("active", "drifted")


def is_day2(request: RequestRecord) -> bool:
    return bool(request.plan.get("day2"))


def resource_view(resource: ResourceRecord) -> dict[str, Any]:
    """What a day-2 step's inputs see of its resource as ``resource``."""
    return {
        "id": resource.id,
        "name": resource.name,
        "kind": resource.kind,
        "config": dict(resource.config),
        "outputs": dict(resource.outputs or {}),
    }


def run_day2(runner: Runner, request: RequestRecord) -> None:
    template = Template.from_snapshot(request.template_snapshot)
    day2: dict[str, Any] = request.plan["day2"]
    declared = template.document.spec.day2_action(day2["action"])
    assert declared is not None  # the service planned it from this very snapshot
    if not runner._start(request, template):
        return
    context = render_context(template, request.parameters, requester_of(request))
    secrets: set[str] = set()
    for step in declared.steps:
        record = request.step(step.id)
        assert record is not None
        with runner.database.begin() as conn:
            resource = queries.get_resource(conn, day2["resources"][step.resource])
        context["resource"] = resource_view(resource)
        if record.status in ("succeeded", "skipped"):
            opened = runner._open(record.secret_outputs)
            secrets.update(str(v) for v in opened.values())
            context["steps"][step.id] = {"output": {**(record.outputs or {}), **opened}}
            continue
        runner._check_lock()
        renderer = Renderer(context, file=str(template.source))
        try:
            if not renderer.condition(step.if_, f"spec.day2.{declared.name}.{step.id}.if"):
                with runner.database.begin() as conn:
                    queries.update_step(conn, request.id, step.id, status="skipped")
                context["steps"][step.id] = {"output": {}}
                continue
            runner._raise_if_cancelled(request.id)
            outputs = _operate(runner, request, template, step, renderer, resource, secrets)
        except ResourceBusy:
            # Another operation (a destroy, a second day-2 run) holds the resource: the job
            # runs again shortly, the step not started.
            raise
        except Exception as exc:
            # Nothing to roll back: an operation changes in place, and what an earlier step
            # changed is recorded on its resource.
            final, error = runner._step_failed(request, step.id, exc, secrets)
            runner._finish(request.id, final, error=error)
            return
        context["steps"][step.id] = {"output": outputs}
    _finish(runner, request, declared.name, day2["resources"])


def _operate(
    runner: Runner,
    request: RequestRecord,
    template: Template,
    step: Day2Step,
    renderer: Renderer,
    resource: ResourceRecord,
    secrets: set[str],
) -> dict[str, Any]:
    """Run one step's operation on its resource (under the resource's lock); record it."""
    operation = runner.registry.get(step.action)
    assert isinstance(operation, ResourceOperation)
    [inputs] = step_inputs(operation, step, renderer).inputs
    with runner._exclusive(f"goldenpath:resource:{resource.id}") as acquired:
        if not acquired:
            raise ResourceBusy(resource_id=resource.id, request_id=request.id)
        with runner.database.begin() as conn:
            resource = queries.get_resource(conn, resource.id)  # as it is now, under the lock
        if resource.state not in LIVE:
            raise Conflict(problem=f"resource {resource.id} is {resource.state}")
        _, made, ref = runner._resource_handles(resource, None)
        with runner.database.begin() as conn:
            runner.step_started(
                conn,
                request.id,
                step.id,
                masked(revealed(inputs), secrets),
                {"action": operation.id, "resource": resource.id, "day2": request.kind},
            )
        ctx = runner._context(request, template, step.id, inputs, resource.id, secrets)
        with runner._watch_for_cancel(request.id, ctx.cancelled):
            outputs = operation.operate(ctx, ref, made.inputs)
        secret_names = operation.secret_outputs | ctx.declared_secrets
        secret_part = {k: v for k, v in outputs.items() if k in secret_names}
        plain_part = {k: v for k, v in outputs.items() if k not in secret_names}
        secrets.update(str(v) for v in secret_part.values())
        changes = operation.changes(inputs)
        with runner.database.begin() as conn:
            queries.update_step(
                conn,
                request.id,
                step.id,
                status="succeeded",
                outputs=plain_part,
                secret_outputs=runner.box.seal(secret_part) if secret_part else None,
                finished_at=queries.now(),
            )
            _record_on_resource(conn, runner, request, resource, plain_part, secret_part)
            if changes:
                _record_changes(conn, runner, request, resource, made.inputs, changes)
            queries.record_event(
                conn,
                request.requested_by,
                "resource.operated",
                resource.id,
                {
                    "request": request.id,
                    "action": request.kind,
                    "changes": changes,
                    "outputs": sorted(plain_part),
                    "secret_outputs": sorted(secret_part),
                },
            )
    return outputs


def _record_on_resource(
    conn: sa.Connection,
    runner: Runner,
    request: RequestRecord,
    resource: ResourceRecord,
    plain_part: Mapping[str, Any],
    secret_part: Mapping[str, Any],
) -> None:
    """The operation's outputs replace those of the same name wherever the platform keeps the
    resource's: its step in the request that made it, and that request's rendered outputs."""
    making = queries.get_request(conn, resource.request_id)
    made = making.step(resource.step_id)
    assert made is not None
    step_plain = {**(made.outputs or {}), **plain_part}
    step_secret = {**runner._open(made.secret_outputs), **secret_part}
    queries.update_step(
        conn,
        making.id,
        made.step_id,
        outputs=step_plain,
        secret_outputs=runner.box.seal(step_secret) if step_secret else None,
    )
    queries.update_resource(conn, resource.id, outputs={**(resource.outputs or {}), **plain_part})
    if making.status != "succeeded":
        return
    template = Template.from_snapshot(making.template_snapshot)
    hidden = runner._open(making.secret_parameters)
    context = render_context(template, {**making.parameters, **hidden}, requester_of(making))
    for step in making.steps:
        own = (
            {**step_plain, **step_secret}
            if step.step_id == made.step_id
            else {**(step.outputs or {}), **runner._open(step.secret_outputs)}
        )
        context["steps"][step.step_id] = {"output": own}
    renderer = Renderer(context, file=str(template.source))
    output = template.document.spec.output
    values = renderer.render(output.values, "spec.output.values")
    secret_values = renderer.render(output.secrets, "spec.output.secrets")
    queries.update_request(
        conn,
        making.id,
        outputs={**(making.outputs or {}), "values": values, "secrets": sorted(secret_values)},
        secret_outputs=runner.box.seal(secret_values) if secret_values else None,
    )


def _record_changes(
    conn: sa.Connection,
    runner: Runner,
    request: RequestRecord,
    resource: ResourceRecord,
    made_with: ActionInputs,
    changes: Mapping[str, Any],
) -> None:
    """The config the operation set, and the inputs observe and destroy now read."""
    planned = next((r for r in request.plan["resources"] if r["step"] == resource.step_id), None)
    queries.update_resource(
        conn,
        resource.id,
        config={**resource.config, **changes},
        monthly_cost_usd=planned["monthly_cost_usd"] if planned else resource.monthly_cost_usd,
    )
    fields = type(made_with).model_fields
    now_made_with = made_with.model_copy(update={k: v for k, v in changes.items() if k in fields})
    queries.replace_checkpoint(
        conn,
        resource.request_id,
        resource.step_id,
        INPUT_CHECKPOINT,
        runner.box.seal(revealed(now_made_with)),
    )


def _finish(
    runner: Runner, request: RequestRecord, name: str, resources: Mapping[str, str]
) -> None:
    """The request ends with the outputs of what it changed, as the making request now shows
    them (its secrets revealed through the usual audited reveal of this request)."""
    with runner.database.begin() as conn:
        changed = [queries.get_resource(conn, i) for i in dict.fromkeys(resources.values())]
        makers = [queries.get_request(conn, r.request_id) for r in changed]
    values: dict[str, Any] = {}
    secret_values: dict[str, Any] = {}
    for maker in makers:
        values.update((maker.outputs or {}).get("values", {}))
        secret_values.update(runner._open(maker.secret_outputs))
    runner._finish(
        request.id,
        "succeeded",
        outputs={
            "values": values,
            "links": [],
            "text": f"{name} done on {', '.join(sorted(r.name for r in changed))}",
            "secrets": sorted(secret_values),
        },
        secret_outputs=runner.box.seal(secret_values) if secret_values else None,
    )
