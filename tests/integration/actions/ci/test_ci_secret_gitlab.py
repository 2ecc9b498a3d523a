"""ci:secret on GitLab CI/CD variables, against a local fake of GitLab's REST API over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from goldenpath.actions.ci.inputs import CiSecretInputs
from goldenpath.actions.ci.secret import CiSecret
from goldenpath.errors import ActionError, BackendUnavailable, InvalidInput, ResourceTaken
from goldenpath.settings import BackendSettings

from .ci_fakes import (
    GITLAB_TOKEN,
    FakeGitLab,
    MemoryJournal,
    Reply,
    catalogued,
    context,
    messages,
    serve,
)

PROJECT = "acme/payments"
VALUE = "glpat-Th1s.is:the@VALUE~never/shown"
MARKER = "goldenpath:r-1"


@pytest.fixture
def gitlab() -> FakeGitLab:
    return FakeGitLab()


@pytest.fixture
def backend(gitlab: FakeGitLab) -> Iterator[BackendSettings]:
    with serve(gitlab) as url:
        yield BackendSettings(
            kind="ci", provider="gitlab", api_url=f"{url}/api/v4", token=GITLAB_TOKEN
        )


def inputs(name: str = "DEPLOY_TOKEN", value: str = VALUE, **more: Any) -> CiSecretInputs:
    return CiSecretInputs(repository=PROJECT, name=name, value=value, **more)


def writes(gitlab: FakeGitLab) -> list[str]:
    return [s.method for s in gitlab.seen if s.method != "GET"]


def test_creates_a_protected_masked_variable_marked_as_ours(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    outputs = CiSecret().apply(context(inputs(), backend))

    assert gitlab.variables[(PROJECT, "DEPLOY_TOKEN")] == {
        "key": "DEPLOY_TOKEN",
        "value": VALUE,
        "variable_type": "env_var",
        "protected": True,
        "masked": True,
        "raw": True,
        "environment_scope": "*",
        "description": MARKER,
    }
    assert outputs["provider"] == "gitlab"
    assert set(outputs) == {"repository", "name", "provider", "read_as", "updated_at"}
    assert outputs["read_as"] == "$DEPLOY_TOKEN"
    assert gitlab.seen[0].path.startswith("/api/v4/projects/acme%2Fpayments/variables/")


def test_a_retried_apply_reasserts_its_own_variable(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    ctx = context(inputs(), backend)
    CiSecret().apply(ctx)
    gitlab.variables[(PROJECT, "DEPLOY_TOKEN")].update(protected=False, value="changed-by-hand")

    CiSecret().apply(ctx)

    variable = gitlab.variables[(PROJECT, "DEPLOY_TOKEN")]
    assert (variable["value"], variable["protected"], variable["masked"]) == (VALUE, True, True)
    assert writes(gitlab) == ["POST", "PUT"]


def test_a_variable_someone_else_made_is_refused_and_left_untouched(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    gitlab.add_variable(PROJECT, "DEPLOY_TOKEN", "theirs", description="made by hand")

    with pytest.raises(ResourceTaken, match="GitLab CI/CD variable named 'acme/payments/DEP"):
        CiSecret().apply(context(inputs(), backend))

    assert gitlab.variables[(PROJECT, "DEPLOY_TOKEN")]["value"] == "theirs"
    assert writes(gitlab) == []


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("short", "at least 8 characters"),
        ("two-lines\nsecret", "single line"),
        ("has a space in it", r"only contain letters, digits and \+ / = @ : \. ~ - _"),
        ("dollar$ign-value", r"no \$"),
    ],
)
def test_a_value_gitlab_cannot_mask_is_refused_naming_the_rule(
    gitlab: FakeGitLab, backend: BackendSettings, value: str, rule: str
) -> None:
    ctx = context(inputs(value=value), backend)

    with pytest.raises(InvalidInput, match=rule) as refused:
        CiSecret().plan(ctx)
    with pytest.raises(InvalidInput, match=rule):
        CiSecret().apply(ctx)

    assert refused.value.field == "value"
    assert "masked: false" in str(refused.value)
    assert value not in messages(refused.value)
    assert gitlab.seen == []


def test_an_unmasked_variable_may_hold_any_value(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    CiSecret().apply(context(inputs(value="short $x\nline", masked=False), backend))

    assert gitlab.variables[(PROJECT, "DEPLOY_TOKEN")]["value"] == "short $x\nline"
    assert gitlab.variables[(PROJECT, "DEPLOY_TOKEN")]["masked"] is False


def test_destroy_deletes_its_own_variable_and_succeeds_when_it_is_gone(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    ctx = context(inputs(), backend)
    resource = catalogued(ctx, CiSecret().apply(ctx))

    CiSecret().destroy(ctx, resource)
    assert (PROJECT, "DEPLOY_TOKEN") not in gitlab.variables

    CiSecret().destroy(ctx, resource)
    assert writes(gitlab) == ["POST", "DELETE"]


def test_destroy_leaves_a_variable_that_lost_our_marker(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    ctx = context(inputs(), backend)
    resource = catalogued(ctx, CiSecret().apply(ctx))
    gitlab.add_variable(PROJECT, "DEPLOY_TOKEN", "recreated", description="someone else's")

    with pytest.raises(ActionError, match="no longer carries this resource's marker"):
        CiSecret().destroy(ctx, resource)

    assert gitlab.variables[(PROJECT, "DEPLOY_TOKEN")]["value"] == "recreated"


def test_observe_reports_changed_flags_and_description(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    ctx = context(inputs(), backend)
    resource = catalogued(ctx, CiSecret().apply(ctx))
    assert CiSecret().observe(ctx, resource).in_sync

    gitlab.variables[(PROJECT, "DEPLOY_TOKEN")].update(masked=False, description="edited")
    drift = {d.field: (d.expected, d.actual) for d in CiSecret().observe(ctx, resource).drift}
    assert drift == {"masked": (True, False), "description": (MARKER, "edited")}

    del gitlab.variables[(PROJECT, "DEPLOY_TOKEN")]
    assert not CiSecret().observe(ctx, resource).exists


def test_a_refused_token_is_backend_unavailable(
    gitlab: FakeGitLab, backend: BackendSettings
) -> None:
    wrong = backend.model_copy(update={"token": "glpat-wrong"})
    with pytest.raises(BackendUnavailable, match=r"token refused .*HTTP 401.*401 Unauthorized"):
        CiSecret().apply(context(inputs(), wrong))
    assert writes(gitlab) == []


def test_an_unknown_project_is_a_clear_error(backend: BackendSettings) -> None:
    unknown = CiSecretInputs(repository="acme/nope", name="TOKEN", value=VALUE)
    ctx = context(unknown, backend)
    with pytest.raises(ActionError, match="repository 'acme/nope' not found on gitlab"):
        CiSecret().apply(ctx)


def test_an_api_message_echoing_the_value_is_scrubbed(
    gitlab: FakeGitLab, backend: BackendSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def echoing(method: str, url: str, headers: Any, body: bytes) -> Reply:
        if method == "POST":
            return 400, {"message": {"value": [f"{VALUE} is not acceptable"]}}
        return 404, {"message": "404 Variable Not Found"}

    monkeypatch.setattr(gitlab, "handle", echoing)
    journal = MemoryJournal()

    with pytest.raises(ActionError, match=r"HTTP 400.*\*\*\*\*\*\*\*\* is not acceptable") as err:
        CiSecret().apply(context(inputs(), backend, journal=journal))

    assert VALUE not in messages(err.value)
    assert not [line for line in journal.lines if VALUE in line]
