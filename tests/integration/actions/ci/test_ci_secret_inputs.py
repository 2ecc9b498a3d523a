"""ci:secret's inputs: hostile repositories and names refused, the value never shown."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from goldenpath.actions.ci.inputs import MAX_VALUE_BYTES, CiSecretInputs
from goldenpath.actions.ci.store import SecretTarget

VALUE = "pa55-w0rd/with+VALUE=inside"


def make(**changes: Any) -> CiSecretInputs:
    values: dict[str, Any] = {"repository": "acme/payments", "name": "DB_PASSWORD", "value": VALUE}
    return CiSecretInputs.model_validate({**values, **changes})


@pytest.mark.parametrize(
    "repository",
    [
        "../etc",
        "acme/..",
        "acme/./x",
        "./payments",
        "acme/pay..ments",
        "a/b/c",
        "acme",
        "/payments",
        "acme/",
        "$(rm -rf ~)/x",
        "acme/pay ments",
        "acme/pay\x00ments",
        "acme/payments\n",
        "acme%2F..%2Fetc/x",
        "a" * 10_000 + "/b",
        "acme/" + "b" * 101,
    ],
)
def test_a_hostile_repository_is_refused(repository: str) -> None:
    with pytest.raises(ValidationError, match="repository") as refused:
        make(repository=repository)
    assert VALUE not in str(refused.value)


@pytest.mark.parametrize(
    "name",
    [
        "db_password",  # lower case: GitHub folds case, so one spelling is allowed (upper)
        "Db_Password",
        "GITHUB_TOKEN",
        "1PASSWORD",
        "DB-PASSWORD",
        "DB PASSWORD",
        "$(rm)",
        "../ETC",
        "A\x00B",
        "",
        "A" * 101,
        "X" * 10_000,
    ],
)
def test_a_name_ci_systems_would_refuse_or_misread_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        make(name=name)


@pytest.mark.parametrize("name", ["DB_PASSWORD", "_PRIVATE", "A", "A" * 100, "GITHUBTOKEN"])
def test_upper_case_names_are_accepted(name: str) -> None:
    assert make(name=name).name == name


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "must not be empty"),
        ("before\x00after-the-nul", "must not contain a NUL"),
        ("x" * (MAX_VALUE_BYTES + 1), "at most 49152 bytes"),
        ("é" * (MAX_VALUE_BYTES // 2 + 1), "at most 49152 bytes"),  # counted in UTF-8 bytes
    ],
)
def test_a_value_out_of_bounds_is_refused_without_echoing_it(value: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule) as refused:
        make(value=value)
    if value:
        assert value not in str(refused.value)
        assert value not in repr(refused.value.errors())


def test_the_largest_value_is_accepted() -> None:
    assert len(make(value="x" * MAX_VALUE_BYTES).value.get_secret_value()) == MAX_VALUE_BYTES


def test_a_refused_input_beside_the_value_does_not_echo_the_value() -> None:
    with pytest.raises(ValidationError) as refused:
        make(name="lower", repository="../etc")
    assert VALUE not in str(refused.value)
    assert VALUE not in repr(refused.value.errors())


def test_the_value_is_masked_in_every_repr_and_dump() -> None:
    inputs = make()

    shown = [
        repr(inputs),
        str(inputs),
        repr(inputs.value),
        repr(inputs.model_dump()),
        inputs.model_dump_json(),
        json.dumps(inputs.model_dump(mode="json")),
    ]

    assert not [text for text in shown if VALUE in text]
    assert inputs.value.get_secret_value() == VALUE


def test_the_runner_can_seal_and_reload_the_inputs_without_the_value() -> None:
    # The runner seals `model_dump()` as JSON for `destroy` and shows `model_dump(mode="json")`
    # on the request page; both hold the mask, and the mask loads back as valid inputs.
    dumped = json.loads(json.dumps(make().model_dump()))

    assert dumped["value"] == "**********"
    reloaded = CiSecretInputs.model_validate(dumped)
    assert (reloaded.repository, reloaded.name) == ("acme/payments", "DB_PASSWORD")


def test_the_json_schema_marks_the_value_write_only() -> None:
    schema = CiSecretInputs.model_json_schema()["properties"]["value"]
    assert schema["writeOnly"] is True
    assert schema["format"] == "password"


# starter/policies/naming.rego: the org guardrail every planned resource name must pass.
NAMING_GUARDRAIL = re.compile(r"^[a-z][a-z0-9_-]{1,62}$")


def test_catalog_names_pass_the_naming_guardrail_and_tell_secrets_apart() -> None:
    targets = [
        SecretTarget("acme/payments", "API_KEY"),
        SecretTarget("acme/payments", "API_KEY2"),
        SecretTarget("acme-payments", "API_KEY"),  # same slug as above, different secret
        SecretTarget("acme/pay-ments", "API_KEY"),
        SecretTarget("_./x", "_"),
        SecretTarget("A" * 100 + "/" + "b.c" * 33, "Z" * 100),
    ]
    names = [t.resource_name for t in targets]

    assert [n for n in names if not NAMING_GUARDRAIL.match(n)] == []
    assert len(set(names)) == len(names)
    # GitHub and GitLab resolve repository paths case-insensitively: one secret, one name.
    assert SecretTarget("Acme/Payments", "API_KEY").resource_name == names[0]
