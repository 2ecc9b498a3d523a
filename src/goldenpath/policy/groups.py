"""How a policy file is evaluated: natively, or as a foreign tool would (conftest, OPA).

A policy folder may carry ``policies.yaml``. Without it every file is *native*: request policies
declare packages under ``goldenpath.``, Terraform plan policies under ``goldenpath.terraform.``,
and the rules ``deny``, ``warn`` and ``require_approval`` count. With it, files matched by a group
run unchanged under that group's conventions: which packages count, which rule names deny, warn or
ask for approval, Rego v0 or v1, and how the plan is handed over (raw, as conftest does, or under
a key such as ``tfplan``). docs/policies.md ("Bring your own policies") has the format.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_FILE = "policies.yaml"
REQUEST = "request"
TERRAFORM = "terraform"
KINDS = ("deny", "warn", "require_approval")
DIALECTS = ("auto", "v0", "v1")


@dataclass(frozen=True)
class PolicyGroup:
    """The conventions one set of policy files is written to."""

    name: str
    applies_to: str
    namespaces: tuple[str, ...]
    rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rego: str = "auto"
    input_key: str | None = None
    files: tuple[str, ...] = ("**",)
    native: bool = False

    def claims(self, package: str) -> bool:
        return any(package == ns or package.startswith(ns + ".") for ns in self.namespaces)

    def kind_of(self, rule: str) -> str | None:
        """``deny``/``warn``/``require_approval`` for a rule name this group counts, else None.

        A name counts as given or with a suffix after ``_`` (conftest's ``deny_public_bucket``).
        """
        for kind, names in self.rules.items():
            if any(rule == name or rule.startswith(name + "_") for name in names):
                return kind
        return None

    def matches(self, relative: str) -> bool:
        return any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*")
            for pattern in self.files
        )

    def describe(self) -> str:
        if self.native:
            return f"native {self.applies_to} policies"
        shape = f"input.{self.input_key}" if self.input_key else "input"
        return (
            f"group '{self.name}': {self.applies_to} evaluations, packages "
            f"{', '.join(self.namespaces)}, plan as {shape}, Rego {self.rego}"
        )


NATIVE_RULES = {kind: (kind,) for kind in KINDS}
NATIVE_REQUEST = PolicyGroup(
    name="native request",
    applies_to=REQUEST,
    namespaces=("goldenpath",),
    rules=NATIVE_RULES,
    native=True,
)
NATIVE_TERRAFORM = PolicyGroup(
    name="native terraform",
    applies_to=TERRAFORM,
    namespaces=("goldenpath.terraform",),
    rules=NATIVE_RULES,
    native=True,
)


def native_group(package: str) -> PolicyGroup | None:
    """The native group that evaluates ``package``, or None when no native evaluation reads it."""
    if NATIVE_TERRAFORM.claims(package):
        return NATIVE_TERRAFORM
    if package.startswith("goldenpath."):
        return NATIVE_REQUEST
    return None


class _GroupFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    files: list[str] = Field(default_factory=lambda: ["**"])
    applies_to: Literal["request", "terraform"] = "terraform"
    namespaces: list[str] = Field(default_factory=lambda: ["main"], min_length=1)
    deny: list[str] = Field(default_factory=lambda: ["deny", "violation"])
    warn: list[str] = Field(default_factory=lambda: ["warn"])
    require_approval: list[str] = Field(default_factory=lambda: ["require_approval"])
    rego: Literal["auto", "v0", "v1"] = "auto"
    input_key: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

    @field_validator("namespaces", "deny", "warn", "require_approval")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        for value in values:
            parts = value.split(".")
            if not all(p.isidentifier() for p in parts):
                raise ValueError(f"'{value}' is not a Rego package or rule name")
        return values

    def group(self, index: int) -> PolicyGroup:
        return PolicyGroup(
            name=self.name or f"group {index + 1}",
            applies_to=self.applies_to,
            namespaces=tuple(self.namespaces),
            rules={"deny": tuple(self.deny), "warn": tuple(self.warn)}
            | {"require_approval": tuple(self.require_approval)},
            rego=self.rego,
            input_key=self.input_key,
            files=tuple(self.files),
        )


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[_GroupFile] = Field(min_length=1)


class PolicyConfigError(ValueError):
    """A ``policies.yaml`` that cannot be used; the message names the file and the field."""


def read_groups(folder: Path) -> tuple[PolicyGroup, ...]:
    """The groups declared in ``folder/policies.yaml`` (none when there is no such file)."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        return ()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyConfigError(f"{path}: cannot be read: {exc}") from exc
    if isinstance(raw, dict) and "groups" not in raw:
        raw = {"groups": [raw]}  # one group for the whole folder
    try:
        config = _ConfigFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyConfigError(f"{path}: {problems}") from exc
    return tuple(group.group(i) for i, group in enumerate(config.groups))


def group_for(groups: tuple[PolicyGroup, ...], relative: str) -> PolicyGroup | None:
    """The first group whose ``files`` patterns match this path (relative to the folder)."""
    return next((g for g in groups if g.matches(relative)), None)


def command_line_group(
    namespaces: list[str], *, rego_v0: bool, input_key: str | None, rules: list[str]
) -> PolicyGroup:
    """The group `policies check-plan --namespace ...` describes, as policies.yaml would."""
    try:
        spec = _GroupFile(
            name="command line",
            namespaces=namespaces,
            rego="v0" if rego_v0 else "auto",
            input_key=input_key,
            **({"deny": rules} if rules else {}),
        )
    except ValidationError as exc:
        raise PolicyConfigError("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    return spec.group(0)
