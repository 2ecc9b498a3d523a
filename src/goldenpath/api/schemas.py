"""Request and response bodies of the REST API (pydantic: this is an edge).

Request bodies are strict: ``"31337"`` is not a number, ``"true"`` or ``1`` not a boolean (a
wrong type is refused, not coerced); extra members are refused too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from goldenpath.identity.directory import TEAM_NAME
from goldenpath.store.records import LogLine, RequestRecord, ResourceRecord, StepRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.model import NAME_PATTERN as TEMPLATE_NAME

if TYPE_CHECKING:
    from goldenpath.service import DryRun

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$"


def version_field(description: str) -> Any:
    """An optional version of a golden path, as a body field."""
    return Field(default=None, max_length=64, pattern=VERSION_PATTERN, description=description)


# One line of text, as filters take it: PostgreSQL refuses NUL, and no name holds a control.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
# Ids and counters are PostgreSQL BIGINTs: a larger number is no id at all.
BIGINT_MAX = 2**63 - 1


class TemplateSummary(BaseModel):
    name: str
    title: str
    description: str
    version: str
    owner: str
    tags: list[str]
    replaces: str | None
    monthly_cost_usd: float
    approval: str
    needs_setup: list[str] = Field(
        default=[],
        description="Backends this path needs that the platform has not configured; "
        "while any is listed the path cannot run.",
    )

    @classmethod
    def of(cls, template: Template, needs_setup: Sequence[str] = ()) -> TemplateSummary:
        meta, spec = template.document.metadata, template.document.spec
        return cls(
            name=template.name,
            title=template.title,
            description=meta.description,
            version=template.version,
            owner=meta.owner,
            tags=list(meta.tags),
            replaces=spec.replaces,
            monthly_cost_usd=spec.cost.monthly_usd,
            approval=spec.approval,
            needs_setup=list(needs_setup),
        )


class BackendView(BaseModel):
    name: str
    kind: str
    configured: bool
    needed_by: list[str] = Field(description="The golden paths whose steps use this backend.")


class BackendCheckView(BaseModel):
    name: str
    kind: str
    reachable: bool | None = Field(
        description="Whether it answered a trivial call in time; null: no check for its kind."
    )
    detail: str = Field(description="What answered, or why it did not (never a credential).")


class PolicyFileView(BaseModel):
    file: str
    package: str
    group: str = Field(description="Which evaluation reads it: native, or a policies.yaml group.")
    applies_to: str | None = Field(description="request, terraform, or none (a helper library).")
    rego: str = Field(description="The Rego dialect it was read in: v0 or v1.")
    rules: list[str] = Field(description="Its rules that evaluations read.")
    helper: bool


class PoliciesView(BaseModel):
    files: list[PolicyFileView]
    problems: list[str] = Field(
        description="Broken or dead policy files: while any is listed, every request is refused."
    )


class TemplateProblemView(BaseModel):
    file: str
    field: str = Field(description="Where in the file, dotted (spec.steps[2].action).")
    line: str = Field(description="The line in the file, or '?' when unknown.")
    problem: str
    message: str = Field(description="The whole sentence, as the start-up log shows it.")


class StepSummary(BaseModel):
    id: str
    name: str
    action: str


class TemplateDetail(TemplateSummary):
    parameters: list[dict[str, Any]] = Field(description="The form pages (JSON Schema).")
    schema_: dict[str, Any] = Field(alias="schema", description="All pages merged into one.")
    steps: list[StepSummary]
    outputs: dict[str, list[str]]

    model_config = ConfigDict(populate_by_name=True)

    @classmethod
    def of(cls, template: Template, needs_setup: Sequence[str] = ()) -> TemplateDetail:
        from goldenpath.templates.parameters import pages

        spec = template.document.spec
        return cls(
            **TemplateSummary.of(template, needs_setup).model_dump(),
            parameters=pages(spec.parameters),
            schema=template.schema,
            steps=[StepSummary(id=s.id, name=s.name or s.id, action=s.action) for s in spec.steps],
            outputs={"values": list(spec.output.values), "secrets": list(spec.output.secrets)},
        )


class RequestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"template": "postgres-database", "parameters": {"name": "orders"}}]
        },
    )

    template: str = Field(max_length=63, pattern=TEMPLATE_NAME)
    version: str | None = version_field(
        "A version of the golden path [default: the newest not retired]."
    )
    parameters: dict[str, Any] = Field(default_factory=dict)
    team: str | None = Field(
        default=None, max_length=63, pattern=TEAM_NAME, description="Owner team."
    )
    dry_run: bool = False
    justification: str | None = Field(
        default=None,
        max_length=2000,
        description="Ask for an exception: a request the guardrails deny then waits for approval.",
    )
    ttl: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,5}[hdw]$",
        description="How long what it makes may live (12h, 30d, 2w); default: the template's.",
        examples=["30d"],
    )

    @field_validator("parameters")
    @classmethod
    def _no_nul(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return _without_nul(parameters)


def _without_nul(parameters: dict[str, Any]) -> dict[str, Any]:
    # Stored as JSONB, which cannot hold U+0000; no golden path needs one.
    if _has_nul(parameters):
        raise ValueError("must not contain the NUL character (U+0000)")
    return parameters


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class TemplateDryRun(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"parameters": {"name": "orders"}}]},
    )

    parameters: dict[str, Any] = Field(default_factory=dict)
    team: str | None = Field(default=None, max_length=63, description="Owner team.")


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    comment: str | None = Field(default=None, max_length=2000)


class PlanResponse(BaseModel):
    dry_run: bool = True
    template: str
    version: str
    parameters: dict[str, Any]
    plan: dict[str, Any]
    verdict: dict[str, Any] = Field(description="The guardrails' verdict on the plan.")
    sandbox: bool = Field(
        default=False,
        description="True on a sandbox platform: made on local stand-ins, not real backends.",
    )

    @classmethod
    def of(cls, preview: DryRun, *, sandbox: bool = False) -> PlanResponse:
        return cls(
            template=preview.template.name,
            version=preview.template.version,
            parameters=preview.parameters,
            plan=preview.plan,
            verdict=preview.verdict.as_dict(),
            sandbox=sandbox,
        )


class StepView(BaseModel):
    id: str
    name: str
    action: str
    status: str
    input: dict[str, Any] | list[dict[str, Any]] | None = Field(
        description="The rendered inputs; a list, one per item, for a step with `each`."
    )
    outputs: dict[str, Any] | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None

    @classmethod
    def of(cls, step: StepRecord) -> StepView:
        return cls(
            id=step.step_id,
            name=step.name,
            action=step.action,
            status=step.status,
            input=step.input,
            outputs=step.outputs,
            error=step.error,
            started_at=step.started_at,
            finished_at=step.finished_at,
            duration_seconds=step.duration_seconds,
        )


class RequestView(BaseModel):
    id: str
    template: str
    version: str
    kind: str = Field(
        default="create", description="create, upgrade, or day2:<action> (a day-2 action)."
    )
    status: str
    requested_by: str
    team: str
    parameters: dict[str, Any]
    outputs: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[StepView]
    plan: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    is_exception: bool = False
    justification: str | None = None
    decided_by: str | None = None
    decision_comment: str | None = None
    sandbox: bool = Field(
        default=False,
        description="True on a sandbox platform: made on local stand-ins, not real backends.",
    )

    @classmethod
    def of(
        cls, request: RequestRecord, *, with_plan: bool = False, sandbox: bool = False
    ) -> RequestView:
        return cls(
            sandbox=sandbox,
            id=request.id,
            template=request.template_name,
            version=request.template_version,
            kind=request.kind,
            status=request.status,
            requested_by=request.requested_by,
            team=request.owner_team,
            parameters=request.parameters,
            outputs=request.outputs,
            error=request.error,
            attempts=request.attempts,
            created_at=request.created_at,
            started_at=request.started_at,
            finished_at=request.finished_at,
            steps=[StepView.of(s) for s in request.steps],
            plan=request.plan if with_plan else None,
            verdict=request.verdict,
            is_exception=request.is_exception,
            justification=request.justification,
            decided_by=request.decided_by,
            decision_comment=request.decision_comment,
        )


class LogView(BaseModel):
    id: int
    step: str
    at: datetime
    level: str
    message: str

    @classmethod
    def of(cls, line: LogLine) -> LogView:
        return cls(
            id=line.id, step=line.step_id, at=line.at, level=line.level, message=line.message
        )


class SecretsView(BaseModel):
    request_id: str
    secrets: dict[str, Any]


class ResourceView(BaseModel):
    id: str
    kind: str
    name: str
    backend: str
    team: str
    template: str
    state: str
    request_id: str
    outputs: dict[str, Any] | None
    config: dict[str, Any]
    monthly_cost_usd: float | None
    created_at: datetime
    destroyed_at: datetime | None
    expires_at: datetime | None
    error: str | None
    upgrade_available: str | None = Field(
        default=None,
        description="The newest version of its golden path, when it is not at it (day 2).",
    )
    sandbox: bool = Field(
        default=False,
        description="True on a sandbox platform: made on local stand-ins, not real backends.",
    )

    @classmethod
    def of(
        cls, resource: ResourceRecord, newest: str | None = None, *, sandbox: bool = False
    ) -> ResourceView:
        live = resource.state in ("active", "drifted")
        return cls(
            sandbox=sandbox,
            upgrade_available=newest if live and newest != resource.template_version else None,
            id=resource.id,
            kind=resource.kind,
            name=resource.name,
            backend=resource.backend,
            team=resource.owner_team,
            template=f"{resource.template_name}@{resource.template_version}",
            state=resource.state,
            request_id=resource.request_id,
            outputs=resource.outputs,
            config=resource.config,
            monthly_cost_usd=resource.monthly_cost_usd,
            created_at=resource.created_at,
            destroyed_at=resource.destroyed_at,
            expires_at=resource.expires_at,
            error=resource.error,
        )


class UpgradeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    to: str | None = version_field("The version to upgrade to [default: the newest].")
    dry_run: bool = False
    allow_replace: bool = Field(
        default=False,
        description="Destroy and re-create what cannot change in place (its data is lost); "
        "without it such an upgrade is refused (409).",
    )


class Day2ActionView(BaseModel):
    name: str
    title: str
    description: str
    parameters_schema: dict[str, Any] = Field(description="Its form, as JSON Schema 2020-12.")


class Day2Run(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"parameters": {}}]}
    )

    parameters: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool = False

    @field_validator("parameters")
    @classmethod
    def _no_nul(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return _without_nul(parameters)


class RolloutBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: str | None = version_field("The version to roll out [default: the newest].")
    allow_replace: bool = Field(
        default=False, description="Also destroy and re-create what cannot change in place."
    )


class Extend(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ttl: str = Field(
        pattern=r"^[1-9][0-9]{0,5}[hdw]$", description="From now: 12h, 30d, 2w.", examples=["7d"]
    )


class DriftView(BaseModel):
    field: str
    expected: Any
    actual: Any


class CheckView(BaseModel):
    resource_id: str
    exists: bool
    in_sync: bool
    drift: list[DriftView]


class ErrorField(BaseModel):
    field: str
    rule: str


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``) with the platform's
    extension members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="The problem type, a tag URI ending in the code.",
        examples=["tag:goldenpath.dev,2026:problem:invalid_input"],
    )
    title: str = Field(description="The same short summary for every problem of this type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, for a human.")
    instance: str | None = Field(default=None, description="The path that was called.")
    code: str = Field(description="A stable machine-readable name, e.g. ``invalid_input``.")
    fields: list[ErrorField] = Field(
        default_factory=list, description="For bad input: each field and the rule it breaks."
    )
    violations: list[dict[str, Any]] | None = Field(
        default=None, description="A guardrail denial's violations."
    )
    request_id: str | None = Field(
        default=None, description="A guardrail denial: the recorded (rejected) request."
    )
