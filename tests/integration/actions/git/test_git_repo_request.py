"""The starter ``new-repo`` golden path run end to end: service → queue → worker → git:repo."""

from __future__ import annotations

from typing import Any

from goldenpath.actions.git.local import PROTECTION_TEXT
from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from tests.conftest import BackgroundWorker, member, wait_for_request, wait_for_resource_state

from .conftest import git

ALICE = member("alice", "payments")


def test_a_new_repo_request_creates_the_repository_and_destroy_removes_it(
    make_platform: Any,
) -> None:
    backend = BackendSettings(kind="git", provider="local", public_url="http://git.example/git")
    platform: Platform = make_platform(backends={"git": backend})
    root = platform.settings.data_dir / "git"
    worker = BackgroundWorker(platform).start()
    try:
        submitted = platform.service.submit(
            "new-repo",
            {"name": "orders-service", "description": "Order intake", "language": "python"},
            ALICE,
        )
        done = wait_for_request(platform, submitted.id)
        assert done.status == "succeeded", done.error
        assert done.outputs is not None
        assert done.outputs["values"] == {
            "clone_url": "http://git.example/git/orders-service.git",
            "web_url": "http://git.example/git/orders-service.git",
            "default_branch": "main",
            "protection": PROTECTION_TEXT,
        }
        assert done.outputs["text"].endswith(PROTECTION_TEXT + ".")
        repo = str(root / "orders-service.git")
        assert "* @payments" in git("--git-dir", repo, "show", "main:CODEOWNERS").stdout
        assert "Main language: python" in git("--git-dir", repo, "show", "main:README.md").stdout

        [resource] = platform.service.resources(ALICE)
        assert (resource.kind, resource.name, resource.state) == (
            "git:repo",
            "orders-service",
            "active",
        )
        platform.service.destroy(resource.id, ALICE)
        assert wait_for_resource_state(platform, resource.id, {"destroyed", "failed"}) == (
            "destroyed"
        )
        assert not (root / "orders-service.git").exists()
    finally:
        worker.stop()
