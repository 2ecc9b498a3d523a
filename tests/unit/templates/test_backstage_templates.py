"""Backstage v1beta3 templates load into the native model, or are refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.actions.registry import default_registry
from goldenpath.errors import InvalidInputs, TemplateInvalid
from goldenpath.execution.planner import Requester, render_context
from goldenpath.templates import parameters
from goldenpath.templates.loader import load_catalog, load_template
from goldenpath.templates.rendering import Renderer

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "backstage"
KNOWN = default_registry().classes()


def conditional() -> object:
    return load_template(FIXTURES / "conditional.yaml", KNOWN)


def test_backstage_template_loads_as_a_native_golden_path() -> None:
    template = load_template(FIXTURES / "conditional.yaml", KNOWN)
    assert template.name == "cloud-bucket-bs"
    assert template.document.metadata.owner == "platform-team"
    steps = template.document.spec.steps
    assert [s.id for s in steps] == ["log_aws", "log_gcp", "pause"]
    assert steps[0].if_ == "${{ parameters.cloud == 'aws' }}"
    assert steps[1].if_ == "${{ parameters.cloud != 'aws' }}"
    assert steps[2].input == {"seconds": 0.01}
    assert template.document.spec.output.values == {
        "waited": "${{ steps.pause.output.waited_seconds }}"
    }


def test_one_of_branch_does_not_ask_for_the_other_branch_fields() -> None:
    schema = load_template(FIXTURES / "conditional.yaml", KNOWN).schema
    values = parameters.validate(
        schema, {"name": "orders", "cloud": "aws", "awsRegion": "eu-west-1"}
    )
    assert values["cloud"] == "aws"
    with pytest.raises(InvalidInputs) as refused:
        parameters.validate(schema, {"name": "orders", "cloud": "aws"})
    assert [(e.field, e.details["rule"]) for e in refused.value.errors] == [
        ("awsRegion", "is required")
    ]
    parameters.validate(schema, {"name": "orders", "cloud": "gcp", "gcpProject": "proj-1"})
    with pytest.raises(InvalidInputs, match="gcpProject"):
        parameters.validate(schema, {"name": "orders", "cloud": "gcp"})


def test_schema_refuses_what_backstage_refuses() -> None:
    schema = load_template(FIXTURES / "conditional.yaml", KNOWN).schema
    with pytest.raises(InvalidInputs, match="name"):
        parameters.validate(schema, {"name": "X!", "cloud": "gcp", "gcpProject": "proj-1"})
    with pytest.raises(InvalidInputs, match="cloud"):
        parameters.validate(schema, {"name": "orders", "cloud": "azure"})


def test_strict_comparisons_pick_the_steps() -> None:
    template = load_template(FIXTURES / "conditional.yaml", KNOWN)
    context = render_context(template, {"name": "orders", "cloud": "aws"}, Requester("ann", "t"))
    renderer = Renderer(context)
    chosen = [s.id for s in template.document.spec.steps if renderer.condition(s.if_, s.id)]
    assert chosen == ["log_aws", "pause"]


def test_unknown_action_is_refused_naming_step_and_action(tmp_path: Path) -> None:
    with pytest.raises(TemplateInvalid, match=r"step 'deploy' uses action 'acme:deploy'"):
        load_template(FIXTURES / "unknown_action.yaml", KNOWN)
    catalog = load_catalog([FIXTURES], KNOWN)
    assert "cloud-bucket-bs" in catalog.templates
    assert any("acme:deploy" in p.message for p in catalog.problems)


def test_each_loads_and_each_outside_a_loop_is_refused(tmp_path: Path) -> None:
    head = (
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\n"
        "metadata: {name: each-bs}\nspec:\n  steps:\n"
    )
    looped = tmp_path / "each.yaml"
    looped.write_text(
        head + "    - {id: say, action: debug:log, each: '${{ parameters.xs }}',"
        " input: {message: '${{ each.value }}'}}\n"
    )
    assert load_template(looped, KNOWN).document.spec.steps[0].each == "${{ parameters.xs }}"
    stray = tmp_path / "stray.yaml"
    stray.write_text(
        head + "    - {id: say, action: debug:log, input: {message: '${{ each.value }}'}}\n"
    )
    with pytest.raises(TemplateInvalid, match=r"spec.steps\[0\].input.*no 'each'"):
        load_template(stray, KNOWN)


def test_convert_prints_the_native_equivalent() -> None:
    from typer.testing import CliRunner

    from goldenpath.cli.templates import app

    result = CliRunner().invoke(app, ["convert", str(FIXTURES / "conditional.yaml")])
    assert result.exit_code == 0, result.output
    assert "apiVersion: goldenpath.dev/v1" in result.output
    assert "dependentSchemas:" in result.output
    refused = CliRunner().invoke(app, ["convert", str(FIXTURES / "unknown_action.yaml")])
    assert refused.exit_code != 0
    assert "acme:deploy" in refused.output


def test_portal_shows_a_branch_field_only_under_its_branch() -> None:
    from goldenpath.web.conditions import conditions_of

    template = load_template(FIXTURES / "conditional.yaml", KNOWN)
    cloud_page = parameters.pages(template.document.spec.parameters)[1]
    found = conditions_of(cloud_page)
    aws = [c.as_dict() for c in found.shown_when["awsRegion"]]
    assert {"all": [{"field": "cloud", "not": False, "in": ["aws"]}]} in aws
    gcp = [c.as_dict() for c in found.shown_when["gcpProject"]]
    assert {"all": [{"field": "cloud", "not": False, "in": ["gcp"]}]} in gcp
    assert {"awsRegion", "gcpProject"} <= found.required


def test_backstage_filters_render_in_the_sandbox() -> None:
    renderer = Renderer({"parameters": {"repoUrl": "github.com?owner=acme&repo=orders"}})
    assert renderer.render("${{ (parameters.repoUrl | parseRepoUrl).repo }}", "x") == "orders"
    assert renderer.render("${{ parameters.repoUrl | projectSlug }}", "x") == "acme/orders"
    ref = "${{ ('component:default/api' | parseEntityRef).name }}"
    assert renderer.render(ref, "x") == "api"
    assert renderer.render("${{ parameters | pick('repoUrl') | dump }}", "x") == (
        '"github.com?owner=acme&repo=orders"'
    )
