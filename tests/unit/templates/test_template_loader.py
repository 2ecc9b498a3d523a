"""Loading golden path templates: the model, versions, and errors naming file, field and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.postgres.password import PostgresRotatePassword
from goldenpath.errors import TemplateInvalid, TemplateNotFound
from goldenpath.templates.loader import Template, load_catalog, load_template, template_files
from goldenpath.templates.model import TemplateDocument, content_version

STARTER = Path(__file__).parents[3] / "starter" / "templates" / "postgres-database.yaml"
KNOWN_ACTIONS: dict[str, type[Any]] = {
    "debug:log": object,
    "postgres:database": object,
    PostgresRotatePassword.id: PostgresRotatePassword,
}

# Line numbers matter: the cases below replace one line at a time and name the line they expect.
BASE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: demo
spec:
  parameters:
    properties:
      size: {type: string, enum: [small, medium], default: small}
  steps:
    - id: first
      action: debug:log
      input:
        message: ${{ parameters.size }}
    - id: second
      action: debug:log
      input:
        message: ${{ steps.first.output.text }}
  output:
    values:
      text: ${{ steps.second.output.text }}
"""

WriteTemplate = Callable[..., Path]


def edited(line: int, replacement: str, through: int | None = None) -> str:
    """BASE with its 1-based ``line`` (to ``through``) replaced; ``replacement`` may be lines."""
    lines = BASE.splitlines()
    lines[line - 1 : through or line] = [replacement]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_template(tmp_path: Path) -> WriteTemplate:
    def write(text: str = BASE, name: str = "demo.yaml", folder: Path = tmp_path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_the_starter_template_loads() -> None:
    template = load_template(STARTER, known_actions=KNOWN_ACTIONS)

    assert template.name == "postgres-database"
    assert template.title == "PostgreSQL database"
    assert template.version == "1.0.0"
    assert template.source == STARTER.resolve()
    assert [step.id for step in template.document.spec.steps] == ["db"]
    assert template.schema["additionalProperties"] is False
    assert set(template.schema["properties"]) == {"name", "size"}


def test_a_template_loads_and_its_title_defaults_to_its_name(write_template: WriteTemplate) -> None:
    template = load_template(write_template(), known_actions=KNOWN_ACTIONS)

    assert template.name == "demo"
    assert template.title == "demo"
    assert template.document.spec.approval == "on-exception"
    assert template.guardrails == {}


def test_version_comes_from_metadata_when_declared(write_template: WriteTemplate) -> None:
    path = write_template(edited(4, '  name: demo\n  version: "2.1.0"'))

    assert load_template(path).version == "2.1.0"


def test_version_is_a_content_hash_that_follows_the_content(write_template: WriteTemplate) -> None:
    first = load_template(write_template()).version
    again = load_template(write_template()).version
    changed = load_template(write_template(edited(4, "  name: demo\n  title: Demo"))).version

    assert first.startswith("sha-")
    assert first == again
    assert changed != first


def test_version_hash_covers_guardrail_texts(write_template: WriteTemplate, tmp_path: Path) -> None:
    path = write_template(BASE + "  guardrails: [rules.rego]\n")
    (tmp_path / "rules.rego").write_text("package a\n")
    before = load_template(path).version
    (tmp_path / "rules.rego").write_text("package b\n")

    assert load_template(path).version != before


def test_content_version_ignores_key_order() -> None:
    assert content_version({"a": 1, "b": [1, 2]}) == content_version({"b": [1, 2], "a": 1})
    assert content_version({"a": 1}) != content_version({"a": 2})


def test_guardrails_beside_the_template_are_read(
    write_template: WriteTemplate, tmp_path: Path
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "rules.rego").write_text("package rules\n")
    path = write_template(BASE + "  guardrails: [policies/rules.rego]\n")

    assert load_template(path).guardrails == {"demo/policies/rules.rego": "package rules\n"}


@pytest.mark.parametrize(
    ("text", "field", "line", "match"),
    [
        pytest.param(edited(4, "  name: demo: x"), "(document)", 4, "not valid YAML", id="yaml"),
        pytest.param(
            edited(6, "  parameters: [unclosed"), "(document)", 7, "not valid YAML", id="yaml-flow"
        ),
        pytest.param("- just\n- a list\n", "(document)", 1, "not a mapping", id="not-mapping"),
        pytest.param(
            edited(1, "# no apiVersion"), "apiVersion", 2, "is required", id="no-apiVersion"
        ),
        pytest.param(
            edited(1, "apiVersion: goldenpath.dev/v2"),
            "apiVersion",
            1,
            r"'goldenpath.dev/v1' \(got 'goldenpath.dev/v2'\)",
            id="wrong-apiVersion",
        ),
        pytest.param(
            edited(1, "api_version: goldenpath.dev/v1"),
            "apiVersion",
            1,
            "is required",
            id="python-spelling-of-apiVersion",
        ),
        pytest.param(
            edited(2, "kind: Template"),
            "kind",
            2,
            r"'GoldenPath' \(got 'Template'\)",
            id="wrong-kind",
        ),
        pytest.param(
            edited(4, "  name: Demo_DB"),
            "metadata.name",
            4,
            r"should match pattern .*\(got 'Demo_DB'\)",
            id="bad-name",
        ),
        pytest.param(
            edited(4, "  title: no name"), "metadata.name", 3, "is required", id="no-name"
        ),
        pytest.param(
            edited(4, "  name: demo\n  titel: Demo"),
            "metadata.titel",
            5,
            "is not a known field",
            id="unknown-field",
        ),
        pytest.param(
            edited(2, "kind: GoldenPath\nkind: GoldenPath"),
            "kind",
            3,
            r"is set twice \(first on line 2\)",
            id="duplicate-key",
        ),
        pytest.param(
            edited(14, "    - id: first"),
            "spec.steps[1].id",
            14,
            "step id 'first' is used twice",
            id="duplicate-step-id",
        ),
        pytest.param(
            edited(14, "    - id: Second"),
            "spec.steps[1].id",
            14,
            "should match pattern",
            id="bad-step-id",
        ),
        pytest.param(
            edited(15, "      action: debug:nope"),
            "spec.steps[1].action",
            15,
            r"unknown action 'debug:nope' \(known: debug:log, postgres:database, "
            r"postgres:rotate-password\)",
            id="unknown-action",
        ),
        pytest.param(
            edited(17, "        message: ${{ steps.first.output.text + }}"),
            "spec.steps[1].input.message",
            17,
            "unexpected",
            id="expression-syntax",
        ),
        pytest.param(
            edited(17, "        message: [ok, '${{ oops( }}']"),
            "spec.steps[1].input.message[1]",
            17,
            "unexpected",
            id="expression-syntax-in-list",
        ),
        pytest.param(
            edited(13, "        message: ${{ steps.second.output.text }}"),
            "spec.steps[0].input.message",
            13,
            "refers to step 'second', which does not run before it",
            id="later-step",
        ),
        pytest.param(
            edited(17, "        message: ${{ steps.second.output.text }}"),
            "spec.steps[1].input.message",
            17,
            "refers to step 'second', which does not run before it",
            id="own-output",
        ),
        pytest.param(
            edited(13, "        message: ${{ steps.ghost.output.text }}"),
            "spec.steps[0].input.message",
            13,
            "refers to step 'ghost', which is not a step of this golden path",
            id="no-such-step",
        ),
        pytest.param(
            edited(11, "      action: debug:log\n      if: [1]"),
            "spec.steps[0].if",
            12,
            "should be a valid string or a valid boolean",
            id="if-wrong-type",
        ),
        pytest.param(
            edited(11, "      action: debug:log\n      if: parameters.size =="),
            "spec.steps[0].if",
            12,
            "unexpected",
            id="bare-if-syntax",
        ),
        pytest.param(
            edited(15, "      action: debug:log\n      if: ${{ steps.second.output.ok }}"),
            "spec.steps[1].if",
            16,
            "refers to step 'second', which does not run before it",
            id="if-own-output",
        ),
        pytest.param(
            edited(11, "      action: debug:log\n      if_: true"),
            "spec.steps[0].if_",
            12,
            "is not a known field",
            id="python-spelling-of-if",
        ),
        pytest.param(
            edited(20, "      text: ${{ steps.second.output.text | }}"),
            "spec.output.values.text",
            20,
            "unexpected",
            id="output-syntax",
        ),
        pytest.param(
            BASE + '    text: "see ${{ steps.ghost.output.url }}"\n',
            "spec.output.text",
            21,
            "'ghost', which is not a step",
            id="output-text-step",
        ),
        pytest.param(
            BASE + "    links:\n      - {title: Repo, url: '${{ oops( }}'}\n",
            "spec.output.links[0].url",
            22,
            "unexpected",
            id="output-link-syntax",
        ),
        pytest.param(
            BASE + "  guardrails:\n    - rules.rego\n    - ../x.rego\n",
            "spec.guardrails[1]",
            23,
            "'../x.rego' must be a path inside the template folder",
            id="guardrail-escapes",
        ),
        pytest.param(
            BASE + "  guardrails:\n    - /etc/x.rego\n",
            "spec.guardrails[0]",
            22,
            "must be a path inside the template folder",
            id="guardrail-absolute",
        ),
        pytest.param(
            BASE + "  guardrails:\n    - missing.rego\n",
            "spec.guardrails[0]",
            22,
            "guardrail file 'missing.rego' not found beside the template",
            id="guardrail-missing",
        ),
        pytest.param(
            edited(8, "      size: {type: strin, default: small}"),
            "spec.parameters.properties.size.type",
            8,
            "not valid JSON Schema 2020-12",
            id="schema-type",
        ),
        pytest.param(
            edited(8, "      size: {type: string, minLength: -1}"),
            "spec.parameters.properties.size.minLength",
            8,
            "not valid JSON Schema 2020-12",
            id="schema-minLength",
        ),
        pytest.param(
            edited(7, "    - properties: {a: {type: string}}\n    - properties: {b: {type: 7}}"),
            "spec.parameters[1].properties.b.type",
            8,
            "not valid JSON Schema 2020-12",
            id="schema-second-page",
        ),
        pytest.param(
            edited(6, "  parameters: 3", through=8),
            "spec.parameters",
            6,
            "should be a valid dictionary or a valid list",
            id="parameters-not-schema",
        ),
        pytest.param(
            edited(9, "  steps: []", through=17), "spec.steps", 9, "at least 1 item", id="no-steps"
        ),
        pytest.param(
            edited(5, "spec:\n  approval: sometimes"),
            "spec.approval",
            6,
            r"'none', 'always' or 'on-exception' \(got 'sometimes'\)",
            id="approval",
        ),
        pytest.param(
            edited(5, "spec:\n  lifecycle: {ttl: {max: 90 days}}"),
            "spec.lifecycle.ttl.max",
            6,
            "should match pattern",
            id="ttl",
        ),
    ],
)
def test_invalid_templates_name_field_and_line(
    write_template: WriteTemplate, tmp_path: Path, text: str, field: str, line: int, match: str
) -> None:
    (tmp_path / "rules.rego").write_text("package rules\n")
    path = write_template(text)

    with pytest.raises(TemplateInvalid, match=match) as raised:
        load_template(path, known_actions=KNOWN_ACTIONS)

    assert raised.value.details["file"] == str(path)
    assert (raised.value.details["field"], raised.value.details["line"]) == (field, line)
    assert f"at {field} (line {line})" in str(raised.value)


def test_actions_are_not_checked_without_known_actions(write_template: WriteTemplate) -> None:
    path = write_template(edited(15, "      action: anything:goes"))

    assert load_template(path).document.spec.steps[1].action == "anything:goes"


def test_more_problems_are_counted(write_template: WriteTemplate) -> None:
    path = write_template(edited(2, "kind: Template\nextra: 1"))

    with pytest.raises(TemplateInvalid, match=r"\(and 1 more problem\)$"):
        load_template(path)


def test_an_unreadable_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")

    with pytest.raises(TemplateInvalid, match=r"at \(file\)"):
        load_template(path)


def test_a_dumped_document_uses_the_yaml_spelling_and_loads_again(
    write_template: WriteTemplate,
) -> None:
    path = write_template(edited(11, "      action: debug:log\n      if: ${{ true }}"))
    document = load_template(path).document

    dumped = document.model_dump()

    assert dumped["apiVersion"] == "goldenpath.dev/v1"
    assert dumped["spec"]["steps"][0]["if"] == "${{ true }}"
    assert "if_" not in dumped["spec"]["steps"][0]
    assert TemplateDocument.model_validate(dumped) == document


def test_a_snapshot_restores_the_same_template(write_template: WriteTemplate) -> None:
    template = load_template(write_template())

    restored = Template.from_snapshot(template.snapshot())

    assert restored == template


def test_template_files_finds_top_level_yaml_and_folder_templates(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("x")
    (tmp_path / "a.yml").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "template.yaml").write_text("x")
    (tmp_path / "db" / "values.yaml").write_text("x")
    (tmp_path / "empty").mkdir()
    single = tmp_path / "db" / "values.yaml"

    found = template_files([tmp_path, tmp_path / "missing", single])

    assert found == [
        tmp_path / "a.yml",
        tmp_path / "b.yaml",
        tmp_path / "db" / "template.yaml",
        single,
    ]


def test_catalog_finds_folder_layout_with_its_guardrails(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "template.yaml").write_text(BASE + "  guardrails: [rules.rego]\n")
    (folder / "rules.rego").write_text("package rules\n")

    catalog = load_catalog([tmp_path], KNOWN_ACTIONS)

    assert catalog.problems == ()
    assert catalog.get("demo").guardrails == {"demo/rules.rego": "package rules\n"}


def test_catalog_collects_problems_and_keeps_the_good_templates(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(BASE)
    (tmp_path / "bad.yaml").write_text(edited(2, "kind: Template"))
    (tmp_path / "worse.yaml").write_text(edited(15, "      action: nope:nope"))

    catalog = load_catalog([tmp_path], KNOWN_ACTIONS)

    assert list(catalog.templates) == ["demo"]
    assert sorted((Path(p.details["file"]).name, p.details["field"]) for p in catalog.problems) == [
        ("bad.yaml", "kind"),
        ("worse.yaml", "spec.steps[1].action"),
    ]


def test_a_later_folder_overrides_an_earlier_template_of_the_same_name(tmp_path: Path) -> None:
    builtin, custom = tmp_path / "builtin", tmp_path / "custom"
    builtin.mkdir()
    custom.mkdir()
    (builtin / "demo.yaml").write_text(edited(4, "  name: demo\n  title: Built in"))
    (builtin / "other.yaml").write_text(edited(4, "  name: other"))
    (custom / "demo.yaml").write_text(edited(4, "  name: demo\n  title: Ours"))

    catalog = load_catalog([builtin, custom])

    assert catalog.problems == ()
    assert catalog.get("demo").title == "Ours"
    assert [t.name for t in catalog] == ["demo", "other"]


def test_two_templates_of_one_name_in_one_folder_are_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yaml").write_text(BASE)

    catalog = load_catalog([tmp_path])

    assert catalog.get("demo").source == (tmp_path / "a.yaml").resolve()
    [problem] = catalog.problems
    assert problem.details["file"] == str(tmp_path / "b.yaml")
    assert problem.details["line"] == 4
    assert "'demo' is already the name of" in str(problem)


def test_catalog_get_unknown_name_raises_not_found(tmp_path: Path) -> None:
    catalog = load_catalog([tmp_path])

    with pytest.raises(TemplateNotFound, match="No golden path named 'nope'"):
        catalog.get("nope")


def test_yaml_1_1_booleans_stay_the_strings_the_author_wrote(write_template: WriteTemplate) -> None:
    """YAML 1.2: `yes`, `no`, `on`, `off` are strings; only true/false are booleans."""
    path = write_template(
        edited(8, "      answer: {type: string, enum: [yes, no, on, off], default: no}")
    )
    template = load_template(path, KNOWN_ACTIONS)
    answer = template.schema["properties"]["answer"]
    assert answer["enum"] == ["yes", "no", "on", "off"]
    assert answer["default"] == "no"


def test_a_duplicated_key_is_still_named_with_its_line(write_template: WriteTemplate) -> None:
    with pytest.raises(TemplateInvalid, match=r"metadata\.name.*line 5.*set twice"):
        load_template(write_template(edited(4, "  name: demo\n  name: other")), KNOWN_ACTIONS)
