"""A Backstage ``Template`` entity converted to the native golden path document.

The rest of the platform only ever sees the native document, so the faces do not know which
format a template came from. What cannot be converted faithfully is refused with the field that
holds it: a template loads right or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from goldenpath.errors import TemplateInvalid
from goldenpath.templates.backstage.pickers import KNOWN_FIELDS, picker_rules

API_VERSION = "scaffolder.backstage.io/v1beta3"
# Steps that change Backstage's shared working directory, and steps that read it: the readers
# get the writers' operations as their ``workspace`` input (see actions/backstage/workspace.py).
WORKSPACE_WRITERS = frozenset(
    {"fetch:template", "fetch:plain", "fs:rename", "fs:delete", "catalog:write"}
)
WORKSPACE_READERS = frozenset({"publish:github", "publish:gitea", "catalog:register"})
_SECRETS = re.compile(r"\bsecrets\.")
_STEP_INDEX = re.compile(r"steps\[\s*['\"]([^'\"]+)['\"]\s*\]")
_STRICT_EQUAL = re.compile(r"(!|=)==")


def is_backstage(raw: Mapping[str, Any]) -> bool:
    return raw.get("apiVersion") == API_VERSION


def convert(
    raw: Mapping[str, Any], path: Path, known_actions: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The native document for a Backstage template, or TemplateInvalid naming the field."""
    if raw.get("kind") != "Template":
        _refuse(path, "kind", f"must be Template for {API_VERSION} (got {raw.get('kind')!r})")
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), Mapping) else {}
    spec = raw.get("spec") if isinstance(raw.get("spec"), Mapping) else {}
    assert isinstance(metadata, Mapping) and isinstance(spec, Mapping)
    steps = spec.get("steps") or []
    if not isinstance(steps, list):
        _refuse(path, "spec.steps", "must be a list of steps")
    _check_fields(path, spec.get("parameters"), "spec.parameters")
    ids = {str(s.get("id")): step_id(str(s.get("id"))) for s in steps if isinstance(s, Mapping)}
    native: dict[str, Any] = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "name": metadata.get("name"),
            **{k: metadata[k] for k in ("title", "description", "tags") if k in metadata},
            **({"owner": _owner(spec["owner"])} if isinstance(spec.get("owner"), str) else {}),
        },
        "spec": {
            "parameters": _parameters(spec.get("parameters") or {}),
            "steps": _steps(path, steps, ids, known_actions),
        },
    }
    output = spec.get("output")
    if isinstance(output, Mapping):
        native["spec"]["output"] = _output(output, ids)
    return native


def _steps(
    path: Path, steps: list[Any], ids: Mapping[str, str], known_actions: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    writers: list[str] = []
    for index, step in enumerate(steps):
        native = _step(path, index, step, ids, known_actions)
        if native["action"] in WORKSPACE_READERS:
            native["input"]["workspace"] = [
                f"${{{{ steps.{w}.output.workspace | default(none) }}}}" for w in writers
            ]
        if native["action"] in WORKSPACE_WRITERS:
            writers.append(native["id"])
        converted.append(native)
    return converted


def step_id(backstage_id: str) -> str:
    """Backstage step ids may use '-' and capitals; ours are ``[a-z][a-z0-9_]*``."""
    return re.sub(r"[^a-z0-9_]", "_", backstage_id.lower())


def expression(text: Any, ids: Mapping[str, str]) -> Any:
    """Nunjucks spellings as Jinja's: ``===``/``!==``, ``steps['my-id']`` → ``steps.my_id``."""
    if isinstance(text, str):
        if "${{" not in text:
            return text
        text = _STEP_INDEX.sub(lambda m: f"steps.{ids.get(m.group(1), step_id(m.group(1)))}", text)
        # ``ui:field: Secret`` values are parameters marked secret (masked, sealed at rest).
        text = _SECRETS.sub("parameters.", text)
        return _STRICT_EQUAL.sub(lambda m: m.group(1) + "=", text)
    if isinstance(text, Mapping):
        return {k: expression(v, ids) for k, v in text.items()}
    if isinstance(text, list):
        return [expression(v, ids) for v in text]
    return text


def _owner(ref: str) -> str:
    return ref.split("/")[-1].split(":")[-1]


def _parameters(parameters: Any) -> Any:
    if isinstance(parameters, list):
        return [_schema(page) for page in parameters]
    return _schema(parameters)


def _schema(node: Any) -> Any:
    """react-jsonschema-form's draft-07 ``dependencies`` as 2020-12's two keywords."""
    if isinstance(node, list):
        return [_schema(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "dependencies" and isinstance(value, Mapping):
            required = {k: v for k, v in value.items() if isinstance(v, list)}
            schemas = {k: _schema(v) for k, v in value.items() if not isinstance(v, list)}
            if required:
                result["dependentRequired"] = required
            if schemas:
                result["dependentSchemas"] = schemas
        elif key in ("properties", "dependentSchemas") and isinstance(value, Mapping):
            result[key] = {k: _schema(v) for k, v in value.items()}
        else:
            result[key] = _schema(value)
    if "ui:field" in result or result.get("ui:widget") == "password":
        result.update(picker_rules(result))
    return result


def _check_fields(path: Path, node: Any, where: str) -> None:
    """A custom field extension validates in Backstage's browser only: without it the field
    would accept what the template's author never meant, so it is refused."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_fields(path, item, f"{where}[{index}]")
    elif isinstance(node, Mapping):
        field = node.get("ui:field")
        if field is not None and field not in KNOWN_FIELDS:
            _refuse(
                path,
                f"{where}.ui:field",
                f"'{field}' is a custom field extension Golden Path does not have "
                f"(known: {', '.join(sorted(KNOWN_FIELDS))})",
            )
        for key, value in node.items():
            _check_fields(path, value, f"{where}.{key}")


def _step(
    path: Path,
    index: int,
    step: Any,
    ids: Mapping[str, str],
    known_actions: Mapping[str, Any] | None,
) -> dict[str, Any]:
    where = f"spec.steps[{index}]"
    if not isinstance(step, Mapping):
        _refuse(path, where, "must be a mapping")
    action = str(step.get("action"))
    name = str(step.get("id"))
    if known_actions is not None and action not in known_actions:
        _refuse(
            path,
            f"{where}.action",
            f"step '{name}' uses action '{action}', which Golden Path does not have "
            "(add it through the 'goldenpath.actions' entry-point group)",
        )
    converted: dict[str, Any] = {
        "id": ids.get(name, step_id(name)),
        "action": action,
        "input": expression(_input(action, step.get("input") or {}), ids),
    }
    if "name" in step:
        converted["name"] = step["name"]
    if "if" in step:
        converted["if"] = expression(step["if"], ids)
    if "each" in step:
        converted["each"] = expression(step["each"], ids)
    return converted


def _input(action: str, given: Mapping[str, Any]) -> dict[str, Any]:
    if action == "debug:wait" and set(given) <= {"minutes", "seconds", "milliseconds"}:
        seconds = (
            float(given.get("minutes", 0)) * 60
            + float(given.get("seconds", 0))
            + float(given.get("milliseconds", 0)) / 1000
        )
        return {"seconds": seconds}
    return dict(given)


def _output(output: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    links = output.get("links")
    if isinstance(links, list):
        result["links"] = [
            expression(
                {k: str(v).lower() if isinstance(v, bool) else v for k, v in link.items()}, ids
            )
            for link in links
            if isinstance(link, Mapping)
        ]
    text = output.get("text")
    if isinstance(text, list):
        result["text"] = "\n\n".join(_text(item, ids) for item in text if isinstance(item, Mapping))
    values = {k: v for k, v in output.items() if k not in ("links", "text")}
    if values:
        result["values"] = {k: expression(str(v), ids) for k, v in values.items()}
    return result


def _text(item: Mapping[str, Any], ids: Mapping[str, str]) -> str:
    """One ``output.text[]`` entry; its ``if`` becomes a block around it (blocks are ``${% %}``)."""
    title = f"{item['title']}\n\n" if item.get("title") else ""
    content = f"{title}{expression(str(item.get('content', '')), ids)}"
    condition = item.get("if")
    if condition is None:
        return content
    if isinstance(condition, bool):
        return content if condition else ""
    test = str(expression(condition, ids)).strip()
    if test.startswith("${{") and test.endswith("}}"):
        test = test[3:-2].strip()
    return f"${{% if {test} %}}{content}${{% endif %}}"


def _refuse(path: Path, field: str, problem: str) -> None:
    raise TemplateInvalid(file=str(path), field=field, line="?", problem=problem)
