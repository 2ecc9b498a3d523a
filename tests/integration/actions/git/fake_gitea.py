"""A small in-memory Gitea API v1 (also Forgejo's): the endpoints git:repo calls, with Gitea's
documented request and response shapes."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOPIC = re.compile(r"[a-z0-9][a-z0-9-]{0,34}")
PROTECTION_DEFAULTS: dict[str, Any] = {
    "enable_push": False,
    "enable_force_push": False,
    "required_approvals": 0,
    "block_on_rejected_reviews": False,
}


TOKEN = "gitea-good"


@dataclass
class Repo:
    name: str
    private: bool
    description: str
    default_branch: str = "main"
    topics: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    protections: dict[str, dict[str, Any]] = field(default_factory=dict)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "url": "https://gitea.example/api/swagger"}, status)


class FakeGitea:
    def __init__(self, *, token: str = TOKEN, org: str = "acme") -> None:
        self.token = token
        self.org = org
        self.repos: dict[str, Repo] = {}
        self.requests: list[str] = []
        self.app = self._build()

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        return {
            "id": abs(hash(repo.name)) % 10_000_000,
            "name": repo.name,
            "full_name": f"{self.org}/{repo.name}",
            "private": repo.private,
            "description": repo.description,
            "empty": not repo.commits,
            "html_url": f"http://gitea.example:3000/{self.org}/{repo.name}",
            "clone_url": f"http://gitea.example:3000/{self.org}/{repo.name}.git",
            "default_branch": repo.default_branch,
        }

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if request.headers.get("authorization") != f"token {self.token}":
                return error(401, "token is required")
            response: Response = await call_next(request)
            return response

        def find(org: str, name: str) -> Repo | None:
            return self.repos.get(name) if org == self.org else None

        @app.get("/api/v1/repos/{org}/{name}")
        async def get_repo(org: str, name: str) -> Response:
            repo = find(org, name)
            return (
                error(404, "repository does not exist")
                if repo is None
                else JSONResponse(self.repo_json(repo))
            )

        @app.post("/api/v1/orgs/{org}/repos")
        async def create_repo(org: str, request: Request) -> Response:
            if org != self.org:
                return error(404, "org does not exist")
            body = await request.json()
            if body["name"] in self.repos:
                return error(409, "The repository with the same name already exists.")
            repo = Repo(
                name=body["name"],
                private=bool(body.get("private", False)),
                description=body.get("description") or "",
                default_branch=body.get("default_branch") or "main",
            )
            self.repos[repo.name] = repo
            return JSONResponse(self.repo_json(repo), status_code=201)

        @app.patch("/api/v1/repos/{org}/{name}")
        async def edit_repo(org: str, name: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "repository does not exist")
            body = await request.json()
            if "private" in body:
                repo.private = bool(body["private"])
            return JSONResponse(self.repo_json(repo))

        @app.delete("/api/v1/repos/{org}/{name}")
        async def delete_repo(org: str, name: str) -> Response:
            if find(org, name) is None:
                return error(404, "repository does not exist")
            del self.repos[name]
            return Response(status_code=204)

        @app.get("/api/v1/repos/{org}/{name}/topics")
        async def list_topics(org: str, name: str) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "repository does not exist")
            return JSONResponse({"topics": repo.topics})

        @app.put("/api/v1/repos/{org}/{name}/topics")
        async def replace_topics(org: str, name: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "repository does not exist")
            topics = (await request.json())["topics"]
            invalid = [t for t in topics if not TOPIC.fullmatch(t)]
            if invalid:
                return JSONResponse({"message": "invalid topics", "invalidTopics": invalid}, 422)
            repo.topics = list(topics)
            return Response(status_code=204)

        @app.get("/api/v1/repos/{org}/{name}/branches/{branch}")
        async def get_branch(org: str, name: str, branch: str) -> Response:
            repo = find(org, name)
            if repo is None or not repo.commits or branch != repo.default_branch:
                return error(404, "branch does not exist")
            return JSONResponse(
                {"name": branch, "protected": branch in repo.protections, "commit": {"id": "x"}}
            )

        @app.post("/api/v1/repos/{org}/{name}/contents")
        async def change_files(org: str, name: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "repository does not exist")
            body = await request.json()
            if body.get("branch", repo.default_branch) != repo.default_branch:
                return error(404, "branch does not exist")
            if repo.default_branch in repo.protections:
                return error(403, "branch is protected")
            for change in body["files"]:
                if change["operation"] == "create" and change["path"] in repo.files:
                    return error(422, f"repository file already exists [path: {change['path']}]")
            for change in body["files"]:
                repo.files[change["path"]] = base64.b64decode(change["content"])
            repo.commits.append(body["message"])
            return JSONResponse(
                {"files": [{"path": c["path"]} for c in body["files"]], "commit": {"sha": "c"}},
                status_code=201,
            )

        @app.get("/api/v1/repos/{org}/{name}/branch_protections/{rule}")
        async def get_protection(org: str, name: str, rule: str) -> Response:
            repo = find(org, name)
            if repo is None or rule not in repo.protections:
                return error(404, "branch protection does not exist")
            return JSONResponse(repo.protections[rule])

        @app.post("/api/v1/repos/{org}/{name}/branch_protections")
        async def create_protection(org: str, name: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "repository does not exist")
            body = await request.json()
            rule = body.get("rule_name") or body.get("branch_name")
            if rule in repo.protections:
                return error(403, "Branch protection already exist")
            repo.protections[rule] = {**PROTECTION_DEFAULTS, **body, "rule_name": rule}
            return JSONResponse(repo.protections[rule], status_code=201)

        @app.patch("/api/v1/repos/{org}/{name}/branch_protections/{rule}")
        async def edit_protection(org: str, name: str, rule: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None or rule not in repo.protections:
                return error(404, "branch protection does not exist")
            repo.protections[rule].update(await request.json())
            return JSONResponse(repo.protections[rule])

        return app
