"""``terraform:apply``: a Terraform module shipped with the template, applied to its own workspace.

Every run starts from a fresh copy of the module under ``<data_dir>/terraform/<workspace>`` and
keeps its state in the platform's database, sealed with the platform's key: Terraform's
``http`` backend, served for the run by `StateServer` (``state: pg`` and ``state: remote``
backends keep it elsewhere). ``apply``
runs init, plan to a saved plan file, has the guardrails judge ``terraform show -json`` of it,
and applies exactly that plan; a denied plan applies nothing. Outputs Terraform marks
``sensitive`` are declared secret, so they go to the encrypted store, never the catalog.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from goldenpath.actions.base import (
    Action,
    ActionInputs,
    Context,
    Drift,
    Observation,
    PlanContext,
    PlannedResource,
    ResourceRef,
    UpgradeChange,
)
from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform import changes, diagnostics, saved_plan
from goldenpath.actions.terraform.backend import DEFAULT_BACKEND, TerraformBackend, resolve_backend
from goldenpath.actions.terraform.cli import TerraformCli
from goldenpath.actions.terraform.init_cache import INIT_CACHE, InitCache
from goldenpath.actions.terraform.process import Deadline
from goldenpath.actions.terraform.state import (
    import_pg_state,
    probe,
    schema_name,
    workspace_lock,
)
from goldenpath.actions.terraform.state_server import StateServer
from goldenpath.actions.terraform.workspace import module_source, prepare, var_file_paths
from goldenpath.errors import ActionError, ConfigurationError, PolicyDenied

WORKSPACE = r"^[a-z][a-z0-9-]{1,62}$"
BACKEND_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
VARIABLE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$")
PLAN_FILE = "tfplan"

Log = Callable[[str, str], None]


class TerraformApplyInputs(ActionInputs):
    module: str = Field(
        min_length=1, max_length=255, description="The module's folder, inside the template."
    )
    workspace: str = Field(
        pattern=WORKSPACE,
        description="The workspace (and resource) name: its own state and working directory.",
    )
    variables: dict[str, Any] = Field(
        default_factory=dict, description="Terraform variables, usually rendered from parameters."
    )
    var_files: list[str] = Field(
        default_factory=list, max_length=20, description="*.tfvars files inside the template."
    )
    timeout_seconds: int = Field(
        default=600, ge=1, le=3600, description="For the whole operation, lock waits included."
    )
    backend: str = Field(default=DEFAULT_BACKEND, pattern=BACKEND_NAME)

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not VARIABLE_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid Terraform variable name")
        return value


class TerraformApply(Action[TerraformApplyInputs]):
    id = "terraform:apply"
    description = (
        "Apply a Terraform module shipped with the golden path, with its state in PostgreSQL "
        "and its plan judged by the guardrails before anything changes."
    )
    Inputs = TerraformApplyInputs
    examples = (
        {
            "module": "module",
            "workspace": "payments-api",
            "variables": {"name": "payments-api", "owner": "payments", "tier": "silver"},
        },
    )

    def plan(self, ctx: PlanContext[TerraformApplyInputs]) -> list[PlannedResource]:
        """Init, plan and ``show -json`` in a throw-away copy; state read, never locked."""
        inputs = ctx.inputs
        backend = resolve_backend(ctx.backends, inputs.backend)
        source = module_source(ctx.template_dir, inputs.module)
        var_files = var_file_paths(ctx.template_dir, inputs.var_files)
        deadline = Deadline.after(inputs.timeout_seconds)
        with _scratch(ctx.data_dir) as scratch, _state_for_plan(ctx, backend) as state:
            workdir = prepare(source, scratch, inputs.variables, state_backend=state.kind)
            cli = _cli(
                backend, workdir, inputs.workspace, deadline, _quiet, state, var_files, ctx.data_dir
            )
            made_from = ""
            if state.saved_plans is not None:  # the state as it is before the plan reads it
                made_from = saved_plan.digest(cli, state.saved_plans, inputs.workspace)
            cli.init()
            cli.plan("-lock=false", out=PLAN_FILE)
            document = cli.show_json(PLAN_FILE)
            planned = (workdir / PLAN_FILE).read_bytes() if made_from else b""
        _judge(ctx, document, _quiet)
        if state.saved_plans is not None:
            saved_plan.keep(state.saved_plans, inputs.workspace, made_from, planned, document)
        return changes.planned_resources(
            document, workspace=inputs.workspace, backend=backend.name, module=inputs.module
        )

    def apply(self, ctx: Context[TerraformApplyInputs]) -> dict[str, Any]:
        return self._apply(ctx, destroying=True)

    def upgrade_change(
        self, recorded: Mapping[str, Any], planned: Mapping[str, Any]
    ) -> UpgradeChange:
        """From the plan itself: planned against the workspace's real state, it lists what the
        new version changes. Anything destroyed (replaced, renamed, removed) loses its data."""
        found = (planned.get("plan") or {}).get("changes") or {}
        if not found:
            return UpgradeChange("none")
        described = tuple(f"{address}: {kind}" for address, kind in sorted(found.items()))
        lost = sorted(a for a, kind in found.items() if kind in changes.DESTROYING)
        if lost:
            return UpgradeChange(
                "replace",
                (*described, f"terraform plan destroys {', '.join(lost)}: its data is lost"),
            )
        return UpgradeChange("update", described)

    def update(self, ctx: Context[TerraformApplyInputs], resource: ResourceRef) -> dict[str, Any]:
        """An apply whose plan changes or adds, and destroys nothing (else: replace needed)."""
        return self._apply(ctx, destroying=False)

    def replace(
        self,
        old: Context[TerraformApplyInputs],
        new: Context[TerraformApplyInputs],
        resource: ResourceRef,
    ) -> dict[str, Any]:
        """One apply of the new module on the workspace's state: Terraform destroys and makes
        again what its plan says, and nothing else (a resource renamed, not the workspace). A
        workspace that moves (another name or backend) is destroyed, then made anew."""
        where = (old.inputs.workspace, old.inputs.backend)
        if where != (new.inputs.workspace, new.inputs.backend):
            return super().replace(old, new, resource)
        return self._apply(new, destroying=True)

    def _apply(self, ctx: Context[TerraformApplyInputs], *, destroying: bool) -> dict[str, Any]:
        with _workspace(ctx) as (cli, state):
            # The digest is of the fresh copy, before init and the plan add to it.
            made_from = ""
            if state.saved_plans is not None:
                made_from = saved_plan.digest(cli, state.saved_plans, ctx.inputs.workspace)
            cli.init()
            document = None
            if state.saved_plans is not None:
                document = saved_plan.take(
                    state.saved_plans, ctx.inputs.workspace, made_from, cli.cwd / PLAN_FILE, ctx.log
                )
            if document is None:
                cli.plan(out=PLAN_FILE)
                document = cli.show_json(PLAN_FILE)
            else:
                ctx.log(
                    "applying the plan made at submission: the module, its inputs and the "
                    "workspace's state are as they were then"
                )
            _judge(ctx, document, ctx.log)
            plan = changes.summary(document)
            lost = sorted(a for a, kind in plan["changes"].items() if kind in changes.DESTROYING)
            if lost and not destroying:
                raise ActionError(
                    problem=f"the plan of workspace '{ctx.inputs.workspace}' destroys "
                    f"{', '.join(lost)}: it cannot change in place (replace needed)"
                )
            ctx.log(
                f"plan approved by the guardrails: {plan['add']} to add, {plan['change']} to "
                f"change, {plan['replace']} to replace, {plan['destroy']} to destroy"
            )
            cli.apply(PLAN_FILE)
            outputs = cli.outputs()
        values: dict[str, Any] = {}
        for name, output in outputs.items():
            if not isinstance(output, Mapping):
                continue
            if output.get("sensitive"):
                ctx.declare_secret(name)
            values[name] = output.get("value")
        return values

    def destroy(self, ctx: Context[TerraformApplyInputs], resource: ResourceRef) -> None:
        """``terraform destroy``; the workspace's state is kept, empty, with its history."""
        with _workspace(ctx) as (cli, _):
            cli.init()
            cli.destroy()
            left = cli.state_list()
        if left:
            raise ActionError(
                problem=f"workspace '{ctx.inputs.workspace}' still has resources in its state "
                f"after destroy: {', '.join(left)}"
            )
        ctx.log(f"workspace '{ctx.inputs.workspace}' is empty")

    def observe(self, ctx: Context[TerraformApplyInputs], resource: ResourceRef) -> Observation:
        """Drift: changes made outside Terraform (a refresh-only plan), then differences
        between the state and the module with its inputs (an ordinary plan)."""
        with _workspace(ctx) as (cli, _):
            cli.init()
            if not cli.state_list():
                return Observation(exists=False)
            refreshed = cli.plan("-refresh-only", "-detailed-exitcode", ok=(0, 2))
            planned = cli.plan("-detailed-exitcode", ok=(0, 2))
        drift: dict[str, Drift] = {}
        if refreshed.exit_code == 2:
            for address, action in _changes(refreshed.stdout, "resource_drift"):
                drift[address] = Drift(
                    address, "as in the state", f"changed outside Terraform ({action})"
                )
        if planned.exit_code == 2:
            for address, action in _changes(planned.stdout, "planned_change"):
                drift.setdefault(
                    address, Drift(address, "as the module declares", f"Terraform would {action}")
                )
        return Observation(exists=True, drift=tuple(drift.values()))


# --- helpers ----------------------------------------------------------------------------------


def _quiet(message: str, level: str) -> None:
    """Planning has no step log to write to."""


def _backend(ctx: PlanContext[TerraformApplyInputs]) -> TerraformBackend:
    return resolve_backend(ctx.backends, ctx.inputs.backend)


@dataclass(frozen=True)
class StateAccess:
    """How Terraform reaches a workspace's state for one operation."""

    # The backend block the working copy gets (None: keep the module's own).
    kind: str | None
    env: Mapping[str, str] = field(default_factory=dict)
    backend_config: Mapping[str, str] = field(default_factory=dict)
    after_command: Callable[[], None] | None = None
    outputs: Callable[[], dict[str, Any]] | None = None
    # The platform's state only: where a saved plan is kept (see saved_plan).
    saved_plans: StateStore | None = None


_EMPTY_LOCAL = StateAccess(kind="local")


def _who(ctx: PlanContext[Any]) -> str:
    request = getattr(ctx, "request_id", "") or "plan"
    return f"{ctx.requested_by} (goldenpath {request})"


def _imported(ctx: PlanContext[TerraformApplyInputs], backend: TerraformBackend) -> None:
    """State the ``pg`` backend kept before, moved into the sealed store on first use."""
    assert ctx.state_store is not None
    if backend.conn_str is None or ctx.state_store.read(ctx.inputs.workspace) is not None:
        return
    moved = import_pg_state(backend.conn_str, backend.name, ctx.inputs.workspace, ctx.state_store)
    if moved and isinstance(ctx, Context):
        ctx.log(
            f"imported the state of workspace '{ctx.inputs.workspace}' from Terraform's pg "
            "backend into the platform's sealed store, and dropped the clear copy"
        )


@contextmanager
def _state_for_plan(
    ctx: PlanContext[TerraformApplyInputs], backend: TerraformBackend
) -> Iterator[StateAccess]:
    """The state a plan reads; a plan never writes state. Without a store (``templates
    verify``), or with the ``pg`` backend and no state yet, an empty local state."""
    workspace = ctx.inputs.workspace
    if backend.state == "remote":
        yield StateAccess(kind=None, backend_config=dict(backend.backend_config))
    elif backend.state == "pg":
        conninfo, has_state = (
            probe(backend.conn_str, backend.name, workspace) if backend.conn_str else (None, False)
        )
        if not has_state or conninfo is None:
            yield _EMPTY_LOCAL
        else:
            config = {"schema_name": schema_name(workspace)}
            yield StateAccess(kind="pg", env={"PG_CONN_STR": conninfo}, backend_config=config)
    elif ctx.state_store is None:
        yield _EMPTY_LOCAL
    else:
        _imported(ctx, backend)
        with StateServer(ctx.state_store, workspace, who=_who(ctx)) as server:
            yield StateAccess(
                kind="http",
                env=server.environment(),
                saved_plans=ctx.state_store if ctx.keep_plan else None,
            )


@contextmanager
def _state_for_change(
    ctx: Context[TerraformApplyInputs], backend: TerraformBackend, deadline: Deadline
) -> Iterator[StateAccess]:
    """The workspace held for this operation, and how Terraform reaches its state."""
    workspace = ctx.inputs.workspace
    log: Callable[[str], None] = ctx.log
    if ctx.state_store is not None and backend.state != "pg":
        with (
            StateServer(ctx.state_store, workspace, who=_who(ctx)) as server,
            server.operation(ctx.step_id or "operation", deadline, log),
        ):
            if backend.state == "remote":
                yield StateAccess(kind=None, backend_config=dict(backend.backend_config))
                return
            _imported(ctx, backend)
            yield StateAccess(
                kind="http",
                env=server.environment(),
                after_command=server.after_command,
                outputs=server.outputs,
                saved_plans=ctx.state_store,
            )
        return
    if backend.state == "platform":
        raise ConfigurationError(
            problem="terraform:apply keeps state in the platform's store, which this run "
            "was not given"
        )
    lock_dsn = backend.conn_str or _platform_dsn(ctx)
    locked = (
        workspace_lock(lock_dsn, backend.name, workspace, deadline, log)
        if lock_dsn
        else nullcontext(None)
    )
    with locked as conninfo:
        if backend.state == "remote":
            yield StateAccess(kind=None, backend_config=dict(backend.backend_config))
        else:
            assert conninfo is not None
            yield StateAccess(
                kind="pg",
                env={"PG_CONN_STR": conninfo},
                backend_config={"schema_name": schema_name(workspace)},
            )


def _cli(
    backend: TerraformBackend,
    workdir: Path,
    workspace: str,
    deadline: Deadline,
    log: Log,
    state: StateAccess,
    var_files: list[Path],
    data_dir: Path | None,
    cancel: threading.Event | None = None,
) -> TerraformCli:
    # .terraform/ holds nothing of one workspace only with the platform's or an empty state.
    init_cache = None
    if data_dir is not None and state.kind in ("http", "local"):
        init_cache = InitCache(data_dir / "terraform" / INIT_CACHE)
    return TerraformCli(
        binary=backend.binary,
        cwd=workdir,
        workspace=workspace,
        deadline=deadline,
        log=log,
        env={**backend.env, **state.env},
        var_files=var_files,
        cancel=cancel,
        backend_config=state.backend_config,
        after_command=state.after_command,
        state_outputs=state.outputs,
        init_cache=init_cache,
    )


@contextmanager
def _workspace(ctx: Context[TerraformApplyInputs]) -> Iterator[tuple[TerraformCli, StateAccess]]:
    """The workspace locked, its module copied afresh, and a CLI to run Terraform in it."""
    inputs = ctx.inputs
    if ctx.data_dir is None:
        raise ConfigurationError(problem="terraform:apply needs the platform's data_dir")
    backend = _backend(ctx)
    source = module_source(ctx.template_dir, inputs.module)
    var_files = var_file_paths(ctx.template_dir, inputs.var_files)
    deadline = Deadline.after(inputs.timeout_seconds)
    with _state_for_change(ctx, backend, deadline) as state:
        workdir = prepare(
            source,
            ctx.data_dir / "terraform" / inputs.workspace,
            inputs.variables,
            state_backend=state.kind,
        )
        cli = _cli(
            backend,
            workdir,
            inputs.workspace,
            deadline,
            ctx.log,
            state,
            var_files,
            ctx.data_dir,
            cancel=ctx.cancelled,
        )
        yield cli, state


def _platform_dsn(ctx: PlanContext[Any]) -> str | None:
    platform = ctx.backends.get("postgres")
    return platform.dsn if platform is not None and platform.kind == "postgres" else None


@contextmanager
def _scratch(data_dir: Path | None) -> Iterator[Path]:
    parent = data_dir / "terraform" / ".plans" if data_dir is not None else None
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="plan-", dir=parent))
    try:
        yield folder / "module"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _judge(ctx: PlanContext[Any], document: Mapping[str, Any], log: Log) -> None:
    """The guardrails' verdict on the plan: every violation is reported, nothing is applied."""
    if ctx.plan_guard is None:
        log("no Terraform plan guardrails configured for this run", "warning")
        return
    verdict = ctx.plan_guard(document)
    for warning in verdict.warnings:
        log(f"guardrail warning: {warning.message}", "warning")
    if not verdict.allowed:
        raise PolicyDenied(
            summary="; ".join(v.message for v in verdict.violations),
            violations=[v.as_dict() for v in verdict.violations],
        )


def _changes(stdout: str, kind: str) -> list[tuple[str, str]]:
    found = []
    for message in diagnostics.ui_messages(stdout):
        change = message.get("change")
        if message.get("type") != kind or not isinstance(change, Mapping):
            continue
        resource = change.get("resource")
        address = resource.get("addr") if isinstance(resource, Mapping) else None
        if isinstance(address, str):
            found.append((address, str(change.get("action", "change"))))
    return found
