"""The ``github`` provider: a repository in a GitHub organisation, through the REST API.

Files go through the contents API (``PUT /repos/{o}/{r}/contents/{path}``, one commit per file)
rather than the Git Data API, because GitHub refuses blobs and trees in an empty repository
(409) and we create it without ``auto_init`` so that its history holds only the skeleton. The
price: one commit per skeleton file, and no executable bits. Each file is looked up first, so a
retried apply adds only what is missing and never commits a file twice.

Ownership is a repository topic derived from our marker (`spec.marker_topic`).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

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

DEFAULT_API_URL = "https://api.github.com"
PROTECTION_TEXT = (
    "main takes changes through pull requests with 1 review; no force-pushes, no deletion"
)
PROTECTION = {
    "required_status_checks": None,
    "enforce_admins": True,
    "required_pull_request_reviews": {"required_approving_review_count": 1},
    "restrictions": None,
    "allow_force_pushes": False,
    "allow_deletions": False,
}


class GitHubHost:
    def __init__(self, backend: BackendSettings, backend_name: str) -> None:
        self._backend = backend_name
        self._api_url = str(backend.option("api_url") or DEFAULT_API_URL)
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
                        "has_wiki": False,
                    },
                ).body
                log(f"created GitHub repository {self._org}/{spec.name}")
            else:
                repo = found.body
                if not self._ours(api, repo, spec, topic):
                    raise ResourceTaken(kind="repository", name=spec.name, backend=self._backend)
                log(f"repository {self._org}/{spec.name} exists from an earlier attempt")
            topics = list(repo.get("topics") or [])
            if topic not in topics:
                api.call("PUT", f"{self._repo(spec.name)}/topics", json={"names": [*topics, topic]})
            self._commit_files(api, spec, log)
            settings: dict[str, Any] = {}
            if repo.get("default_branch") != DEFAULT_BRANCH:
                settings["default_branch"] = DEFAULT_BRANCH
            if repo.get("private") != spec.private:
                settings["private"] = spec.private
            if settings:
                api.call("PATCH", self._repo(spec.name), json=settings)
            api.call("PUT", self._protection(spec.name), json=PROTECTION)
            log("protected main: 1 review required, no force-pushes, no deletion")
        return RepoOutputs(
            clone_url=str(repo["clone_url"]),
            web_url=str(repo["html_url"]),
            protection=PROTECTION_TEXT,
        )

    def destroy(self, name: str, marker: str, log: Log) -> None:
        with self._api() as api:
            found = api.call("GET", self._repo(name), expect=(404,))
            if not found.found:
                log(f"repository {self._org}/{name} is already gone")
                return
            if marker_topic(marker) not in (found.body.get("topics") or []):
                raise ActionError(
                    problem=f"repository '{self._org}/{name}' does not carry this resource's "
                    "topic; not deleting it"
                )
            api.call("DELETE", self._repo(name), expect=(404,))
            log(f"deleted GitHub repository {self._org}/{name}")

    def observe(self, name: str, marker: str, private: bool) -> Observation:
        with self._api() as api:
            found = api.call("GET", self._repo(name), expect=(404,))
            if not found.found:
                return Observation(exists=False)
            repo = found.body
            protection = api.call("GET", self._protection(name), expect=(404,))
        drift: list[Drift] = []
        topic = marker_topic(marker)
        if topic not in (repo.get("topics") or []):
            drift.append(Drift("marker_topic", topic, None))
        if repo.get("private") is not private:
            drift.append(Drift("private", private, repo.get("private")))
        if repo.get("default_branch") != DEFAULT_BRANCH:
            drift.append(Drift("default_branch", DEFAULT_BRANCH, repo.get("default_branch")))
        drift.extend(_protection_drift(protection))
        return Observation(exists=True, drift=tuple(drift))

    def _ours(self, api: RestClient, repo: dict[str, Any], spec: RepoSpec, topic: str) -> bool:
        topics = repo.get("topics") or []
        if topic in topics:
            return True
        # Created by our earlier attempt, which stopped before it could add the topic: adopt it
        # only while it is still exactly what that attempt left (no topics, no commits).
        return (
            spec.retried
            and not topics
            and not api.call("GET", f"{self._repo(spec.name)}/branches", expect=(404,)).body
        )

    def _commit_files(self, api: RestClient, spec: RepoSpec, log: Log) -> None:
        name, email = COMMIT_AUTHOR
        added = 0
        for file in spec.files:
            path = f"{self._repo(spec.name)}/contents/{quote(file.path, safe='/')}"
            existing = api.call("GET", path, params={"ref": DEFAULT_BRANCH}, expect=(404,))
            if existing.found:
                continue
            api.call(
                "PUT",
                path,
                json={
                    "message": f"{COMMIT_MESSAGE}: {file.path}",
                    "content": base64.b64encode(file.content).decode("ascii"),
                    "branch": DEFAULT_BRANCH,
                    "committer": {"name": name, "email": email},
                    "author": {"name": name, "email": email},
                },
            )
            added += 1
        log(f"committed {added} skeleton files on main ({len(spec.files) - added} were there)")

    def _api(self) -> RestClient:
        return RestClient(
            provider="GitHub",
            backend=self._backend,
            base_url=self._api_url,
            token=self._token,
            auth_scheme="Bearer",
        )

    def _repo(self, name: str) -> str:
        return f"/repos/{self._org}/{name}"

    def _protection(self, name: str) -> str:
        return f"{self._repo(name)}/branches/{DEFAULT_BRANCH}/protection"


def _protection_drift(protection: Reply) -> list[Drift]:
    if not protection.found:
        return [Drift("branch_protection", "enabled", None)]
    body = protection.body or {}
    drift = []
    for setting in ("allow_force_pushes", "allow_deletions"):
        enabled = (body.get(setting) or {}).get("enabled")
        if enabled is not False:
            drift.append(Drift(setting, False, enabled))
    reviews = (body.get("required_pull_request_reviews") or {}).get(
        "required_approving_review_count", 0
    )
    if reviews < 1:
        drift.append(Drift("required_approving_review_count", 1, reviews))
    return drift
