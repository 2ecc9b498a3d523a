"""ci-secret end to end: service → worker → runner → ci:secret → a local fake GitHub API.

What the runner records about the step (its input, logs, outputs, the resource) must show the
value to nobody; destroy must work from the sealed, masked copy of the inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from goldenpath.store import queries
from tests.conftest import (
    ADMIN,
    BackgroundWorker,
    member,
    wait_for_request,
    wait_for_resource_state,
)

from .ci_fakes import GITHUB_TOKEN, FakeGitHub, serve

ALICE = member("alice", "payments")
VALUE = "typed-by-alice/Th1s+VALUE=end2end"
REPO = "acme/payments"


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def ci_platform(make_platform: Callable[..., Platform], github: tuple[FakeGitHub, str]) -> Platform:
    backend = BackendSettings(kind="ci", provider="github", api_url=github[1], token=GITHUB_TOKEN)
    return make_platform(backends={"ci": backend})


@pytest.fixture
def ci_worker(ci_platform: Platform) -> Iterator[BackgroundWorker]:
    running = BackgroundWorker(ci_platform).start()
    yield running
    running.stop()


def test_a_typed_secret_reaches_github_and_the_platform_shows_it_to_nobody(
    ci_platform: Platform, ci_worker: BackgroundWorker, github: tuple[FakeGitHub, str]
) -> None:
    fake = github[0]
    submitted = ci_platform.service.submit(
        "ci-secret", {"repository": REPO, "name": "API_KEY", "value": VALUE}, ALICE
    )
    done = wait_for_request(ci_platform, submitted.id)

    assert done.status == "succeeded", done.error
    assert fake.secrets[(REPO, "API_KEY")]["value"] == VALUE
    assert done.outputs is not None
    assert done.outputs["values"] == {"repository": REPO, "name": "API_KEY"}
    step = next(s for s in done.steps if s.step_id == "secret")
    assert step.input is not None and step.input["value"] == "**********"
    recorded = repr(step) + repr(ci_platform.service.logs(done.id, ADMIN)) + repr(done.outputs)
    [resource] = ci_platform.service.resources(ALICE)
    recorded += repr(resource)
    with ci_platform.database.begin() as conn:
        recorded += repr(queries.events(conn))
    assert VALUE not in recorded

    ci_platform.service.destroy(resource.id, ALICE)
    assert wait_for_resource_state(ci_platform, resource.id, {"destroyed", "failed"}) == (
        "destroyed"
    )
    assert (REPO, "API_KEY") not in fake.secrets


def test_the_request_record_does_not_keep_a_typed_secret(
    ci_platform: Platform, ci_worker: BackgroundWorker
) -> None:
    submitted = ci_platform.service.submit(
        "ci-secret", {"repository": REPO, "name": "API_KEY", "value": VALUE}, ALICE
    )
    done = wait_for_request(ci_platform, submitted.id)

    assert VALUE not in repr(done.parameters) + repr(done.plan)
