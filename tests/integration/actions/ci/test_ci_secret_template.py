"""The starter golden path ``ci-secret``: a typed or generated value, stored by ``ci:secret``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.ci.secret import CiSecret
from goldenpath.actions.registry import ActionRegistry
from goldenpath.actions.secret.generate import SecretGenerate
from goldenpath.errors import InvalidInputs
from goldenpath.execution.planner import Requester, resolve_plan
from goldenpath.settings import BackendSettings
from goldenpath.templates import parameters as params
from goldenpath.templates.loader import Template, load_template

TEMPLATE = Path(__file__).parents[4] / "starter" / "templates" / "ci-secret.yaml"
REGISTRY = ActionRegistry([CiSecret, SecretGenerate])
BACKENDS = {"ci": BackendSettings(kind="ci", provider="gitlab", token="unused")}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(TEMPLATE, REGISTRY.classes())


def plan(template: Template, **parameters: Any) -> dict[str, Any]:
    values = params.validate(template.schema, parameters)
    return resolve_plan(
        template, values, Requester(user="alice", team="payments"), REGISTRY, BACKENDS
    )


def test_a_typed_value_goes_straight_to_the_ci_secret_step(template: Template) -> None:
    steps = plan(template, repository="acme/payments", name="API_KEY", value="typed-value-1")[
        "steps"
    ]

    assert steps[0]["skipped"] is True
    assert steps[1]["action"] == "ci:secret"
    assert steps[1]["resources"][0]["config"]["repository"] == "acme/payments"
    assert steps[1]["resources"][0]["config"]["name"] == "API_KEY"


def test_a_generated_value_comes_from_the_secret_generate_step(template: Template) -> None:
    steps = plan(template, repository="acme/payments", name="API_KEY", generate=True)["steps"]

    assert steps[0]["skipped"] is False
    assert steps[1]["input"]["value"] == "(known after apply: steps.generated.output.value)"


def test_a_value_or_generate_is_required(template: Template) -> None:
    with pytest.raises(InvalidInputs, match="'value': is required"):
        plan(template, repository="acme/payments", name="API_KEY")


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"repository": "../etc", "name": "API_KEY"}, "repository"),
        ({"repository": "acme/payments", "name": "GITHUB_TOKEN"}, "name"),
        ({"repository": "acme/payments", "name": "api_key"}, "name"),
    ],
)
def test_the_form_refuses_what_the_action_would(
    template: Template, parameters: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputs, match=f"'{field}'"):
        plan(template, value="typed-value-1", **parameters)


def test_the_value_is_a_write_only_password_field_and_no_secret_is_an_output(
    template: Template,
) -> None:
    value = template.schema["properties"]["value"]
    assert (value["format"], value["writeOnly"], value["maxLength"]) == ("password", True, 49152)
    assert template.document.spec.output.secrets == {}
    assert template.document.spec.replaces == "Add a secret to CI/CD"
