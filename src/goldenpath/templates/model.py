"""The golden path template format (``apiVersion: goldenpath.dev/v1``, ``kind: GoldenPath``).

Pydantic models, because this is an edge: the YAML a platform engineer writes.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"
STEP_ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
ACTION_ID_PATTERN = r"^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)+$"
DURATION_PATTERN = r"^[1-9][0-9]*[hdw]$"


class Strict(BaseModel):
    # The YAML spelling (``apiVersion``, ``if``) is the only one accepted, and dumps use it too,
    # so a dumped document loads again and ``api_version:`` in a file is an unknown field.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )


class Metadata(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: str | None = None
    description: str = ""
    owner: str = "platform-team"
    tags: list[str] = Field(default_factory=list)
    version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$")
    # Day 2: a deprecated version still serves new requests, with a warning; a retired one
    # serves none, while what it made keeps working and can be upgraded.
    status: Literal["active", "deprecated", "retired"] = "active"
    status_note: str = Field(default="", max_length=500)


class Step(Strict):
    id: str = Field(pattern=STEP_ID_PATTERN)
    name: str | None = None
    action: str = Field(pattern=ACTION_ID_PATTERN)
    input: dict[str, Any] = Field(default_factory=dict)
    if_: str | bool | None = Field(default=None, alias="if")
    # Run the step once per item of a list (or entry of a mapping), ``each.value`` / ``each.key``
    # in its inputs; each output becomes the list of the iterations' values.
    each: str | list[Any] | dict[str, Any] | None = None


def _inside_template_folder(path: str) -> str:
    if not path or path.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", path):
        raise PydanticCustomError(
            "guardrail_outside_folder",
            "guardrail '{path}' must be a path inside the template folder",
            {"path": path},
        )
    return path


GuardrailPath = Annotated[str, AfterValidator(_inside_template_folder)]


class Output(Strict):
    values: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    # ``title``, ``url`` (and Backstage's ``icon``, ``entityRef``); a link whose ``if`` renders
    # false is left out.
    links: list[dict[str, str]] = Field(default_factory=list)
    text: str | None = None


class Access(Strict):
    teams: list[str] = Field(default_factory=lambda: ["*"])
    roles: list[str] = Field(default_factory=list)


class Ttl(Strict):
    """How long what a request makes may live: ``default`` when the developer asks for nothing
    (null: until destroyed), ``max`` the longest anyone may ask for or extend to, counted from
    creation (null: no limit)."""

    default: str | None = Field(default=None, pattern=DURATION_PATTERN)
    max: str | None = Field(default=None, pattern=DURATION_PATTERN)


class Lifecycle(Strict):
    ttl: Ttl = Field(default_factory=Ttl)


class Cost(Strict):
    monthly_usd: float = Field(default=0.0, ge=0)


class Day2Step(Step):
    """A step of a day-2 action: it works on the resource an ordinary step made (``resource``,
    that step's id), through an action that operates on what that step's action makes."""

    resource: str = Field(pattern=STEP_ID_PATTERN)


class Day2Action(Strict):
    """A named operation the owning team runs on what a request made (``rotate-password``,
    ``resize``): its own small form and its own steps, run as a guarded request."""

    name: str = Field(pattern=NAME_PATTERN)
    title: str | None = None
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    steps: list[Day2Step] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _unique_step_ids(cls, steps: list[Day2Step]) -> list[Day2Step]:
        return _unique_ids(steps)


def _unique_ids(steps: list[Any]) -> list[Any]:
    return _unique(steps, "id", "duplicate_step_id", "step id '{id}' is used twice")


def _unique(items: list[Any], key: str, error: str, message: str) -> list[Any]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            # ``index`` lets the loader point at the second item's line, not at the list's.
            raise PydanticCustomError(error, message, {key: value, "index": index})
        seen.add(value)
    return items


class Spec(Strict):
    replaces: str | None = None
    # More ways tickets of that type are worded (insights: classification by phrase).
    replaces_phrases: list[str] = Field(default_factory=list)
    access: Access = Field(default_factory=Access)
    approval: Literal["none", "always", "on-exception"] = "on-exception"
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    cost: Cost = Field(default_factory=Cost)
    parameters: dict[str, Any] | list[dict[str, Any]] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
    guardrails: list[GuardrailPath] = Field(default_factory=list)
    output: Output = Field(default_factory=Output)
    rollback: bool = Field(default=True, description="Undo completed steps when one fails.")
    day2: list[Day2Action] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _unique_step_ids(cls, steps: list[Step]) -> list[Step]:
        return _unique_ids(steps)

    @field_validator("day2")
    @classmethod
    def _unique_day2_names(cls, actions: list[Day2Action]) -> list[Day2Action]:
        return _unique(
            actions, "name", "duplicate_day2_name", "day-2 action '{name}' is declared twice"
        )

    def day2_action(self, name: str) -> Day2Action | None:
        return next((a for a in self.day2 if a.name == name), None)


class TemplateDocument(Strict):
    api_version: Literal["goldenpath.dev/v1"] = Field(alias="apiVersion")
    kind: Literal["GoldenPath"]
    metadata: Metadata
    spec: Spec


def content_version(document: dict[str, Any]) -> str:
    """A stable short hash of a template's content, its version when none is declared."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]


def parse_duration(text: str) -> timedelta:
    """``12h``, ``30d`` or ``2w`` as a timedelta (the template format's durations)."""
    if not re.match(DURATION_PATTERN, text):
        raise ValueError(f"'{text}' is not a duration like 12h, 30d or 2w")
    amount, unit = int(text[:-1]), text[-1]
    return (
        timedelta(hours=amount)
        if unit == "h"
        else timedelta(days=amount * (7 if unit == "w" else 1))
    )
