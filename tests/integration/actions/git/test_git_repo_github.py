"""git:repo on the github provider, against a local fake of GitHub's REST API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldenpath.actions.base import Context, Drift
from goldenpath.actions.git.repo import GitRepo, GitRepoInputs
from goldenpath.actions.git.spec import marker_topic
from goldenpath.errors import ActionError, BackendUnavailable, ResourceTaken
from goldenpath.settings import BackendSettings

from .conftest import MemoryJournal, git_context, repo_ref, serving, unused_url
from .fake_github import TOKEN, FakeGitHub, Repo


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with serving(fake.app) as url:
        fake.base_url = url
        yield fake


@pytest.fixture
def make_context(github: FakeGitHub, tmp_path: Path) -> Any:
    def make(
        *,
        token: str = TOKEN,
        api_url: str | None = None,
        org: str = "acme",
        resource_id: str = "r-1",
        journal: MemoryJournal | None = None,
        private: bool = True,
    ) -> Context[GitRepoInputs]:
        backend = BackendSettings(
            kind="git",
            provider="github",
            api_url=api_url or github.base_url,
            token=token,
            org=org,
        )
        inputs = GitRepoInputs(
            name="orders-service", description="Order intake API", private=private
        )
        return git_context(
            inputs, backend, data_dir=tmp_path, resource_id=resource_id, journal=journal
        )

    return make


def test_creates_a_private_repository_with_the_skeleton_and_protected_main(
    github: FakeGitHub, make_context: Any
) -> None:
    outputs = GitRepo().apply(make_context())

    assert outputs == {
        "clone_url": "https://github.example/acme/orders-service.git",
        "default_branch": "main",
        "protection": (
            "main takes changes through pull requests with 1 review; no force-pushes, no deletion"
        ),
        "web_url": "https://github.example/acme/orders-service",
    }
    repo = github.repos["orders-service"]
    assert repo.private is True
    assert repo.description == "Order intake API"
    assert repo.topics == [marker_topic("goldenpath:r-1")]
    assert sorted(repo.files) == [
        ".github/workflows/ci.yml",
        ".gitignore",
        "CODEOWNERS",
        "README.md",
    ]
    assert b"* @payments" in repo.files["CODEOWNERS"]
    assert repo.files["README.md"].startswith(b"# orders-service\n")
    assert repo.protection is not None
    assert repo.protection["allow_force_pushes"] is False
    assert repo.protection["allow_deletions"] is False
    assert repo.protection["required_pull_request_reviews"] == {
        "required_approving_review_count": 1
    }


def test_a_retried_apply_commits_nothing_twice(github: FakeGitHub, make_context: Any) -> None:
    first = GitRepo().apply(make_context())
    commits = list(github.repos["orders-service"].commits)
    before = len(github.requests)

    assert GitRepo().apply(make_context()) == first
    assert github.repos["orders-service"].commits == commits
    again = github.requests[before:]
    assert not [r for r in again if r.startswith(("POST", "PUT /repos/acme/orders-service/cont"))]


def test_a_repository_without_our_topic_is_refused_and_kept(
    github: FakeGitHub, make_context: Any
) -> None:
    github.repos["orders-service"] = Repo(name="orders-service", private=True, description="")

    with pytest.raises(ResourceTaken, match="orders-service"):
        GitRepo().apply(make_context())
    with pytest.raises(ActionError, match="not deleting it"):
        GitRepo().destroy(make_context(), repo_ref("orders-service"))
    assert "orders-service" in github.repos
    assert github.repos["orders-service"].topics == []


def test_an_empty_unmarked_repository_left_by_our_own_earlier_attempt_is_adopted(
    github: FakeGitHub, make_context: Any
) -> None:
    journal = MemoryJournal()
    journal.values["git:repo:orders-service"] = "creating"  # the earlier attempt got this far
    github.repos["orders-service"] = Repo(name="orders-service", private=True, description="")

    GitRepo().apply(make_context(journal=journal))

    assert github.repos["orders-service"].topics == [marker_topic("goldenpath:r-1")]
    assert "README.md" in github.repos["orders-service"].files


def test_destroy_deletes_only_with_our_topic_and_is_idempotent(
    github: FakeGitHub, make_context: Any
) -> None:
    GitRepo().apply(make_context())

    with pytest.raises(ActionError, match="not deleting it"):
        GitRepo().destroy(make_context(resource_id="r-2"), repo_ref("orders-service"))
    GitRepo().destroy(make_context(), repo_ref("orders-service"))
    GitRepo().destroy(make_context(), repo_ref("orders-service"))

    assert "orders-service" not in github.repos


def test_observe_reports_protection_and_visibility_drift(
    github: FakeGitHub, make_context: Any
) -> None:
    GitRepo().apply(make_context())
    ref = repo_ref("orders-service")
    assert GitRepo().observe(make_context(), ref).in_sync

    repo = github.repos["orders-service"]
    assert repo.protection is not None
    repo.protection = {**repo.protection, "allow_force_pushes": True}
    repo.private = False
    assert GitRepo().observe(make_context(), ref).drift == (
        Drift("private", True, False),
        Drift("allow_force_pushes", False, True),
    )

    repo.protection = None
    assert (
        Drift("branch_protection", "enabled", None) in GitRepo().observe(make_context(), ref).drift
    )

    del github.repos["orders-service"]
    assert not GitRepo().observe(make_context(), ref).exists


def test_a_refused_token_is_backend_unavailable(github: FakeGitHub, make_context: Any) -> None:
    with pytest.raises(BackendUnavailable, match=r"token refused by GitHub \(401.*Bad credentials"):
        GitRepo().apply(make_context(token="ghp-wrong"))
    assert github.repos == {}


def test_an_unreachable_api_is_backend_unavailable(make_context: Any) -> None:
    with pytest.raises(BackendUnavailable, match="ConnectError"):
        GitRepo().apply(make_context(api_url=unused_url()))


def test_a_refusal_carries_githubs_message(github: FakeGitHub, make_context: Any) -> None:
    with pytest.raises(
        ActionError, match=r"GitHub refused POST /orgs/nobody/repos \(404\): Not Found"
    ):
        GitRepo().apply(make_context(org="nobody"))
