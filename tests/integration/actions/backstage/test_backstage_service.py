"""A Backstage template run end to end: fetch:template → fs:* → publish:github (the local
GitHub fake) → catalog:register, through the service, the queue and the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.actions.backstage.publish import PublishGitHub
from goldenpath.actions.testing import action_context
from goldenpath.app import Platform
from goldenpath.errors import InvalidInput, InvalidInputs
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request
from tests.integration.actions.git.conftest import serving
from tests.integration.actions.git.fake_github import TOKEN, FakeGitHub

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "backstage"
ALICE = member("alice", "payments")
PARAMETERS = {
    "name": "orders",
    "owner": "payments",
    "repoUrl": "github.com?owner=acme&repo=orders",
}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serving(fake.app) as url:
        fake.base_url = url
        yield fake


@pytest.fixture
def backstage_platform(make_platform: Any, github: FakeGitHub) -> Platform:
    backend = BackendSettings(
        kind="git", provider="github", api_url=github.base_url, token=TOKEN, org="acme"
    )
    platform: Platform = make_platform(
        backends={"github": backend}, template_dirs=[FIXTURES / "service"]
    )
    platform.directory.create_team(ADMIN, "payments")
    return platform


def test_fetch_publish_register_runs_and_produces_the_outputs(
    backstage_platform: Platform, github: FakeGitHub
) -> None:
    worker = BackgroundWorker(backstage_platform).start()
    try:
        submitted = backstage_platform.service.submit("bs-service", PARAMETERS, ALICE)
        done = wait_for_request(backstage_platform, submitted.id)
    finally:
        worker.stop()
    assert done.status == "succeeded", done.error
    repo = github.repos["orders"]
    assert sorted(repo.files) == [
        "README.md",
        "catalog-info.yaml",
        "docs/index.md",
        "static/raw.txt",
    ]
    assert repo.files["README.md"].decode() == (
        "# orders\n\nOwned by payments.\nPayments keeps this one.\n"
    )
    # copyWithoutTemplating and fetch:plain keep the files as they are.
    assert repo.files["static/raw.txt"] == b"Kept as it is: ${{ values.name }}\n"
    assert b"${{ plain }}" in repo.files["docs/index.md"]
    entity = yaml.safe_load(repo.files["catalog-info.yaml"])
    assert entity["metadata"]["name"] == "orders"
    assert repo.description == "This is orders"

    assert done.outputs is not None
    remote = "https://github.example/acme/orders.git"
    assert done.outputs["values"] == {
        "repo": "orders",
        "remoteUrl": remote,
        "entityRef": "component:default/orders",
    }
    assert done.outputs["links"] == [
        {"title": "Repository", "url": remote},
        {"title": "Open in catalog", "icon": "catalog", "entityRef": "component:default/orders"},
        {
            "title": "Documentation",
            "url": "https://github.example/acme/orders/blob/main/docs/index.md",
        },
    ]
    assert "Clone orders and start coding." in done.outputs["text"]
    assert "The docs are in docs/." in done.outputs["text"]

    kinds = {(r.kind, r.name, r.state) for r in backstage_platform.service.resources(ALICE)}
    assert kinds == {("git:repo", "orders", "active"), ("catalog:entity", "orders", "active")}


def test_a_false_if_skips_the_step_its_link_and_its_text(
    backstage_platform: Platform, github: FakeGitHub
) -> None:
    worker = BackgroundWorker(backstage_platform).start()
    try:
        submitted = backstage_platform.service.submit(
            "bs-service", {**PARAMETERS, "withDocs": False}, ALICE
        )
        done = wait_for_request(backstage_platform, submitted.id)
    finally:
        worker.stop()
    assert done.status == "succeeded", done.error
    assert "docs/index.md" not in github.repos["orders"].files
    assert done.outputs is not None
    assert [link["title"] for link in done.outputs["links"]] == ["Repository", "Open in catalog"]
    assert "docs/" not in done.outputs["text"]
    assert {s.step_id: s.status for s in done.steps}["fetch_docs"] == "skipped"


def test_publish_only_to_an_organisation_the_platform_holds(
    backstage_platform: Platform, github: FakeGitHub
) -> None:
    elsewhere = {**PARAMETERS, "repoUrl": "github.com?owner=someone-else&repo=orders"}
    # The picker's allowedOwners refuses it in the form...
    with pytest.raises(InvalidInputs, match=r"'repoUrl': must match the pattern"):
        backstage_platform.service.submit("bs-service", elsewhere, ALICE)
    # ...and the action itself publishes only where a git backend holds the org.
    action = PublishGitHub()
    inputs = action.Inputs.model_validate({"repoUrl": elsewhere["repoUrl"]})
    context = action_context(inputs, backstage_platform.settings.backends)
    with pytest.raises(InvalidInput, match=r"no git backend with provider 'github' and org"):
        action.plan(context)
    assert github.repos == {}
    assert backstage_platform.service.resources(ALICE) == []


def test_the_owner_picker_takes_only_a_team_of_the_platform(
    backstage_platform: Platform, github: FakeGitHub
) -> None:
    unknown = {**PARAMETERS, "owner": "group:default/nobody"}
    with pytest.raises(InvalidInputs, match=r"owner.*'nobody' is not"):
        backstage_platform.service.submit("bs-service", unknown, ALICE)
    assert github.repos == {}
