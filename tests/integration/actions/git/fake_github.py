"""A small in-memory GitHub REST API: the endpoints git:repo calls, with GitHub's documented
request and response shapes (statuses, ``message``/``errors`` bodies, repository JSON)."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOPIC = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")
PROTECTION_KEYS = (
    "required_status_checks",
    "enforce_admins",
    "required_pull_request_reviews",
    "restrictions",
)


TOKEN = "ghp-good"


@dataclass
class Repo:
    name: str
    private: bool
    description: str
    topics: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    branches: set[str] = field(default_factory=set)
    protection: dict[str, Any] | None = None
    default_branch: str = "main"


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"message": message, "documentation_url": "https://docs.github.com/rest", **extra},
        status_code=status,
    )


class FakeGitHub:
    def __init__(self, *, token: str = TOKEN, org: str = "acme") -> None:
        self.token = token
        self.org = org
        self.repos: dict[str, Repo] = {}
        self.requests: list[str] = []
        self.base_url = ""  # set once served, for html_url and clone_url
        self.app = self._build()

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        return {
            "id": abs(hash(repo.name)) % 10_000_000,
            "name": repo.name,
            "full_name": f"{self.org}/{repo.name}",
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "description": repo.description,
            "html_url": f"https://github.example/{self.org}/{repo.name}",
            "clone_url": f"https://github.example/{self.org}/{repo.name}.git",
            "default_branch": repo.default_branch,
            "topics": list(repo.topics),
            "size": sum(len(c) for c in repo.files.values()) // 1024,
        }

    def protection_json(self, repo: Repo) -> dict[str, Any]:
        body = repo.protection or {}
        reviews = body.get("required_pull_request_reviews")
        return {
            "url": f"{self.base_url}/repos/{self.org}/{repo.name}/branches/main/protection",
            "required_pull_request_reviews": reviews,
            "enforce_admins": {"enabled": bool(body.get("enforce_admins"))},
            "allow_force_pushes": {"enabled": bool(body.get("allow_force_pushes"))},
            "allow_deletions": {"enabled": bool(body.get("allow_deletions"))},
        }

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def authenticate(request: Request, call_next: Any) -> Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return error(401, "Bad credentials")
            response: Response = await call_next(request)
            return response

        def find(org: str, name: str) -> Repo | None:
            return self.repos.get(name) if org == self.org else None

        @app.get("/repos/{org}/{name}")
        async def get_repo(org: str, name: str) -> Response:
            repo = find(org, name)
            return error(404, "Not Found") if repo is None else JSONResponse(self.repo_json(repo))

        @app.post("/orgs/{org}/repos")
        async def create_repo(org: str, request: Request) -> Response:
            if org != self.org:
                return error(404, "Not Found")
            body = await request.json()
            if body["name"] in self.repos:
                return error(
                    422,
                    "Repository creation failed.",
                    errors=[
                        {
                            "resource": "Repository",
                            "code": "custom",
                            "field": "name",
                            "message": "name already exists on this account",
                        }
                    ],
                )
            repo = Repo(
                name=body["name"],
                private=bool(body.get("private", False)),
                description=body.get("description") or "",
            )
            if body.get("auto_init"):
                repo.files["README.md"] = b"# " + repo.name.encode()
                repo.commits.append("Initial commit")
                repo.branches.add("main")
            self.repos[repo.name] = repo
            return JSONResponse(self.repo_json(repo), status_code=201)

        @app.patch("/repos/{org}/{name}")
        async def update_repo(org: str, name: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "Not Found")
            body = await request.json()
            if "default_branch" in body:
                if body["default_branch"] not in repo.branches:
                    return error(422, "Validation Failed", errors=[{"code": "invalid"}])
                repo.default_branch = body["default_branch"]
            if "private" in body:
                repo.private = bool(body["private"])
            return JSONResponse(self.repo_json(repo))

        @app.delete("/repos/{org}/{name}")
        async def delete_repo(org: str, name: str) -> Response:
            if find(org, name) is None:
                return error(404, "Not Found")
            del self.repos[name]
            return Response(status_code=204)

        @app.put("/repos/{org}/{name}/topics")
        async def replace_topics(org: str, name: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "Not Found")
            names = (await request.json())["names"]
            if not all(TOPIC.fullmatch(t) for t in names):
                return error(422, "Invalid topics")
            repo.topics = list(names)
            return JSONResponse({"names": repo.topics})

        @app.get("/repos/{org}/{name}/branches")
        async def list_branches(org: str, name: str) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "Not Found")
            return JSONResponse([{"name": b, "protected": False} for b in sorted(repo.branches)])

        @app.get("/repos/{org}/{name}/contents/{path:path}")
        async def get_contents(org: str, name: str, path: str, ref: str = "main") -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "Not Found")
            if not repo.branches:
                return error(404, "This repository is empty.")
            if ref not in repo.branches or path not in repo.files:
                return error(404, "Not Found")
            content = repo.files[path]
            return JSONResponse(
                {
                    "type": "file",
                    "path": path,
                    "encoding": "base64",
                    "content": base64.b64encode(content).decode(),
                    "sha": hashlib.sha1(content).hexdigest(),  # noqa: S324 - a fake blob id
                }
            )

        @app.put("/repos/{org}/{name}/contents/{path:path}")
        async def put_contents(org: str, name: str, path: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None:
                return error(404, "Not Found")
            body = await request.json()
            branch = body.get("branch", repo.default_branch)
            if repo.branches and branch not in repo.branches:
                return error(404, f"Branch {branch} not found")
            if path in repo.files and "sha" not in body:
                return error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
            if repo.protection is not None:
                return error(409, "Changes must be made through a pull request.")
            repo.files[path] = base64.b64decode(body["content"])
            repo.branches.add(branch)
            repo.commits.append(body["message"])
            return JSONResponse(
                {"content": {"path": path}, "commit": {"message": body["message"]}},
                status_code=201,
            )

        @app.put("/repos/{org}/{name}/branches/{branch}/protection")
        async def protect(org: str, name: str, branch: str, request: Request) -> Response:
            repo = find(org, name)
            if repo is None or branch not in repo.branches:
                return error(404, "Branch not found")
            body = await request.json()
            missing = [k for k in PROTECTION_KEYS if k not in body]
            if missing:
                return error(422, f"Invalid request.\n\n{missing[0]} wasn't supplied.")
            repo.protection = body
            return JSONResponse(self.protection_json(repo))

        @app.get("/repos/{org}/{name}/branches/{branch}/protection")
        async def get_protection(org: str, name: str, branch: str) -> Response:
            repo = find(org, name)
            if repo is None or branch not in repo.branches:
                return error(404, "Branch not found")
            if repo.protection is None:
                return error(404, "Branch not protected")
            return JSONResponse(self.protection_json(repo))

        return app
