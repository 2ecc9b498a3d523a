"""Whether a golden path can run on this platform: the backends its steps need, configured.

A path whose backend is missing is listed as "needs setup" in the catalog and refused at
dry-run and submit with `BackendNotConfigured` (not "bad input": the developer did nothing
wrong). Only what can be known from the template is checked: a step's ``backend`` input when it
is written out, else the action's default backend name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from goldenpath.actions.registry import ActionRegistry
from goldenpath.errors import ActionNotFound
from goldenpath.settings import BackendSettings
from goldenpath.templates.loader import Template


@dataclass(frozen=True)
class MissingBackend:
    name: str
    kind: str

    def describe(self) -> str:
        return f"backend '{self.name}' of kind '{self.kind}'"


@dataclass(frozen=True)
class BackendStatus:
    """A backend the platform has or that a golden path asks for, and who needs it."""

    name: str
    kind: str
    configured: bool
    needed_by: tuple[str, ...]


def backend_overview(
    templates: Iterable[Template],
    registry: ActionRegistry,
    backends: Mapping[str, BackendSettings],
) -> list[BackendStatus]:
    """Every configured backend, and every missing one a golden path needs."""
    needed: dict[str, list[str]] = {}
    missing: dict[str, str] = {}
    for template in templates:
        for name, kind in _needs(template, registry):
            needed.setdefault(name, []).append(template.name)
            configured = backends.get(name)
            if configured is None or configured.kind not in (kind, "*"):
                missing[name] = kind
    rows = [
        BackendStatus(name, b.kind, name not in missing, tuple(sorted(needed.get(name, []))))
        for name, b in backends.items()
    ]
    rows += [
        BackendStatus(name, kind, False, tuple(sorted(needed[name])))
        for name, kind in missing.items()
        if name not in backends
    ]
    return sorted(rows, key=lambda r: r.name)


def missing_backends(
    template: Template, registry: ActionRegistry, backends: Mapping[str, BackendSettings]
) -> tuple[MissingBackend, ...]:
    missing: dict[str, MissingBackend] = {}
    for name, kind in _needs(template, registry):
        configured = backends.get(name)
        if configured is None or configured.kind not in (kind, "*"):
            missing.setdefault(name, MissingBackend(name, kind))
    return tuple(missing.values())


def _needs(template: Template, registry: ActionRegistry) -> list[tuple[str, str]]:
    """(backend name, kind) for every step whose backend can be known from the template."""
    needs = []
    for step in template.document.spec.steps:
        try:
            action = registry.get(step.action)
        except ActionNotFound:
            continue  # the loader refuses unknown actions; nothing to say here
        kind = action.backend_kind
        if kind is None:
            continue
        name = _backend_name(step.input.get("backend"), action.Inputs.model_fields)
        if name is not None:
            needs.append((name, kind))
    return needs


def _backend_name(written: object, fields: Mapping[str, object]) -> str | None:
    if isinstance(written, str):
        return None if "${{" in written else written  # an expression: known only at run time
    info = fields.get("backend")
    default = getattr(info, "default", None)
    return default if isinstance(default, str) else None
