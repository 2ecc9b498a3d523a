"""The ``gitea`` provider (Gitea and Forgejo): a repository in an organisation, via API v1.

The skeleton is committed in ONE commit through the multi-file contents API
(``POST /repos/{o}/{r}/contents``, Gitea 1.20+ and Forgejo), so a retried apply only has to ask
whether ``main`` exists. ``main`` is protected with direct pushes off (Gitea allows force-pushes
only where pushes are allowed), one approval required; Gitea never deletes a protected branch.
Ownership is a repository topic derived from our marker.
"""

from __future__ import annotations

import base64
from typing import Any

from goldenpath.actions.base import Drift, Observation
from goldenpath.actions.git.rest import Reply, RestClient
from goldenpath.actions.git.spec import (
    COMMIT_AUTHOR,
    COMMIT_MESSAGE,
    DEFAULT_BRANCH,
    Log,
    RepoOutputs,
    RepoSpec,
    marker_topic,
    organisation,
    required_option,
)
from goldenpath.errors import ActionError, ResourceTaken
from goldenpath.settings import BackendSettings

PROTECTION_TEXT = "main takes no direct or force pushes; merges need 1 approval"
PROTECTION = {
    "enable_push": False,
    "enable_force_push": False,
    "required_approvals": 1,
    "block_on_rejected_reviews": True,
}


class GiteaHost:
    def __init__(self, backend: BackendSettings, backend_name: str) -> None:
        self._backend = backend_name
        self._api_url = required_option(backend, backend_name, "api_url")
        self._token = required_option(backend, backend_name, "token")
        self._org = organisation(backend, backend_name)

    def create(self, spec: RepoSpec, log: Log) -> RepoOutputs:
        topic = marker_topic(spec.marker)
        with self._api() as api:
            found = api.call("GET", self._repo(spec.name), expect=(404,))
            if not found.found:
                repo = api.call(
                    "POST",
                    f"/orgs/{self._org}/repos",
                    json={
                        "name": spec.name,
                        "description": spec.description,
                        "private": spec.private,
                        "auto_init": False,
                        "default_branch": DEFAULT_BRANCH,
                    },
                ).body
                topics: list[str] = []
                log(f"created Gitea repository {self._org}/{spec.name}")
            else:
                repo = found.body
                topics = self._topics(api, spec.name)
                if topic not in topics and not (
                    # Our earlier attempt stopped before adding the topic: adopt only what it
                    # left untouched (no topics, no branch).
                    spec.retried and not topics and not self._has_main(api, spec.name)
                ):
                    raise ResourceTaken(kind="repository", name=spec.name, backend=self._backend)
                log(f"repository {self._org}/{spec.name} exists from an earlier attempt")
            if topic not in topics:
                api.call(
                    "PUT", f"{self._repo(spec.name)}/topics", json={"topics": [*topics, topic]}
                )
            if self._has_main(api, spec.name):
                log("main already has the initial commit")
            else:
                self._commit_files(api, spec)
                log(f"committed {len(spec.files)} skeleton files on main")
            if repo.get("private") is not spec.private:
                api.call("PATCH", self._repo(spec.name), json={"private": spec.private})
            self._protect(api, spec.name)
            log("protected main: no direct or force pushes, 1 approval required")
        return RepoOutputs(
            clone_url=str(repo["clone_url"]),
            web_url=str(repo["html_url"]),
            protection=PROTECTION_TEXT,
        )

    def destroy(self, name: str, marker: str, log: Log) -> None:
        with self._api() as api:
            if not api.call("GET", self._repo(name), expect=(404,)).found:
                log(f"repository {self._org}/{name} is already gone")
                return
            if marker_topic(marker) not in self._topics(api, name):
                raise ActionError(
                    problem=f"repository '{self._org}/{name}' does not carry this resource's "
                    "topic; not deleting it"
                )
            api.call("DELETE", self._repo(name), expect=(404,))
            log(f"deleted Gitea repository {self._org}/{name}")

    def observe(self, name: str, marker: str, private: bool) -> Observation:
        with self._api() as api:
            found = api.call("GET", self._repo(name), expect=(404,))
            if not found.found:
                return Observation(exists=False)
            repo = found.body
            topics = self._topics(api, name)
            has_main = self._has_main(api, name)
            protection = api.call("GET", self._protection(name), expect=(404,))
        drift: list[Drift] = []
        topic = marker_topic(marker)
        if topic not in topics:
            drift.append(Drift("marker_topic", topic, None))
        if repo.get("private") is not private:
            drift.append(Drift("private", private, repo.get("private")))
        if not has_main:
            drift.append(Drift("default_branch", DEFAULT_BRANCH, None))
        drift.extend(_protection_drift(protection))
        return Observation(exists=True, drift=tuple(drift))

    def _topics(self, api: RestClient, name: str) -> list[str]:
        body = api.call("GET", f"{self._repo(name)}/topics").body or {}
        return [str(t) for t in body.get("topics") or []]

    def _has_main(self, api: RestClient, name: str) -> bool:
        return api.call("GET", f"{self._repo(name)}/branches/{DEFAULT_BRANCH}", expect=(404,)).found

    def _commit_files(self, api: RestClient, spec: RepoSpec) -> None:
        name, email = COMMIT_AUTHOR
        api.call(
            "POST",
            f"{self._repo(spec.name)}/contents",
            json={
                "branch": DEFAULT_BRANCH,
                "message": COMMIT_MESSAGE,
                "author": {"name": name, "email": email},
                "committer": {"name": name, "email": email},
                "files": [
                    {
                        "operation": "create",
                        "path": file.path,
                        "content": base64.b64encode(file.content).decode("ascii"),
                    }
                    for file in spec.files
                ],
            },
        )

    def _protect(self, api: RestClient, name: str) -> None:
        if api.call("GET", self._protection(name), expect=(404,)).found:
            api.call("PATCH", self._protection(name), json=PROTECTION)
        else:
            api.call(
                "POST",
                f"{self._repo(name)}/branch_protections",
                json={"rule_name": DEFAULT_BRANCH, "branch_name": DEFAULT_BRANCH, **PROTECTION},
            )

    def _api(self) -> RestClient:
        return RestClient(
            provider="Gitea",
            backend=self._backend,
            base_url=self._api_url,
            token=self._token,
            auth_scheme="token",
        )

    def _repo(self, name: str) -> str:
        return f"/repos/{self._org}/{name}"

    def _protection(self, name: str) -> str:
        return f"{self._repo(name)}/branch_protections/{DEFAULT_BRANCH}"


def _protection_drift(protection: Reply) -> list[Drift]:
    if not protection.found:
        return [Drift("branch_protection", "enabled", None)]
    body: dict[str, Any] = protection.body or {}
    drift = []
    for setting in ("enable_push", "enable_force_push"):
        if body.get(setting) is not False:
            drift.append(Drift(setting, False, body.get(setting)))
    approvals = body.get("required_approvals") or 0
    if approvals < 1:
        drift.append(Drift("required_approvals", 1, approvals))
    return drift
