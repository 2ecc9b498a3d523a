"""Rendering ``${{ }}`` expressions: native types, data that stays data, and the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath.errors import TemplateInvalid
from goldenpath.templates.rendering import (
    STEP_REF,
    PendingOutput,
    Renderer,
    check_syntax,
    condition_text,
    pending_step,
)

PARAMETERS: dict[str, Any] = {
    "name": "orders",
    "replicas": 3,
    "ratio": 0.5,
    "public": False,
    "enabled": True,
    "zones": ["a", "b"],
    "labels": {"team": "payments"},
    "size": "small",
    "nothing": None,
}


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(
        {
            "parameters": PARAMETERS,
            "steps": {"db": {"output": {"port": 5432, "host": "db.local"}}},
        },
        file="demo.yaml",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${{ parameters.replicas }}", 3),
        ("${{parameters.replicas}}", 3),
        ("  ${{ parameters.replicas }}\n", 3),
        ("${{ parameters.ratio }}", 0.5),
        ("${{ parameters.public }}", False),
        ("${{ parameters.enabled }}", True),
        ("${{ parameters.zones }}", ["a", "b"]),
        ("${{ parameters.labels }}", {"team": "payments"}),
        ("${{ parameters.nothing }}", None),
        ("${{ parameters.replicas * 2 }}", 6),
        ("${{ 20 if parameters.size == 'small' else 50 }}", 20),
        ("${{ parameters.zones | length }}", 2),
        ("${{ steps.db.output.port }}", 5432),
        ("${{ [parameters.name, parameters.replicas] }}", ["orders", 3]),
    ],
)
def test_a_sole_expression_keeps_its_type(renderer: Renderer, text: str, expected: Any) -> None:
    result = renderer.render(text, "spec.steps[0].input.x")

    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("db-${{ parameters.name }}", "db-orders"),
        ("${{ parameters.replicas }} replicas", "3 replicas"),
        ("${{ parameters.name }}-${{ parameters.replicas }}", "orders-3"),
        ("${{ steps.db.output.host }}:${{ steps.db.output.port }}", "db.local:5432"),
        ("${{ parameters.name | upper }}!", "ORDERS!"),
        ("no expression here", "no expression here"),
        ("jinja {{ braces }} without the dollar", "jinja {{ braces }} without the dollar"),
        ("", ""),
    ],
)
def test_mixed_strings_render_to_text(renderer: Renderer, text: str, expected: str) -> None:
    assert renderer.render(text, "where") == expected


def test_structures_render_recursively_and_keep_other_values(renderer: Renderer) -> None:
    value = {
        "name": "${{ parameters.name }}",
        "ports": ["${{ steps.db.output.port }}", 6432],
        "flags": {"public": "${{ parameters.public }}", "fixed": True},
        "none": None,
    }

    assert renderer.render(value, "input") == {
        "name": "orders",
        "ports": [5432, 6432],
        "flags": {"public": False, "fixed": True},
        "none": None,
    }


@pytest.mark.parametrize(
    "smuggled",
    [
        "${{ 7*7 }}",
        "{{ config }}",
        "${{ ''.__class__.__mro__[1].__subclasses__() }}",
        "${% for i in range(9) %}x${% endfor %}",
        "${# comment #}",
        "}} ${{",
    ],
)
@pytest.mark.parametrize("template", ["${{ parameters.value }}", "value: ${{ parameters.value }}"])
def test_parameter_values_are_data_never_template_code(smuggled: str, template: str) -> None:
    renderer = Renderer({"parameters": {"value": smuggled}})

    rendered = renderer.render({"a": template, "b": [template]}, "input")

    expected = template.replace("${{ parameters.value }}", smuggled)
    assert rendered == {"a": expected, "b": [expected]}


@pytest.mark.parametrize(
    "text",
    [
        "${{ ''.__class__ }}",
        "${{ ''.__class__.__mro__[1].__subclasses__() }}",
        "${{ parameters.__class__ }}",
        "${{ cycler.__init__.__globals__ }}",
        "${{ lipsum.__globals__ }}",
        "${{ parameters.items.__self__ }}",
        "${{ parameters.name | attr('__class__') }}",
        "${{ '{0.__class__}'.format(parameters) }}",
        "prefix ${{ parameters.name.__class__.__subclasses__() }}",
        "${{ parameters.zones.append('c') }}",
        "${{ parameters.labels.update(team='x') }}",
        "${{ range(10**9) | list }}",
    ],
)
def test_the_sandbox_refuses_unsafe_access(renderer: Renderer, text: str) -> None:
    with pytest.raises(TemplateInvalid, match=r"is unsafe|sandbox blocks") as raised:
        renderer.render(text, "spec.steps[0].input.x")

    assert raised.value.details["field"] == "spec.steps[0].input.x"
    assert PARAMETERS["zones"] == ["a", "b"]
    assert PARAMETERS["labels"] == {"team": "payments"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("${{ nope }}", "'nope' is undefined"),
        ("${{ config }}", "'config' is undefined"),
        ("x-${{ nope }}", "'nope' is undefined"),
        ("${{ parameters.nope }}", "has no attribute 'nope'"),
        ("${{ steps.missing.output.x }}", "has no attribute 'missing'"),
        ("${{ parameters.replicas / 0 }}", "division by zero"),
        ("${{ parameters.name + 1 }}", "can only concatenate"),
        ("${{ parameters.zones[5] }}", "has no element 5"),
    ],
)
def test_a_failing_expression_is_template_invalid_naming_where(
    renderer: Renderer, text: str, match: str
) -> None:
    with pytest.raises(TemplateInvalid, match=match) as raised:
        renderer.render({"inner": [text]}, "spec.steps[1].input")

    assert raised.value.details["field"] == "spec.steps[1].input.inner[0]"
    assert raised.value.details["file"] == "demo.yaml"
    assert "demo.yaml is invalid at spec.steps[1].input.inner[0]" in str(raised.value)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (None, True),
        (True, True),
        (False, False),
        ("parameters.enabled", True),
        ("parameters.public", False),
        ("not parameters.public", True),
        ("false", False),
        ("true", True),
        ("parameters.size == 'small'", True),
        ("parameters.replicas > 5", False),
        ("${{ parameters.enabled }}", True),
        ("${{ parameters.public }}", False),
        ("${{ parameters.replicas > 2 and parameters.enabled }}", True),
        ("${{ parameters.zones }}", True),
        ("${{ parameters.nothing }}", False),
        ("parameters.size in ['medium', 'large']", False),
    ],
)
def test_conditions(renderer: Renderer, condition: str | bool | None, expected: bool) -> None:
    assert renderer.condition(condition, "spec.steps[0].if") is expected


def test_a_condition_on_an_undefined_name_is_template_invalid(renderer: Renderer) -> None:
    with pytest.raises(TemplateInvalid, match="'nope' is undefined") as raised:
        renderer.condition("nope", "spec.steps[0].if")

    assert raised.value.details["field"] == "spec.steps[0].if"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parameters.x", "${{ parameters.x }}"),
        ("${{ parameters.x }}", "${{ parameters.x }}"),
        ("${% if x %}1${% endif %}", "${% if x %}1${% endif %}"),
    ],
)
def test_condition_text(text: str, expected: str) -> None:
    assert condition_text(text) == expected


def test_pending_outputs_render_as_known_after_apply() -> None:
    renderer = Renderer({"parameters": PARAMETERS, "steps": {"db": pending_step("db")}})

    sole = renderer.render("${{ steps.db.output.dsn }}", "out")
    by_key = renderer.render("${{ steps.db.output['port'] }}", "out")
    mixed = renderer.render("host=${{ steps.db.output.host }}", "out")

    assert sole == "(known after apply: steps.db.output.dsn)"
    assert isinstance(sole, PendingOutput)
    assert by_key == "(known after apply: steps.db.output.port)"
    assert mixed == "host=(known after apply: steps.db.output.host)"


def test_pending_outputs_hide_private_attributes() -> None:
    renderer = Renderer({"steps": {"db": pending_step("db")}})

    with pytest.raises(TemplateInvalid, match=r"attribute '_step_id' .* is unsafe"):
        renderer.render("${{ steps.db.output._step_id }}", "out")


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("plain text", True),
        ("${{ parameters.name }}", True),
        ("a ${{ x }} b ${{ y | upper }}", True),
        ("${% if x %}y${% endif %}", True),
        ("${{ }}", False),
        ("${{ parameters.name + }}", False),
        ("${{ oops( }}", False),
        ("${{ a }", False),
        ("x ${{ a", False),
        ("${% if %}", False),
    ],
)
def test_check_syntax(text: str, valid: bool) -> None:
    problem = check_syntax(text)

    assert (problem is None) is valid
    if not valid:
        assert problem


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("${{ steps.db.output.dsn }}", [("db", "dsn")]),
        ("${{ steps.a_1.output.x }}-${{ steps.b.output.Y2 }}", [("a_1", "x"), ("b", "Y2")]),
        ("${{ parameters.steps }}", []),
    ],
)
def test_step_references(text: str, refs: list[tuple[str, str]]) -> None:
    assert STEP_REF.findall(text) == refs
