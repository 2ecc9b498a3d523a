"""ci:secret on GitHub Actions, against a local fake of GitHub's REST API over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from goldenpath.actions.ci.inputs import CiSecretInputs
from goldenpath.actions.ci.secret import CiSecret
from goldenpath.errors import ActionError, BackendUnavailable, ResourceTaken
from goldenpath.settings import BackendSettings

from .ci_fakes import GITHUB_TOKEN, FakeGitHub, MemoryJournal, catalogued, context, messages, serve

REPO = "acme/payments"
VALUE = "sk_live_Th1s-is/the+VALUE=never~shown"


@pytest.fixture
def github() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def github_url(github: FakeGitHub) -> Iterator[str]:
    with serve(github) as url:
        yield url


@pytest.fixture
def backend(github_url: str) -> BackendSettings:
    return BackendSettings(kind="ci", provider="github", api_url=github_url, token=GITHUB_TOKEN)


def inputs(name: str = "STRIPE_API_KEY", value: str = VALUE, **more: Any) -> CiSecretInputs:
    return CiSecretInputs(repository=REPO, name=name, value=value, **more)


def writes(github: FakeGitHub) -> list[str]:
    return [f"{s.method} {s.path}" for s in github.seen if s.method in ("PUT", "DELETE")]


def test_the_value_arrives_sealed_to_the_repository_key(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    outputs = CiSecret().apply(context(inputs(), backend))

    stored = github.secrets[(REPO, "STRIPE_API_KEY")]
    assert stored["value"] == VALUE  # decrypted by the fake with its private key
    assert outputs == {
        "repository": REPO,
        "name": "STRIPE_API_KEY",
        "provider": "github",
        "read_as": "secrets.STRIPE_API_KEY",
        "updated_at": stored["updated_at"],
    }
    (put,) = [s for s in github.seen if s.method == "PUT"]
    assert VALUE.encode() not in put.body


def test_a_retried_apply_sets_its_own_secret_again(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    journal = MemoryJournal()
    CiSecret().apply(context(inputs(), backend, journal=journal))

    # The same step again, as after a worker died between the PUT and recording success.
    outputs = CiSecret().apply(context(inputs(), backend, journal=journal))

    assert github.secrets[(REPO, "STRIPE_API_KEY")]["value"] == VALUE
    assert outputs["updated_at"] == github.secrets[(REPO, "STRIPE_API_KEY")]["updated_at"]
    assert len(writes(github)) == 2


def test_a_secret_that_existed_before_is_refused_and_left_untouched(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    github.add_secret(REPO, "STRIPE_API_KEY", "someone-elses-value")
    journal = MemoryJournal()

    with pytest.raises(ResourceTaken, match="acme/payments/STRIPE_API_KEY"):
        CiSecret().apply(context(inputs(), backend, journal=journal))

    assert github.secrets[(REPO, "STRIPE_API_KEY")]["value"] == "someone-elses-value"
    assert writes(github) == []
    # Nothing was claimed: once the owner removes theirs, the same request may retry.
    assert journal.values == {}
    del github.secrets[(REPO, "STRIPE_API_KEY")]
    CiSecret().apply(context(inputs(), backend, journal=journal))
    assert github.secrets[(REPO, "STRIPE_API_KEY")]["value"] == VALUE


def test_destroy_deletes_the_secret_and_succeeds_when_it_is_gone(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    ctx = context(inputs(), backend)
    resource = catalogued(ctx, CiSecret().apply(ctx))

    CiSecret().destroy(ctx, resource)
    assert (REPO, "STRIPE_API_KEY") not in github.secrets

    CiSecret().destroy(ctx, resource)
    assert ctx.journal is not None
    assert isinstance(ctx.journal, MemoryJournal)
    assert ctx.journal.lines[-1] == "secret STRIPE_API_KEY is already gone from acme/payments"


def test_observe_reports_a_secret_set_out_of_band_and_one_deleted(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    ctx = context(inputs(), backend)
    resource = catalogued(ctx, CiSecret().apply(ctx))
    assert CiSecret().observe(ctx, resource).in_sync

    github.add_secret(REPO, "STRIPE_API_KEY", "rotated-by-hand")
    observed = CiSecret().observe(ctx, resource)
    assert observed.exists
    assert [d.field for d in observed.drift] == ["updated_at"]
    assert observed.drift[0].expected == resource.outputs["updated_at"]

    del github.secrets[(REPO, "STRIPE_API_KEY")]
    assert not CiSecret().observe(ctx, resource).exists


def test_a_refused_token_is_backend_unavailable(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    wrong = backend.model_copy(update={"token": "not-the-token"})
    with pytest.raises(BackendUnavailable, match=r"token refused .*HTTP 401.*Bad credentials"):
        CiSecret().apply(context(inputs(), wrong))

    missing = BackendSettings(kind="ci", provider="github", api_url=backend.option("api_url"))
    with pytest.raises(BackendUnavailable, match="no 'token' configured"):
        CiSecret().apply(context(inputs(), missing))
    assert writes(github) == []


def test_an_unknown_repository_is_a_clear_error(backend: BackendSettings) -> None:
    unknown = CiSecretInputs(repository="acme/nope", name="TOKEN", value=VALUE)
    with pytest.raises(ActionError, match="repository 'acme/nope' not found on github"):
        CiSecret().apply(context(unknown, backend))


def test_an_unreachable_api_is_backend_unavailable() -> None:
    with serve(FakeGitHub()) as url:
        pass  # the port is free again: nothing listens there now
    backend = BackendSettings(kind="ci", provider="github", api_url=url, token=GITHUB_TOKEN)
    with pytest.raises(BackendUnavailable, match=r"did not answer GET .*ConnectError"):
        CiSecret().apply(context(inputs(), backend))


def test_the_value_appears_in_no_log_line_error_output_or_repr(
    github: FakeGitHub, backend: BackendSettings
) -> None:
    journal = MemoryJournal()
    secret_inputs = inputs()
    outputs = CiSecret().apply(context(secret_inputs, backend, journal=journal))
    github.add_secret(REPO, "OTHER", "x" * 8)
    other_step = MemoryJournal()
    with pytest.raises(ResourceTaken) as taken:
        CiSecret().apply(context(inputs(name="OTHER"), backend, journal=other_step))
    wrong = backend.model_copy(update={"token": "wrong"})
    with pytest.raises(BackendUnavailable) as refused:
        CiSecret().apply(context(secret_inputs, wrong, journal=journal))

    shown = [
        *journal.lines,
        *other_step.lines,
        *journal.values.values(),
        repr(outputs),
        repr(secret_inputs),
        str(secret_inputs),
        repr(secret_inputs.model_dump()),
        secret_inputs.model_dump_json(),
        messages(taken.value),
        messages(refused.value),
    ]
    assert journal.lines  # the action did log
    assert not [text for text in shown if VALUE in text]
