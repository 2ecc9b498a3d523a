"""When a form field applies: read from a page's ``if``/``then``/``else``, ``dependentSchemas``
and ``oneOf``/``anyOf`` branches, for the portal's script to show and hide fields.

A field with conditions is shown when any of them holds; a condition holds when all its clauses
do. Conditions the form cannot read (an ``if`` on a pattern, say) leave their fields always
shown: showing too much is harmless, the service checks every value anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Clause:
    """``field`` has one of ``values`` (as the form spells them), or is filled when None."""

    field: str
    values: tuple[str, ...] | None = None
    negate: bool = False

    def as_dict(self) -> dict[str, Any]:
        test: dict[str, Any] = {"field": self.field, "not": self.negate}
        if self.values is None:
            test["filled"] = True
        else:
            test["in"] = list(self.values)
        return test


@dataclass(frozen=True)
class Condition:
    clauses: tuple[Clause, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"all": [c.as_dict() for c in self.clauses]}


@dataclass(frozen=True)
class Conditional:
    """The fields of a page that apply only under conditions, and those of them that are
    required whenever they apply."""

    shown_when: dict[str, tuple[Condition, ...]]
    required: frozenset[str]


def conditions_of(page: Mapping[str, Any]) -> Conditional:
    found: dict[str, list[Condition]] = {}
    required: set[str] = set()

    def add(branch: Any, conditions: list[Condition], skip: set[str] | None = None) -> None:
        names = _names(branch) - (skip or set())
        for name in names:
            found.setdefault(name, []).extend(conditions)
        if isinstance(branch, Mapping) and isinstance(branch.get("required"), list):
            required.update(n for n in branch["required"] if n in names)

    _collect(page, add)
    shown_when = {name: tuple(conditions) for name, conditions in found.items()}
    return Conditional(shown_when=shown_when, required=frozenset(required))


def form_text(value: Any) -> str:
    """A schema value as a form posts it: ``true``, ``3``, ``small``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def _collect(node: Mapping[str, Any], add: Callable[..., None]) -> None:
    clauses = _clauses(node.get("if"))
    if clauses:
        tested = {c.field for c in clauses}
        add(node.get("then"), [Condition(clauses)], tested)
        negated = [Condition((Clause(c.field, c.values, negate=True),)) for c in clauses]
        add(node.get("else"), negated, tested)
    dependent = node.get("dependentSchemas", {})
    for trigger, branch in dependent.items() if isinstance(dependent, Mapping) else ():
        add(branch, [Condition((Clause(str(trigger)),))], {str(trigger)})
        if isinstance(branch, Mapping):  # a ``oneOf`` of ``const`` branches inside it
            _collect(branch, add)
    for keyword in ("oneOf", "anyOf"):
        branches = node.get(keyword)
        for branch in branches if isinstance(branches, list) else []:
            chosen = _discriminators(branch)
            if chosen:
                add(branch, [Condition(chosen)], {c.field for c in chosen})
    all_of = node.get("allOf")
    for part in all_of if isinstance(all_of, list) else []:
        if isinstance(part, Mapping):
            _collect(part, add)


def _clauses(test: Any) -> tuple[Clause, ...]:
    """An ``if`` the form can evaluate: each property a ``const`` or an ``enum``."""
    if not isinstance(test, Mapping) or set(test) - {"properties", "required"}:
        return ()
    properties = test.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return ()
    clauses = []
    for name, prop in properties.items():
        values = _values(prop)
        if values is None:
            return ()
        clauses.append(Clause(str(name), values))
    return tuple(clauses)


def _discriminators(branch: Any) -> tuple[Clause, ...]:
    if not isinstance(branch, Mapping) or not isinstance(branch.get("properties"), Mapping):
        return ()
    properties = branch["properties"]
    # The react-jsonschema-form idiom marks the branch with a ``const``; an ``enum`` beside it
    # is a field the branch brings in (a region to pick), not what selects the branch.
    by_const = any(isinstance(p, Mapping) and "const" in p for p in properties.values())
    return tuple(
        Clause(str(name), values)
        for name, prop in properties.items()
        if isinstance(prop, Mapping)
        and ("const" in prop or (not by_const and isinstance(prop.get("enum"), list)))
        and (values := _values(prop)) is not None
    )


def _values(prop: Any) -> tuple[str, ...] | None:
    if not isinstance(prop, Mapping) or set(prop) - {"const", "enum", "type", "title"}:
        return None
    if "const" in prop:
        return (form_text(prop["const"]),)
    if isinstance(prop.get("enum"), list):
        return tuple(form_text(v) for v in prop["enum"])
    return None


def _names(branch: Any) -> set[str]:
    """The fields a branch brings in: its properties and what it requires."""
    if not isinstance(branch, Mapping):
        return set()
    properties = branch.get("properties")
    required = branch.get("required")
    names = {str(n) for n in properties} if isinstance(properties, Mapping) else set()
    if isinstance(required, list):
        names.update(n for n in required if isinstance(n, str))
    return names
