"""Running an upgrade request: the resources an older version made, changed in place to match
the new version, step by step.

An upgrade request is an ordinary request (queued, judged, audited, cancellable) whose plan
carries ``upgrade``: the resource each step changes and whether it changes (``update``) or not
(``none``). A step already done is not run again, and `Action.update` is idempotent, so a worker
killed mid-way resumes without a second change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from goldenpath.execution.journal import masked
from goldenpath.execution.planner import render_context, step_inputs
from goldenpath.execution.steps import INPUT_CHECKPOINT, requester_of, resource_ref, revealed
from goldenpath.store import queries
from goldenpath.store.records import RequestRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.rendering import Renderer

if TYPE_CHECKING:
    from goldenpath.execution.runner import Runner


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
    for step in template.document.spec.steps:
        record = request.step(step.id)
        resource_id = upgrade["resources"].get(step.id)
        with runner.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id) if resource_id else None
        context["steps"][step.id] = {"output": dict(resource.outputs or {}) if resource else {}}
        if record is None or record.status in ("succeeded", "skipped"):
            if record is not None and record.status == "succeeded" and resource is not None:
                changed.append(resource.name)
            continue
        if upgrade["changes"].get(step.id) != "update" or resource is None:
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
                    {"action": action.id, "resource": resource.id, "upgrade": True},
                )
            ctx = runner._context(request, template, step.id, inputs, resource.id, secrets)
            outputs = action.update(ctx, resource_ref(resource))
        except Exception as exc:
            # Recorded as any step's failure; nothing to roll back: what earlier steps changed
            # in place stays changed, and is recorded as such on each resource.
            final, error = runner._step_failed(request, step.id, exc, secrets)
            runner._finish(request.id, final, error=error)
            return
        planned = next(r for r in request.plan["resources"] if r["step"] == step.id)
        with runner.database.begin() as conn:
            queries.update_step(
                conn,
                request.id,
                step.id,
                status="succeeded",
                outputs={k: v for k, v in outputs.items() if k not in action.secret_outputs},
                finished_at=queries.now(),
            )
            queries.update_resource(
                conn,
                resource.id,
                config=dict(planned["config"]),
                template_version=request.template_version,
                monthly_cost_usd=planned.get("monthly_cost_usd"),
                error=None,
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
                    "from": upgrade["from_versions"].get(step.id),
                    "to": request.template_version,
                    "changes": upgrade["reasons"].get(step.id, []),
                },
            )
        changed.append(resource.name)
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
            "secrets": [],
        },
    )
