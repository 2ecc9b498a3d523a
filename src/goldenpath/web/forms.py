"""A golden path's JSON Schema as an HTML form: fieldsets of fields, and the way back from the
posted strings to typed parameters.

The form only helps: every value is checked again by the service (`service.dry_run`), so a rule
the browser cannot express (or a browser without JavaScript) costs a round trip, not safety.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from goldenpath.templates.parameters import pages, secret_names
from goldenpath.web.conditions import Condition, conditions_of, form_text
from goldenpath.web.patterns import html_pattern

RADIO_LIMIT = 5
TEXTAREA_FROM = 1000  # a string allowed to be this long gets a text area
RESERVED = frozenset({"_csrf", "_team", "_ttl", "_justification"})


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One input: what to draw (``widget``) and the HTML constraints that mirror the schema."""

    name: str
    label: str
    widget: str  # text, email, url, date, password, textarea, number, checkbox, radio, select,
    # checkboxes (an array of enum values), lines (an array of strings, one per line),
    # json (an array of objects, typed as JSON), and from Backstage's ui:widget: hidden,
    # range, color
    help: str = ""
    required: bool = False
    options: tuple[Option, ...] = ()
    default: str | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    secret: bool = False
    autofocus: bool = False
    placeholder: str | None = None
    rows: int | None = None
    show_when: tuple[Condition, ...] = ()
    schema: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def conditional(self) -> bool:
        return bool(self.show_when)

    def show_when_json(self) -> str:
        return json.dumps([c.as_dict() for c in self.show_when])


@dataclass(frozen=True)
class Page:
    title: str
    description: str
    fields: tuple[Field, ...]


def form_pages(
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]], teams: Sequence[str] = ()
) -> list[Page]:
    """One fieldset per form page, fields in the order the page declares them (or its
    ``ui:order``). ``teams`` are the choices of an owner picker."""
    result = []
    for index, page in enumerate(pages(parameters)):
        required = set(_strings(page.get("required")))
        conditional = conditions_of(page)
        required |= conditional.required
        declared = _ordered(_Declared.of(page).fields(), page.get("ui:order"))
        fields = tuple(
            _ui(
                _field(name, prop, enum, name in required, conditional.shown_when.get(name, ())),
                prop,
                teams,
            )
            for name, prop, enum in declared
        )
        title = str(page.get("title") or ("Parameters" if index == 0 else f"Step {index + 1}"))
        result.append(
            Page(title=title, description=str(page.get("description", "")), fields=fields)
        )
    return result


def _ordered(
    fields: list[tuple[str, Mapping[str, Any], list[Any] | None]], order: Any
) -> list[tuple[str, Mapping[str, Any], list[Any] | None]]:
    """react-jsonschema-form's ``ui:order``: the names listed first, ``*`` for the rest."""
    if not isinstance(order, list):
        return fields
    names = [str(n) for n in order]
    rest = [f for f in fields if f[0] not in names]
    by_name = {f[0]: f for f in fields}
    result: list[tuple[str, Mapping[str, Any], list[Any] | None]] = []
    for name in names:
        if name == "*":
            result.extend(rest)
        elif name in by_name:
            result.append(by_name[name])
    if "*" not in names:
        result.extend(rest)
    return result


# ``ui:widget`` values the portal draws as they are named (an input of that type, or the
# matching choice widget); the value's rules still come from the schema.
_UI_WIDGETS = {"password", "textarea", "hidden", "range", "color", "radio", "checkboxes", "select"}


def _ui(item: Field, prop: Mapping[str, Any], teams: Sequence[str]) -> Field:
    """The ``ui:*`` keys of Backstage's forms: widget, help, autofocus, options, owner picker."""
    changes: dict[str, Any] = {}
    widget = prop.get("ui:widget")
    if widget in _UI_WIDGETS:
        choice = widget in ("radio", "select", "checkboxes")
        if not choice or item.options:
            changes["widget"] = widget
        if widget == "range" and (item.minimum is None or item.maximum is None):
            changes["widget"] = "number"  # a slider needs both ends
    if prop.get("ui:field") == "OwnerPicker" and teams:
        changes["widget"] = "select"
        changes["options"] = tuple(Option(f"group:default/{t}", t) for t in teams)
        changes["pattern"] = None
    extra = prop.get("ui:help")
    if isinstance(extra, str) and extra:
        changes["help"] = f"{item.help} {extra}".strip()
    if prop.get("ui:autofocus") is True:
        changes["autofocus"] = True
    options = prop.get("ui:options")
    if isinstance(options, Mapping):
        if isinstance(options.get("rows"), int):
            changes["rows"] = options["rows"]
            changes.setdefault("widget", "textarea")
        if isinstance(options.get("placeholder"), str):
            changes["placeholder"] = options["placeholder"]
        if options.get("inputType") in ("email", "url", "date", "number", "tel", "text"):
            changes.setdefault("widget", options["inputType"])
    placeholder = prop.get("ui:placeholder")
    if isinstance(placeholder, str):
        changes["placeholder"] = placeholder
    return replace(item, **changes) if changes else item


def fields_of(form: Sequence[Page]) -> list[Field]:
    return [f for page in form for f in page.fields]


def parse(form: Sequence[Page], posted: Mapping[str, list[str]]) -> dict[str, Any]:
    """The parameters a posted form means.

    An empty field is left out (so its default applies); an unchecked checkbox is ``false``
    unless its field is conditional. Values that cannot be converted stay strings and names
    that are not fields are passed on, so the service refuses them with the field's own rule.
    """
    values: dict[str, Any] = {}
    known = set()
    for item in fields_of(form):
        known.add(item.name)
        value = _value(item, posted.get(item.name, []))
        if value is not None:
            values[item.name] = value
        elif item.widget == "checkbox" and not item.conditional:
            values[item.name] = False
    for name, raw in posted.items():
        if name not in known and name not in RESERVED and raw:
            values[name] = raw[-1]
    return values


def query_values(form: Sequence[Page], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """Initial values from a query string (the preview's "Change" link); never a secret."""
    values = {}
    for item in fields_of(form):
        if not item.secret and item.name in query:
            value = _value(item, query[item.name])
            if value is not None:
                values[item.name] = value
    return values


def shown_values(form: Sequence[Page], values: Mapping[str, Any]) -> dict[str, Any]:
    """What the form shows back: the values, never a secret."""
    secret = {f.name for f in fields_of(form) if f.secret}
    return {k: v for k, v in values.items() if k not in secret}


def _value(item: Field, raw: list[str]) -> Any:
    """One field's posted strings as a parameter value; None when nothing was given."""
    if item.widget == "checkbox":
        return raw[-1] in ("on", "true", "1") if raw else None
    if item.widget == "checkboxes":
        return [_typed(item, v) for v in raw if v != ""] if raw else None
    if item.widget == "lines":
        lines = [line.strip() for text in raw for line in text.splitlines() if line.strip()]
        return lines or None
    if item.widget == "json":
        text = raw[-1].strip() if raw else ""
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text  # refused by the service with the field's own rule
    return _typed(item, raw[-1]) if raw and raw[-1] != "" else None


def as_text(item: Field, value: Any) -> str:
    """A value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if item.widget == "lines" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _field(
    name: str,
    prop: Mapping[str, Any],
    enum: list[Any] | None,
    required: bool,
    show_when: tuple[Condition, ...],
) -> Field:
    kind = prop.get("type")
    secret = bool(secret_names({"properties": {name: prop}}))
    common: dict[str, Any] = {
        "name": name,
        "label": str(prop.get("title") or name.replace("_", " ").capitalize()),
        "help": str(prop.get("description", "")),
        "required": required,
        "default": None if secret or "default" not in prop else form_text(prop["default"]),
        "show_when": show_when,
        "secret": secret,
        "schema": prop,
    }
    if enum is not None:
        names = prop.get("enumNames")  # react-jsonschema-form's labels, one per value
        labels = names if isinstance(names, list) and len(names) == len(enum) else enum
        options = tuple(
            Option(form_text(v), form_text(n)) for v, n in zip(enum, labels, strict=True)
        )
        widget = "radio" if len(options) <= RADIO_LIMIT else "select"
        return Field(widget=widget, options=options, **common)
    if kind == "boolean":
        return Field(widget="checkbox", **common)
    if kind in ("integer", "number"):
        return _numeric(prop, kind == "integer", common)
    if kind == "array":
        items = prop.get("items", {})
        if isinstance(items, Mapping) and isinstance(items.get("enum"), list):
            options = tuple(Option(form_text(v), form_text(v)) for v in items["enum"])
            return Field(widget="checkboxes", options=options, **common)
        if isinstance(items, Mapping) and items.get("type") in ("object", "array"):
            return Field(widget="json", **common)  # a list of objects, typed as JSON
        return Field(widget="lines", **common)
    return _string(prop, secret, common)


def _string(prop: Mapping[str, Any], secret: bool, common: dict[str, Any]) -> Field:
    widget = {"email": "email", "uri": "url", "date": "date"}.get(str(prop.get("format")), "text")
    max_length = prop.get("maxLength")
    if secret:
        widget = "password"
    elif isinstance(max_length, int) and max_length >= TEXTAREA_FROM:
        widget = "textarea"
    pattern = prop.get("pattern")
    message = prop.get("errorMessage")
    return Field(
        widget=widget,
        pattern=html_pattern(pattern) if isinstance(pattern, str) else None,
        pattern_message=str(message) if isinstance(message, str) else None,
        min_length=prop.get("minLength") if isinstance(prop.get("minLength"), int) else None,
        max_length=max_length if isinstance(max_length, int) else None,
        **common,
    )


def _numeric(prop: Mapping[str, Any], integer: bool, common: dict[str, Any]) -> Field:
    low, high = _number(prop.get("minimum")), _number(prop.get("maximum"))
    above, below = _number(prop.get("exclusiveMinimum")), _number(prop.get("exclusiveMaximum"))
    # HTML bounds are inclusive: an exclusive bound is exact for integers, close for numbers.
    if above is not None:
        bound = math.floor(above) + 1 if integer else above
        low = bound if low is None else max(low, bound)
    if below is not None:
        bound = math.ceil(below) - 1 if integer else below
        high = bound if high is None else min(high, bound)
    return Field(
        widget="number", minimum=low, maximum=high, step="1" if integer else "any", **common
    )


def _typed(item: Field, raw: str) -> Any:
    for option in _enum_values(item):
        if form_text(option) == raw:
            return option
    kind = item.schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = float(raw)
            return int(number) if number.is_integer() and "." not in raw else number
    except ValueError:
        return raw
    return raw


def _enum_values(item: Field) -> list[Any]:
    enum = item.schema.get("enum")
    if item.widget == "checkboxes":
        enum = item.schema.get("items", {}).get("enum")
    if isinstance(enum, list):
        return enum
    return [option.value for option in item.options]


@dataclass(frozen=True)
class _Declared:
    """Every property a page declares, at its top or in its conditional parts (first wins), and
    the choices of those only ever given as a ``const`` in ``oneOf``/``anyOf`` branches."""

    properties: dict[str, Mapping[str, Any]]
    choices: dict[str, list[Any]]

    @classmethod
    def of(cls, page: Mapping[str, Any]) -> _Declared:
        found = cls({}, {})
        found._visit(page, in_branch=False)
        return found

    def _visit(self, node: Mapping[str, Any], *, in_branch: bool) -> None:
        properties = node.get("properties", {})
        for name, prop in properties.items() if isinstance(properties, Mapping) else ():
            if not isinstance(prop, Mapping):
                continue
            if in_branch and "const" in prop and "enum" not in self.properties.get(name, {}):
                self.choices.setdefault(name, []).append(prop["const"])
            self.properties.setdefault(name, prop)
        for keyword in ("oneOf", "anyOf", "allOf"):
            branches = node.get(keyword)
            for branch in branches if isinstance(branches, list) else []:
                if isinstance(branch, Mapping):
                    self._visit(branch, in_branch=keyword != "allOf")
        for keyword in ("then", "else"):
            if isinstance(node.get(keyword), Mapping):
                self._visit(node[keyword], in_branch=False)
        dependent = node.get("dependentSchemas", {})
        for branch in dependent.values() if isinstance(dependent, Mapping) else ():
            if isinstance(branch, Mapping):
                self._visit(branch, in_branch=False)

    def fields(self) -> list[tuple[str, Mapping[str, Any], list[Any] | None]]:
        """(name, schema, enum) of each property worth a field; a lone constant is not one."""
        result: list[tuple[str, Mapping[str, Any], list[Any] | None]] = []
        for name, prop in self.properties.items():
            choices = self.choices.get(name)
            if isinstance(prop.get("enum"), list):
                result.append((name, prop, list(prop["enum"])))
            elif choices and len(choices) > 1:
                result.append((name, prop, choices))
            elif "const" not in prop:
                result.append((name, prop, None))
        return result


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
