"""Developer-typed parameters: the template's JSON Schema (2020-12), defaults, and clear errors.

``spec.parameters`` is one object schema or a list of form pages; the pages are merged into one
schema whose properties are the union of the pages', so an unknown parameter is an error.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from goldenpath.errors import InvalidInput, InvalidInputs

# A string with no maxLength of its own still has this one: nobody types 10 kB into a form field.
DEFAULT_MAX_LENGTH = 1024
# C0 and C1 controls except tab, newline and carriage return, and the bidirectional overrides
# that make text display in another order than it is stored ("Trojan Source").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def pages(parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The form pages: a single object schema is one page."""
    if isinstance(parameters, Mapping):
        return [dict(parameters)] if parameters else []
    return [dict(page) for page in parameters]


def merged_schema(
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One object schema that accepts exactly what every page accepts together."""
    page_list = pages(parameters)
    properties: dict[str, Any] = {}
    for page in page_list:
        for name, declared in _declared_properties(page):
            properties.setdefault(name, declared)
    merged: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if page_list:  # a golden path may take no parameters at all
        merged["allOf"] = [{"type": "object", **_without_titles(page)} for page in page_list]
    return merged


def check_schema(schema: Mapping[str, Any]) -> str | None:
    """The reason a schema is not valid JSON Schema 2020-12, or None."""
    found = schema_problem(schema)
    return found[0] if found else None


def schema_problem(schema: Mapping[str, Any]) -> tuple[str, tuple[str | int, ...]] | None:
    """Why a schema is not valid JSON Schema 2020-12 and where in it, or None."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return exc.message, tuple(exc.absolute_path)
    return None


def apply_defaults(schema: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with every missing property that has a default filled in."""
    result = dict(values)
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        return result
    for name, prop in properties.items():
        if not isinstance(prop, Mapping):
            continue
        if name not in result and "default" in prop:
            result[name] = copy.deepcopy(prop["default"])
        if isinstance(result.get(name), Mapping) and isinstance(prop.get("properties"), Mapping):
            result[name] = apply_defaults(prop, result[name])
    return result


def validate(schema: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults applied, then every rule checked; all failures are reported together."""
    filled = apply_defaults(schema, values)
    problems = list(_unsafe_strings(schema, filled))
    # ``format`` only annotates by default in 2020-12; a form that says ``email`` means it.
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path)):
        problems.extend(_explain(error, schema))
    if problems:
        raise InvalidInputs(_dedupe(problems))
    return filled


def _declared_properties(page: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """Properties of a page, including those only its conditional parts declare."""
    properties = page.get("properties", {})
    if isinstance(properties, Mapping):
        yield from properties.items()
    for keyword in ("oneOf", "anyOf", "allOf"):
        branches = page.get(keyword, [])
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, Mapping):
                yield from _declared_properties(branch)
    for keyword in ("if", "then", "else"):
        if isinstance(page.get(keyword), Mapping):
            yield from _declared_properties(page[keyword])
    dependent = page.get("dependentSchemas", page.get("dependencies", {}))
    for branch in dependent.values() if isinstance(dependent, Mapping) else []:
        if isinstance(branch, Mapping):
            yield from _declared_properties(branch)


def _without_titles(page: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in page.items() if k not in ("title", "description")}


def _unsafe_strings(
    schema: Mapping[str, Any], values: Mapping[str, Any], prefix: str = ""
) -> Iterable[InvalidInput]:
    properties = schema.get("properties", {})
    for name, value in values.items():
        field = f"{prefix}{name}"
        prop = properties.get(name, {}) if isinstance(properties, Mapping) else {}
        yield from _unsafe_value(field, value, prop if isinstance(prop, Mapping) else {})


def _unsafe_value(field: str, value: Any, prop: Mapping[str, Any]) -> Iterable[InvalidInput]:
    if isinstance(value, str):
        limit = prop.get("maxLength", DEFAULT_MAX_LENGTH)
        if len(value) > max(limit, 0) and "maxLength" not in prop:
            yield InvalidInput(field=field, rule=f"must be at most {limit} characters")
        if _CONTROL.search(value):
            yield InvalidInput(field=field, rule="must not contain control characters")
        elif "pattern" in prop and ("\n" in value or "\r" in value):
            # A field with a pattern is a name or an identifier, and Python's `$` would let a
            # trailing newline through the pattern itself.
            yield InvalidInput(field=field, rule="must be a single line")
        # NFC first, so an accent typed as a combining mark (``e`` + U+0301) is not called a
        # look-alike; only compatibility characters (fullwidth letters, ligatures) differ after it.
        elif unicodedata.normalize("NFKC", value) != unicodedata.normalize("NFC", value):
            yield InvalidInput(
                field=field, rule="must not contain look-alike (compatibility) characters"
            )
    elif isinstance(value, Mapping):
        yield from _unsafe_strings(prop, value, prefix=f"{field}.")
    elif isinstance(value, list):
        items = prop.get("items", {})
        for index, item in enumerate(value):
            yield from _unsafe_value(f"{field}[{index}]", item, items)


def _field(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(parameters)"


def _explain(error: ValidationError, schema: Mapping[str, Any]) -> list[InvalidInput]:
    field = _field(error.absolute_path)
    validator = error.validator
    value = error.validator_value
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return [InvalidInput(field=_join(field, name), rule="is required") for name in missing]
    if validator == "additionalProperties":
        # From the value, not the message: a name holding a quote or a bracket breaks the
        # message's list apart, and must be refused all the same.
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        given = error.instance if isinstance(error.instance, Mapping) else {}
        extras = [name for name in given if name not in known]
        return [
            InvalidInput(field=_join(field, name), rule="is not a parameter of this golden path")
            for name in extras
        ] or [InvalidInput(field=field, rule=error.message)]
    if validator in ("allOf", "anyOf", "oneOf") and error.context:
        nested = [e for e in _chosen_branches(error) if e.validator != validator]
        return [p for e in nested for p in _explain(e, schema)] or [
            InvalidInput(field=field, rule=error.message)
        ]
    custom = _custom_message(schema, error.absolute_path)
    return [InvalidInput(field=field, rule=custom or _rule_text(str(validator), value, error))]


def _chosen_branches(error: ValidationError) -> list[ValidationError]:
    """The errors of the ``oneOf``/``anyOf`` branches the value picked.

    A branch whose discriminator (a property's ``const``/``enum``) the value does not match was
    not picked, and its required fields are not asked for (the conditional-fields idiom). All
    errors when no branch was picked."""
    if error.validator == "allOf":
        return list(error.context or [])
    branches: dict[Any, list[ValidationError]] = {}
    for nested in error.context or []:
        key = nested.relative_schema_path[0] if nested.relative_schema_path else None
        branches.setdefault(key, []).append(nested)
    depth = len(error.absolute_path)
    picked = [
        errors
        for errors in branches.values()
        if not any(
            e.validator in ("const", "enum") and len(e.absolute_path) > depth for e in errors
        )
    ]
    return [e for errors in picked for e in errors] if picked else list(error.context or [])


def _join(parent: str, name: str) -> str:
    return name if parent == "(parameters)" else f"{parent}.{name}"


def _custom_message(schema: Mapping[str, Any], path: Iterable[Any]) -> str | None:
    node: Any = schema
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {}) if isinstance(node, Mapping) else {}
        else:
            node = node.get("properties", {}).get(part, {}) if isinstance(node, Mapping) else {}
    message = node.get("errorMessage") if isinstance(node, Mapping) else None
    return message if isinstance(message, str) else None


def _rule_text(validator: str, value: Any, error: ValidationError) -> str:
    rules: dict[str, str] = {
        "pattern": f"must match the pattern {value}",
        "maxLength": f"must be at most {value} characters",
        "minLength": f"must be at least {value} characters",
        "enum": "must be one of: " + ", ".join(_shown(v) for v in value)
        if isinstance(value, list)
        else "",
        "const": f"must be {_shown(value)}",
        "type": f"must be of type {value}",
        "minimum": f"must be at least {value}",
        "maximum": f"must be at most {value}",
        "exclusiveMinimum": f"must be greater than {value}",
        "exclusiveMaximum": f"must be less than {value}",
        "format": f"must be a valid {value}",
        "minItems": f"must have at least {value} items",
        "maxItems": f"must have at most {value} items",
        "uniqueItems": "must not repeat items",
    }
    return rules.get(validator) or error.message


def _shown(value: Any) -> str:
    """A schema value as the developer would type it: ``small``, ``""``, ``true``, ``null``."""
    if isinstance(value, str) and value and value.strip() == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _dedupe(problems: list[InvalidInput]) -> list[InvalidInput]:
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            unique.append(problem)
    return unique


def secret_names(schema: Mapping[str, Any]) -> frozenset[str]:
    """Top-level parameters the form marks secret: ``writeOnly: true`` or ``format: password``."""
    return frozenset(
        name
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, Mapping)
        and (prop.get("writeOnly") is True or prop.get("format") == "password")
    )
