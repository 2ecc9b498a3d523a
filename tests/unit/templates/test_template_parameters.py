"""Developer-typed parameters: the merged JSON Schema, defaults, and one clear error per problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import InvalidInputs
from goldenpath.templates import parameters
from goldenpath.templates.loader import load_template

STARTER = Path(__file__).parents[3] / "starter" / "templates" / "postgres-database.yaml"
STARTER_NAME_RULE = "must be 3-31 lower-case letters, digits or _, starting with a letter"


@pytest.fixture(scope="module")
def starter_schema() -> dict[str, Any]:
    return load_template(STARTER).schema


def schema_of(properties: dict[str, Any], **page: Any) -> dict[str, Any]:
    return parameters.merged_schema({"properties": properties, **page})


def problems(schema: dict[str, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, rule) pairs ``validate`` refuses ``values`` with."""
    with pytest.raises(InvalidInputs) as raised:
        parameters.validate(schema, values)
    return [(error.field, error.details["rule"]) for error in raised.value.errors]


def test_valid_values_come_back_with_defaults(starter_schema: dict[str, Any]) -> None:
    assert parameters.validate(starter_schema, {"name": "orders"}) == {
        "name": "orders",
        "size": "small",
    }
    assert parameters.validate(starter_schema, {"name": "orders", "size": "medium"}) == {
        "name": "orders",
        "size": "medium",
    }


def test_defaults_fill_nested_objects() -> None:
    schema = schema_of(
        {
            "db": {
                "type": "object",
                "properties": {
                    "size": {"type": "string", "default": "small"},
                    "backup": {
                        "type": "object",
                        "properties": {"days": {"type": "integer", "default": 7}},
                    },
                },
            },
            "cache": {
                "type": "object",
                "default": {},
                "properties": {"ttl": {"type": "integer", "default": 60}},
            },
        }
    )

    assert parameters.validate(schema, {"db": {"backup": {}}}) == {
        "db": {"size": "small", "backup": {"days": 7}},
        "cache": {"ttl": 60},
    }
    assert parameters.validate(schema, {"db": {"size": "large"}})["db"] == {"size": "large"}


def test_defaults_are_copies_and_values_are_not_changed() -> None:
    schema = schema_of({"tags": {"type": "array", "default": ["a"]}})
    values: dict[str, Any] = {}

    filled = parameters.apply_defaults(schema, values)
    filled["tags"].append("b")

    assert values == {}
    assert schema["properties"]["tags"]["default"] == ["a"]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({}, []),
        ({"properties": {"a": {}}}, [{"properties": {"a": {}}}]),
        ([{"title": "One"}, {"title": "Two"}], [{"title": "One"}, {"title": "Two"}]),
    ],
)
def test_pages(declared: Any, expected: list[dict[str, Any]]) -> None:
    assert parameters.pages(declared) == expected


@pytest.fixture
def two_pages() -> dict[str, Any]:
    return parameters.merged_schema(
        [
            {
                "title": "Service",
                "required": ["service"],
                "properties": {"service": {"type": "string", "pattern": "^[a-z]+$"}},
            },
            {
                "title": "Database",
                "required": ["engine"],
                "properties": {
                    "engine": {"enum": ["postgres", "mariadb"]},
                    "replicas": {"type": "integer", "default": 1},
                },
            },
        ]
    )


def test_form_pages_merge_into_one_schema(two_pages: dict[str, Any]) -> None:
    assert parameters.check_schema(two_pages) is None
    assert set(two_pages["properties"]) == {"service", "engine", "replicas"}
    assert parameters.validate(two_pages, {"service": "shop", "engine": "postgres"}) == {
        "service": "shop",
        "engine": "postgres",
        "replicas": 1,
    }


def test_every_page_keeps_its_required_fields(two_pages: dict[str, Any]) -> None:
    assert problems(two_pages, {}) == [("service", "is required"), ("engine", "is required")]


def test_properties_of_conditional_parts_are_parameters() -> None:
    schema = schema_of(
        {"kind": {"enum": ["a", "b"]}},
        **{
            "if": {"properties": {"kind": {"const": "b"}}},
            "then": {"properties": {"extra": {"type": "string"}}, "required": ["extra"]},
        },
    )

    assert parameters.validate(schema, {"kind": "b", "extra": "x"}) == {"kind": "b", "extra": "x"}
    assert problems(schema, {"kind": "b"}) == [("extra", "is required")]


def test_missing_required_parameter_is_named(starter_schema: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputs, match="Invalid value for 'name': is required"):
        parameters.validate(starter_schema, {})


def test_missing_nested_parameter_is_named_by_its_path() -> None:
    schema = schema_of({"db": {"type": "object", "required": ["name"], "properties": {"name": {}}}})

    assert problems(schema, {"db": {}}) == [("db.name", "is required")]


@pytest.mark.parametrize(
    "values",
    [{"name": "orders", "colour": "red"}, {"name": "orders", "size": "small", "colour": 1}],
)
def test_unknown_parameter_is_refused(starter_schema: dict[str, Any], values: Any) -> None:
    assert problems(starter_schema, values) == [
        ("colour", "is not a parameter of this golden path")
    ]


@pytest.mark.parametrize(
    "name", ["'; DROP TABLE x; --", "$(touch /tmp/pwned)", "a', 'b", "x (y)", 'say "hi"']
)
def test_an_unknown_parameter_is_refused_whatever_its_name_holds(
    starter_schema: dict[str, Any], name: str
) -> None:
    assert problems(starter_schema, {"name": "orders", name: "x"}) == [
        (name, "is not a parameter of this golden path")
    ]


def test_pattern_mismatch_shows_the_error_message(starter_schema: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputs, match=f"Invalid value for 'name': {STARTER_NAME_RULE}"):
        parameters.validate(starter_schema, {"name": "Orders"})


def test_pattern_mismatch_without_error_message_shows_the_pattern() -> None:
    schema = schema_of({"code": {"type": "string", "pattern": "^[A-Z]{3}$"}})

    assert problems(schema, {"code": "abc"}) == [("code", "must match the pattern ^[A-Z]{3}$")]


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        pytest.param("x'); DROP TABLE t;--", {STARTER_NAME_RULE}, id="sql-injection"),
        pytest.param("a" * 32, {STARTER_NAME_RULE}, id="over-the-limit"),
        pytest.param("ab", {STARTER_NAME_RULE}, id="under-the-limit"),
        pytest.param(
            "orders\x00", {"must not contain control characters", STARTER_NAME_RULE}, id="nul"
        ),
        pytest.param("../etc/passwd", {STARTER_NAME_RULE}, id="path-traversal"),
        pytest.param("$(rm -rf /)", {STARTER_NAME_RULE}, id="shell"),
        pytest.param("orders; rm -rf /", {STARTER_NAME_RULE}, id="shell-separator"),
        pytest.param(
            "\uff4frders",
            {"must not contain look-alike (compatibility) characters", STARTER_NAME_RULE},
            id="fullwidth-look-alike",
        ),
        pytest.param(
            "a" * 10_000,
            {"must be at most 1024 characters", STARTER_NAME_RULE},
            id="10kB",
        ),
        # errorMessage replaces every rule of its property, as ajv-errors does
        pytest.param(42, {STARTER_NAME_RULE}, id="not-a-string"),
    ],
)
def test_the_starter_name_refuses_unsafe_values(
    starter_schema: dict[str, Any], value: Any, rules: set[str]
) -> None:
    found = problems(starter_schema, {"name": value})

    assert {field for field, _ in found} == {"name"}
    assert {rule for _, rule in found} == rules


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        pytest.param("line\x00break", "must not contain control characters", id="nul"),
        pytest.param("bell\x07", "must not contain control characters", id="c0"),
        pytest.param("csi\x9b31m", "must not contain control characters", id="c1"),
        pytest.param("admin\u202egpj.exe", "must not contain control characters", id="bidi"),
        pytest.param("\uff4frders", "must not contain look-alike", id="fullwidth"),
        pytest.param("\ufb01le", "must not contain look-alike", id="ligature"),
        pytest.param("x" * 1025, "must be at most 1024 characters", id="over-default-limit"),
        pytest.param("y" * 10_240, "must be at most 1024 characters", id="10kB"),
    ],
)
def test_free_text_refuses_unsafe_strings(value: str, rule: str) -> None:
    schema = schema_of({"note": {"type": "string"}, "tags": {"type": "array"}})

    [(field, found)] = problems(schema, {"note": value})
    assert field == "note"
    assert found.startswith(rule)
    [(item, _)] = problems(schema, {"tags": ["ok", value]})
    assert item == "tags[1]"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("$(rm -rf /); `id` | cat > /dev/null && echo 'x' \"y\"", id="shell-is-data"),
        pytest.param("tab\tnew\nline\r\n", id="whitespace"),
        pytest.param("caf\u00e9 na\u0131ve \u65e5\u672c", id="letters"),
        pytest.param("cafe\u0301", id="combining-accent"),
        pytest.param("x" * 1024, id="at-the-limit"),
        pytest.param("${{ 7*7 }}", id="expression-is-data"),
    ],
)
def test_free_text_accepts_ordinary_text(value: str) -> None:
    schema = schema_of({"note": {"type": "string"}})

    assert parameters.validate(schema, {"note": value}) == {"note": value}


def test_a_declared_max_length_replaces_the_default_limit() -> None:
    schema = schema_of({"short": {"type": "string", "maxLength": 5}, "long": {"maxLength": 5000}})

    assert problems(schema, {"short": "abcdef"}) == [("short", "must be at most 5 characters")]
    assert parameters.validate(schema, {"long": "z" * 4000}) == {"long": "z" * 4000}


def test_nested_strings_are_checked_too() -> None:
    schema = schema_of({"db": {"type": "object", "properties": {"name": {"type": "string"}}}})

    assert problems(schema, {"db": {"name": "x\x00"}}) == [
        ("db.name", "must not contain control characters")
    ]


def test_all_problems_are_reported_at_once(starter_schema: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputs) as raised:
        parameters.validate(
            starter_schema, {"name": "x'); DROP TABLE t;--", "size": "huge", "colour": "red"}
        )

    errors = raised.value.errors
    assert sorted((e.field, e.details["rule"]) for e in errors) == [
        ("colour", "is not a parameter of this golden path"),
        ("name", STARTER_NAME_RULE),
        ("size", "must be one of: small, medium"),
    ]
    assert raised.value.details["errors"] == [
        {"field": e.field, "rule": e.details["rule"]} for e in errors
    ]
    for error in errors:
        assert f"Invalid value for '{error.field}'" in str(raised.value)


def test_each_problem_is_reported_once() -> None:
    schema = parameters.merged_schema(
        [{"properties": {"n": {"type": "integer"}}}, {"properties": {"n": {"minimum": 0}}}]
    )

    assert problems(schema, {"n": "x"}) == [("n", "must be of type integer")]


@pytest.mark.parametrize(
    ("prop", "value", "rule"),
    [
        ({"enum": ["small", "medium"]}, "huge", "must be one of: small, medium"),
        ({"enum": [1, 2, None]}, 3, "must be one of: 1, 2, null"),
        ({"enum": ["", "x y", " pad"]}, "z", 'must be one of: "", x y, " pad"'),
        ({"enum": [True]}, False, "must be one of: true"),
        ({"const": "eu-west-1"}, "us-east-1", "must be eu-west-1"),
        ({"const": True}, False, "must be true"),
        ({"type": "integer", "minimum": 1}, 0, "must be at least 1"),
        ({"type": "integer", "maximum": 10}, 11, "must be at most 10"),
        ({"type": "number", "exclusiveMinimum": 0}, 0, "must be greater than 0"),
        ({"type": "number", "exclusiveMaximum": 1.5}, 2, "must be less than 1.5"),
        ({"type": "integer"}, 1.5, "must be of type integer"),
        ({"type": "integer"}, "3", "must be of type integer"),
        ({"type": "string", "minLength": 3}, "ab", "must be at least 3 characters"),
        ({"type": "string", "format": "email"}, "not-an-email", "must be a valid email"),
        ({"type": "string", "format": "ipv4"}, "300.1.1.1", "must be a valid ipv4"),
        ({"type": "array", "minItems": 1}, [], "must have at least 1 items"),
        ({"type": "array", "maxItems": 1}, [1, 2], "must have at most 1 items"),
        ({"type": "array", "uniqueItems": True}, [1, 1], "must not repeat items"),
        (
            {"type": "integer", "maximum": 8, "errorMessage": "at most 8 replicas"},
            9,
            "at most 8 replicas",
        ),
        ({"type": "integer", "multipleOf": 2}, 3, "3 is not a multiple of 2"),
    ],
)
def test_rule_messages(prop: dict[str, Any], value: Any, rule: str) -> None:
    schema = schema_of({"field": prop})

    assert problems(schema, {"field": value}) == [("field", rule)]


def test_any_of_reports_the_branches_problems() -> None:
    schema = schema_of({"port": {"anyOf": [{"type": "integer"}, {"enum": ["auto"]}]}})

    assert sorted(problems(schema, {"port": "x"})) == [
        ("port", "must be of type integer"),
        ("port", "must be one of: auto"),
    ]


@pytest.mark.parametrize(
    ("schema", "problem", "at"),
    [
        ({"type": "object"}, None, None),
        ({"properties": {"a": {"type": "strin"}}}, "is not valid", ("properties", "a", "type")),
        ({"properties": {"a": {"minLength": -1}}}, "-1", ("properties", "a", "minLength")),
        ({"required": "name"}, "is not of type 'array'", ("required",)),
    ],
)
def test_check_schema(schema: dict[str, Any], problem: str | None, at: Any) -> None:
    found = parameters.check_schema(schema)
    located = parameters.schema_problem(schema)

    if problem is None:
        assert found is None
        assert located is None
    else:
        assert found is not None
        assert problem in found
        assert located == (found, at)
