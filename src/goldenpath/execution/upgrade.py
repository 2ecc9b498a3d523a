"""Running an upgrade request: the resources an older version made, changed to match the new
version, step by step.

An upgrade request is an ordinary request (queued, judged, audited, cancellable) whose plan
carries ``upgrade``: the resource each step changes and how: ``update`` (in place), ``replace``
(destroyed and made again; only when the upgrade was asked with ``allow_replace``) or ``none``.
A step already done is not run again, `Action.update` is idempotent and `Action.replace`
resumes after the destroy it checkpointed, so a worker killed mid-way resumes without a
second change.

Nothing is rolled back when a step fails: what earlier steps changed stays changed (recorded
on each resource), and a resource destroyed to be made again is marked ``failed`` (a retry of
the request makes it again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from goldenpath.actions.base import REPLACED_CHECKPOINT, Action, Context
from goldenpath.errors import LockLost
from goldenpath.execution.journal import masked
from goldenpath.execution.planner import render_context, step_inputs
from goldenpath.execution.steps import INPUT_CHECKPOINT, requester_of, resource_ref, revealed
from goldenpath.store import queries
from goldenpath.store.outage import is_database_unreachable
from goldenpath.store.records import RequestRecord, ResourceRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.rendering import Renderer

if TYPE_CHECKING:
    from goldenpath.execution.runner import Runner

CHANGING = ("update", "replace")


def is_upgrade(request: RequestRecord) -> bool:
    return bool(request.plan.get("upgrade"))


def run_upgrade(runner: Runner, request: RequestRecord) -> None:
    template = Template.from_snapshot(request.template_snapshot)
    upgrade: dict[str, Any] = request.plan["upgrade"]
    if not runner._start(request, template):
        return
    hidden = runner._open(request.secret_parameters)
    context = render_context(template, {**request.parameters, **hidden}, requester_of(request))
    secrets = {str(v) for v in hidden.values()}
    renderer = Renderer(context, file=str(template.source))
    changed: list[str] = []
    revealed_secrets: dict[str, Any] = {}
    for step in template.document.spec.steps:
        record = request.step(step.id)
        resource_id = upgrade["resources"].get(step.id)
        with runner.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id) if resource_id else None
        context["steps"][step.id] = {"output": dict(resource.outputs or {}) if resource else {}}
        if record is None or record.status in ("succeeded", "skipped"):
            if record is not None and record.status == "succeeded" and resource is not None:
                changed.append(resource.name)
                opened = runner._open(record.secret_outputs)
                context["steps"][step.id]["output"].update(opened)
                revealed_secrets |= {f"{step.id}.{k}": v for k, v in opened.items()}
            continue
        change = upgrade["changes"].get(step.id)
        if change not in CHANGING or resource is None:
            with runner.database.begin() as conn:
                queries.update_step(conn, request.id, step.id, status="skipped")
            continue
        runner._check_lock()
        try:
            runner._raise_if_cancelled(request.id)
            action = runner.registry.get(step.action)
            [inputs] = step_inputs(action, step, renderer).inputs
            with runner.database.begin() as conn:
                runner.step_started(
                    conn,
                    request.id,
                    step.id,
                    masked(revealed(inputs), secrets),
                    {"action": action.id, "resource": resource.id, "upgrade": change},
                )
            ctx = runner._context(request, template, step.id, inputs, resource.id, secrets)
            with (
                runner.holding(resource.id),
                runner._watch_for_cancel(request.id, ctx.cancelled),
            ):
                outputs = _change(runner, request, action, ctx, resource, change)
        except Exception as exc:
            final, error = runner._step_failed(request, step.id, exc, secrets)
            _mark_if_destroyed(runner, request, step.id, resource, error)
            runner._finish(request.id, final, error=error)
            return
        secret_names = action.secret_outputs | ctx.declared_secrets
        secret_part = {k: v for k, v in outputs.items() if k in secret_names}
        secrets.update(str(v) for v in secret_part.values())
        context["steps"][step.id] = {"output": outputs}
        revealed_secrets |= {f"{step.id}.{k}": v for k, v in secret_part.items()}
        _record(runner, request, step.id, resource, inputs, outputs, secret_part, upgrade)
        changed.append(resource.name)
    if not _destroy_removed(runner, request, template, upgrade):
        return
    with runner.database.begin() as conn:
        for step_id, resource_id in upgrade["resources"].items():
            if upgrade["changes"].get(step_id) == "none":
                # Nothing to change, but it now answers to the new version.
                queries.update_resource(
                    conn, resource_id, template_version=request.template_version
                )
    runner._finish(
        request.id,
        "succeeded",
        outputs={
            "values": {"upgraded": sorted(changed)},
            "links": [],
            "text": f"upgraded to {template.name}@{template.version}",
            "secrets": sorted(revealed_secrets),
        },
        secret_outputs=runner.box.seal(revealed_secrets) if revealed_secrets else None,
    )


def _change(
    runner: Runner,
    request: RequestRecord,
    action: Action[Any],
    ctx: Context[Any],
    resource: ResourceRecord,
    change: str,
) -> dict[str, Any]:
    if change == "update":
        return action.update(ctx, resource_ref(resource))
    # Destroyed with what made it (its template's files, its current inputs), made again with
    # the new version's; the step's log and checkpoints are the upgrade's.
    _, old_template, _, old_inputs = runner.made_with(resource)
    old = runner._context(request, old_template, ctx.step_id, old_inputs, resource.id, set())
    return action.replace(old, ctx, resource_ref(resource))


def _record(
    runner: Runner,
    request: RequestRecord,
    step_id: str,
    resource: ResourceRecord,
    inputs: Any,
    outputs: dict[str, Any],
    secret_part: dict[str, Any],
    upgrade: dict[str, Any],
) -> None:
    """The step done, the resource at the new version with its new config, inputs and outputs,
    and ``resource.upgraded`` in the audit log: one transaction."""
    planned = next(r for r in request.plan["resources"] if r["step"] == step_id)
    plain = {k: v for k, v in outputs.items() if k not in secret_part}
    change = upgrade["changes"][step_id]
    with runner.database.begin() as conn:
        runner.step_succeeded(conn, request.id, step_id, plain, secret_part)
        queries.update_resource(
            conn,
            resource.id,
            kind=planned["type"],
            name=planned["name"],
            backend=planned["backend"],
            config=dict(planned["config"]),
            outputs=plain,
            template_version=request.template_version,
            monthly_cost_usd=planned.get("monthly_cost_usd"),
            error=None,
            # Made again: there (a resource changed in place keeps its state, drifted or not).
            **({"state": "active"} if change == "replace" else {}),
        )
        # Observe and destroy read the inputs the resource was made with: now these.
        queries.replace_checkpoint(
            conn,
            resource.request_id,
            resource.step_id,
            INPUT_CHECKPOINT,
            runner.box.seal(revealed(inputs)),
        )
        queries.record_event(
            conn,
            request.requested_by,
            "resource.upgraded",
            resource.id,
            {
                "request": request.id,
                "from": upgrade["from_versions"].get(step_id),
                "to": request.template_version,
                "change": change,
                "changes": upgrade["reasons"].get(step_id, []),
            },
        )


def _mark_if_destroyed(
    runner: Runner, request: RequestRecord, step_id: str, resource: ResourceRecord, error: str
) -> None:
    """A replacement that failed after the old resource was destroyed: the catalog says so
    (``failed``, still holding its name) instead of showing it as there."""
    with runner.database.begin() as conn:
        if queries.get_checkpoint(conn, request.id, step_id, REPLACED_CHECKPOINT) is None:
            return
        queries.update_resource(
            conn,
            resource.id,
            state="failed",
            error=f"destroyed to be made again by upgrade {request.id}, not made again: {error}",
        )


def _destroy_removed(
    runner: Runner, request: RequestRecord, template: Template, upgrade: dict[str, Any]
) -> bool:
    """Resources whose step the new version no longer has, destroyed when the upgrade was
    allowed to replace (their outcome is ``replace``); False when a destroy failed."""
    steps = {s.id for s in template.document.spec.steps}
    for step_id, resource_id in upgrade["resources"].items():
        if step_id in steps or upgrade["changes"].get(step_id) != "replace":
            continue
        runner._check_lock()
        with runner.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id)
        if resource.state == "destroyed":
            continue
        try:
            runner.destroy_resource(resource, actor=request.requested_by)
        except Exception as exc:
            if isinstance(exc, LockLost) or is_database_unreachable(exc):
                raise
            from goldenpath.execution.runner import failure_text

            runner._finish(
                request.id,
                "failed",
                error=f"{resource.kind} '{resource.name}', which {template.name}@"
                f"{template.version} no longer makes, could not be destroyed: "
                f"{failure_text(exc)}",
            )
            return False
    return True
