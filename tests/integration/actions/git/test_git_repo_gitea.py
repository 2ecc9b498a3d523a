"""git:repo on the gitea provider (Gitea and Forgejo), against a local fake of API v1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.base import Context, Drift
from goldenpath.actions.git.repo import GitRepo, GitRepoInputs
from goldenpath.actions.git.spec import marker_topic
from goldenpath.errors import ActionError, BackendUnavailable, ConfigurationError, ResourceTaken
from goldenpath.settings import BackendSettings

from .conftest import MemoryJournal, git_context, repo_ref, serving, unused_url
from .fake_gitea import TOKEN, FakeGitea, Repo


@pytest.fixture
def gitea() -> Iterator[FakeGitea]:
    fake = FakeGitea()
    with serving(fake.app) as url:
        fake.app.state.url = url
        yield fake


@pytest.fixture
def make_context(gitea: FakeGitea, tmp_path: Path) -> Any:
    def make(
        *,
        token: str = TOKEN,
        api_url: str | None = None,
        resource_id: str = "r-1",
        journal: MemoryJournal | None = None,
        **backend: Any,
    ) -> Context[GitRepoInputs]:
        settings = BackendSettings(
            kind="git",
            provider="gitea",
            api_url=api_url or f"{gitea.app.state.url}/api/v1",
            token=token,
            **{"org": "acme", **backend},
        )
        inputs = GitRepoInputs(name="orders-service", description="Order intake API")
        return git_context(
            inputs, settings, data_dir=tmp_path, resource_id=resource_id, journal=journal
        )

    return make


def test_creates_a_private_repository_in_one_commit_with_protected_main(
    gitea: FakeGitea, make_context: Any
) -> None:
    outputs = GitRepo().apply(make_context())

    assert outputs == {
        "clone_url": "http://gitea.example:3000/acme/orders-service.git",
        "default_branch": "main",
        "protection": "main takes no direct or force pushes; merges need 1 approval",
        "web_url": "http://gitea.example:3000/acme/orders-service",
    }
    repo = gitea.repos["orders-service"]
    assert repo.private is True
    assert repo.topics == [marker_topic("goldenpath:r-1")]
    assert repo.commits == ["Initial commit from Golden Path"]
    assert sorted(repo.files) == [
        ".github/workflows/ci.yml",
        ".gitignore",
        "CODEOWNERS",
        "README.md",
    ]
    assert b"* @payments" in repo.files["CODEOWNERS"]
    assert b"Order intake API" in repo.files["README.md"]
    protection = repo.protections["main"]
    assert protection["enable_push"] is False
    assert protection["enable_force_push"] is False
    assert protection["required_approvals"] == 1


def test_a_retried_apply_is_idempotent(gitea: FakeGitea, make_context: Any) -> None:
    first = GitRepo().apply(make_context())
    before = len(gitea.requests)

    assert GitRepo().apply(make_context()) == first

    assert gitea.repos["orders-service"].commits == ["Initial commit from Golden Path"]
    again = gitea.requests[before:]
    assert not [r for r in again if r.startswith("POST")]


def test_protection_switched_off_is_restored_by_a_retried_apply(
    gitea: FakeGitea, make_context: Any
) -> None:
    GitRepo().apply(make_context())
    gitea.repos["orders-service"].protections["main"]["enable_force_push"] = True

    GitRepo().apply(make_context())

    assert gitea.repos["orders-service"].protections["main"]["enable_force_push"] is False


def test_a_repository_without_our_topic_is_refused_and_kept(
    gitea: FakeGitea, make_context: Any
) -> None:
    gitea.repos["orders-service"] = Repo(
        name="orders-service", private=False, description="theirs", topics=["backend"]
    )

    with pytest.raises(ResourceTaken, match="orders-service"):
        GitRepo().apply(make_context())
    with pytest.raises(ActionError, match="not deleting it"):
        GitRepo().destroy(make_context(), repo_ref("orders-service"))
    assert gitea.repos["orders-service"].topics == ["backend"]


def test_destroy_deletes_and_is_idempotent(gitea: FakeGitea, make_context: Any) -> None:
    GitRepo().apply(make_context())

    GitRepo().destroy(make_context(), repo_ref("orders-service"))
    GitRepo().destroy(make_context(), repo_ref("orders-service"))

    assert gitea.repos == {}
    assert not GitRepo().observe(make_context(), repo_ref("orders-service")).exists


def test_observe_reports_drift_when_protection_is_switched_off(
    gitea: FakeGitea, make_context: Any
) -> None:
    GitRepo().apply(make_context())
    ref = repo_ref("orders-service")
    assert GitRepo().observe(make_context(), ref).in_sync

    repo = gitea.repos["orders-service"]
    repo.protections["main"].update(enable_push=True, enable_force_push=True)
    repo.topics = []
    assert GitRepo().observe(make_context(), ref).drift == (
        Drift("marker_topic", marker_topic("goldenpath:r-1"), None),
        Drift("enable_push", False, True),
        Drift("enable_force_push", False, True),
    )

    del repo.protections["main"]
    assert (
        Drift("branch_protection", "enabled", None) in GitRepo().observe(make_context(), ref).drift
    )


def test_a_refused_token_is_backend_unavailable(gitea: FakeGitea, make_context: Any) -> None:
    with pytest.raises(
        BackendUnavailable, match=r"token refused by Gitea \(401.*token is required"
    ):
        GitRepo().apply(make_context(token="nope"))
    assert gitea.repos == {}


def test_an_unreachable_api_is_backend_unavailable(make_context: Any) -> None:
    with pytest.raises(BackendUnavailable, match="ConnectError"):
        GitRepo().apply(make_context(api_url=unused_url() + "/api/v1"))


@pytest.mark.parametrize(
    ("setting", "problem"),
    [({"org": "../admin"}, "invalid org"), ({"token": ""}, "needs the 'token' option")],
)
def test_bad_settings_are_a_configuration_error(
    gitea: FakeGitea, make_context: Any, setting: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        GitRepo().apply(make_context(**setting))
    assert gitea.requests == []
