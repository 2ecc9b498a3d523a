"""Backstage's ``ui:field`` pickers and ``ui:*`` keys: plain fields with the picker's
validation on the server, and the portal's widgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.registry import default_registry
from goldenpath.errors import InvalidInputs, TemplateInvalid
from goldenpath.execution.planner import Requester, render_context
from goldenpath.templates import parameters
from goldenpath.templates.loader import Template, load_template
from goldenpath.templates.rendering import Renderer
from goldenpath.web.forms import fields_of, form_pages

KNOWN = default_registry().classes()
HEAD = "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: pick-bs}\n"
PICKERS = (
    HEAD
    + """\
spec:
  parameters:
    - title: Component
      ui:order: [owner, '*']
      required: [name, owner, repoUrl]
      properties:
        name: {type: string, ui:field: EntityNamePicker, ui:autofocus: true}
        owner: {type: string, ui:field: OwnerPicker, ui:help: The team that keeps it}
        repoUrl:
          type: string
          ui:field: RepoUrlPicker
          ui:options: {allowedHosts: [github.com], allowedOwners: [acme]}
        system: {type: string, ui:field: EntityPicker, ui:options: {allowedKinds: [System]}}
        token: {type: string, ui:field: Secret}
        notes: {type: string, ui:widget: textarea, ui:options: {rows: 3}}
        colour: {type: string, ui:widget: color, default: '#336699'}
        level: {type: integer, minimum: 1, maximum: 5, ui:widget: range}
        internal: {type: string, ui:widget: hidden, default: x}
        size: {type: string, enum: [s, m, l], enumNames: [Small, Medium, Large]}
  steps:
    - id: say
      action: debug:log
      input:
        message: "${{ parameters.name }} ${{ secrets.token }} ${{ user.entity.metadata.name }}"
"""
)
GOOD = {
    "name": "orders-api",
    "owner": "group:default/payments",
    "repoUrl": "github.com?owner=acme&repo=orders",
}


@pytest.fixture
def template(tmp_path: Path) -> Template:
    file = tmp_path / "pick.yaml"
    file.write_text(PICKERS)
    return load_template(file, KNOWN)


def test_pickers_accept_what_backstage_produces(template: Template) -> None:
    values = parameters.validate(
        template.schema, {**GOOD, "system": "system:default/payments", "token": "s3cret"}
    )
    assert values["owner"] == "group:default/payments"
    assert parameters.validate(template.schema, {**GOOD, "owner": "payments"})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "-orders"}, "name"),
        ({"name": "x" * 64}, "name"),
        ({"owner": "user:default/alice"}, "owner"),
        ({"repoUrl": "gitlab.com?owner=acme&repo=orders"}, "repoUrl"),
        ({"repoUrl": "github.com?owner=evil&repo=orders"}, "repoUrl"),
        ({"repoUrl": "github.com?owner=acme"}, "repoUrl"),
        ({"system": "component:default/api"}, "system"),
    ],
)
def test_pickers_refuse_what_the_picker_never_produces(
    template: Template, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputs) as refused:
        parameters.validate(template.schema, {**GOOD, **change})
    assert field in {e.field for e in refused.value.errors}


def test_secret_fields_are_secret_parameters_and_secrets_reads_them(template: Template) -> None:
    assert parameters.secret_names(template.schema) == {"token"}
    [step] = template.document.spec.steps
    assert "parameters.token" in step.input["message"]
    context = render_context(template, {**GOOD, "token": "s3cret"}, Requester("alice", "pay"))
    rendered = Renderer(context).render(step.input["message"], "m")
    assert rendered == "orders-api s3cret alice"
    assert context["user"]["ref"] == "user:default/alice"


def test_the_portal_draws_the_ui_keys(template: Template) -> None:
    form = form_pages(template.document.spec.parameters, ["payments", "search"])
    fields = {f.name: f for f in fields_of(form)}
    assert [f.name for f in form[0].fields][:2] == ["owner", "name"]
    owner = fields["owner"]
    assert owner.widget == "select"
    assert [(o.value, o.label) for o in owner.options] == [
        ("group:default/payments", "payments"),
        ("group:default/search", "search"),
    ]
    assert "The team that keeps it" in owner.help
    assert fields["name"].autofocus
    assert fields["token"].widget == "password" and fields["token"].secret
    assert (fields["notes"].widget, fields["notes"].rows) == ("textarea", 3)
    assert fields["colour"].widget == "color"
    assert fields["level"].widget == "range"
    assert fields["internal"].widget == "hidden"
    assert [o.label for o in fields["size"].options] == ["Small", "Medium", "Large"]


def test_a_custom_field_extension_is_refused_naming_the_field(tmp_path: Path) -> None:
    file = tmp_path / "custom.yaml"
    file.write_text(
        HEAD + "spec:\n  parameters:\n    properties:\n"
        "      team: {type: string, ui:field: MyTeamPicker}\n"
        "  steps: [{id: say, action: debug:log, input: {message: hi}}]\n"
    )
    with pytest.raises(TemplateInvalid, match=r"properties.team.ui:field.*'MyTeamPicker'"):
        load_template(file, KNOWN)
