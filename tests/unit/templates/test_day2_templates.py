"""``spec.day2`` in the template format: named operations with their own form and steps,
checked at load with the file, the field and the line of each mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.registry import builtin_actions
from goldenpath.errors import TemplateInvalid
from goldenpath.templates.loader import load_template

KNOWN: dict[str, type[Any]] = {a.id: a for a in builtin_actions()}

BASE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: demo
spec:
  steps:
    - id: db
      action: postgres:database
      input: {name: demo_db}
  day2:
    - name: rotate-password
      title: Rotate
      parameters:
        properties:
          reason: {type: string, maxLength: 100}
      steps:
        - id: rotate
          action: postgres:rotate-password
          resource: db
"""


def edited(line: int, replacement: str) -> str:
    lines = BASE.splitlines()
    lines[line - 1] = replacement
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_day2_actions_load_with_their_forms(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, BASE), KNOWN)
    [action] = template.document.spec.day2
    assert (action.name, action.title, [s.resource for s in action.steps]) == (
        "rotate-password",
        "Rotate",
        ["db"],
    )
    schema = template.day2_schema("rotate-password")
    assert schema["additionalProperties"] is False and set(schema["properties"]) == {"reason"}


@pytest.mark.parametrize(
    ("line", "replacement", "field", "problem"),
    [
        (11, "    - name: Rotate Password", "spec.day2[0].name", "should match pattern"),
        (
            15,
            "          reason: {type: strin, maxLength: 100}",
            "spec.day2[0].parameters.properties.reason.type",
            "not valid JSON Schema",
        ),
        (
            19,
            "          resource: nope",
            "spec.day2[0].steps[0].resource",
            "'nope' is not a step of spec.steps",
        ),
        (
            18,
            "          action: postgres:database",
            "spec.day2[0].steps[0].action",
            "creates things",
        ),
        (
            18,
            "          action: redis:rotate-password",
            "spec.day2[0].steps[0].action",
            "not on what step 'db' makes (postgres:database)",
        ),
        (
            18,
            "          action: postgres:nothing",
            "spec.day2[0].steps[0].action",
            "unknown action",
        ),
        (
            19,
            "          resource: db\n          input: {x: '${{ steps.later.output.y }}'}",
            "spec.day2[0].steps[0].input.x",
            "not a step of this golden path",
        ),
        (
            19,
            "          resource: db\n          each: [1, 2]",
            "spec.day2[0].steps[0].each",
            "no 'each'",
        ),
        (
            19,
            "          resource: db\n    - name: rotate-password\n      steps: "
            "[{id: a, action: postgres:rotate-password, resource: db}]",
            "spec.day2[1].name",
            "declared twice",
        ),
    ],
)
def test_a_bad_day2_action_is_named_with_its_field_and_line(
    tmp_path: Path, line: int, replacement: str, field: str, problem: str
) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        load_template(write(tmp_path, edited(line, replacement)), KNOWN)
    assert refused.value.details["field"] == field
    assert problem in refused.value.details["problem"]
    assert refused.value.details["line"] in (line, line + 1, line + 2)


def test_an_operation_is_refused_among_the_ordinary_steps(tmp_path: Path) -> None:
    text = BASE.replace("      action: postgres:database", "      action: postgres:rotate-password")
    with pytest.raises(TemplateInvalid, match="works on an existing resource") as refused:
        load_template(write(tmp_path, text), KNOWN)
    assert (refused.value.details["field"], refused.value.details["line"]) == (
        "spec.steps[0].action",
        8,
    )
