"""A read-scoped token reads, and nothing more, on every surface: the API's write endpoints,
token management and the platform's git server (a clone works, a push is refused)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Cli, Server, git

SCOPE_REFUSAL = "scopes do not allow"


def api(server: Server, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


@pytest.fixture(scope="module")
def read_token(server: Server, developer_token: str) -> str:
    with api(server, developer_token) as dev:
        made = dev.post("/tokens", json={"name": "read-only", "scopes": ["read"]})
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


@pytest.fixture(scope="module")
def repository(cli: Cli) -> dict[str, Any]:
    """A new-repo request of the developer's team, made with their read-write token."""
    name = f"scoped-{secrets.token_hex(3)}"
    made = cli("request", "new-repo", "-p", f"name={name}", "--wait", "--json")
    assert made.code == 0, made.stdout + made.stderr
    return {"name": name, "request": made.json()}


def test_a_read_token_clones_but_cannot_push(
    server: Server,
    read_token: str,
    developer_token: str,
    repository: dict[str, Any],
    tmp_path: Path,
) -> None:
    host = server.url.removeprefix("http://")
    name = repository["name"]
    work = tmp_path / "work"
    cloned = git("clone", f"http://dev:{read_token}@{host}/git/{name}.git", str(work))
    assert cloned.returncode == 0, cloned.stderr

    (work / "app.py").write_text("print('hello')\n")
    git("add", "app.py", cwd=work)
    git("commit", "-m", "Not with a read token", cwd=work)
    refused = git("push", "origin", "main", cwd=work)
    assert refused.returncode != 0
    assert "403" in refused.stderr or SCOPE_REFUSAL in refused.stderr, refused.stderr

    fresh = tmp_path / "fresh"
    assert (
        git("clone", f"http://dev:{read_token}@{host}/git/{name}.git", str(fresh)).returncode == 0
    )
    assert not (fresh / "app.py").exists()  # the refused push changed nothing

    writer = git("push", f"http://dev:{developer_token}@{host}/git/{name}.git", "main", cwd=work)
    assert writer.returncode == 0, writer.stderr  # the same push with a write token goes in


def test_a_read_token_cannot_manage_tokens(
    server: Server, read_token: str, developer_token: str
) -> None:
    with api(server, developer_token) as dev:
        other = dev.post("/tokens", json={"name": "victim", "scopes": ["read"]}).json()
    with api(server, read_token) as reader:
        revoked = reader.delete(f"/tokens/{other['id']}")
        created = reader.post("/tokens", json={"name": "another", "scopes": ["read"]})
        listed = reader.get("/tokens")
    assert revoked.status_code == 403, revoked.text
    assert SCOPE_REFUSAL in revoked.text
    assert created.status_code == 403, created.text
    assert listed.status_code == 200  # reading one's own tokens is a read
    with api(server, other["token"]) as victim:
        assert victim.get("/tokens").status_code == 200  # still valid


def test_every_write_endpoint_refuses_a_read_token(
    server: Server, read_token: str, repository: dict[str, Any]
) -> None:
    request_id = repository["request"]["id"]
    with api(server, read_token) as reader:
        resources = reader.get("/resources").json()
        items = resources["items"] if isinstance(resources, dict) else resources
        resource_id = next(
            r["id"] for r in items if r["name"] == repository["name"] and r["state"] == "active"
        )
        attempts = {
            "submit": reader.post(
                "/requests",
                json={"template": "new-repo", "parameters": {"name": "never-made"}},
            ),
            "cancel": reader.post(f"/requests/{request_id}/cancel"),
            "retry": reader.post(f"/requests/{request_id}/retry"),
            "reveal": reader.post(f"/requests/{request_id}/secrets/reveal"),
            "extend": reader.post(f"/resources/{resource_id}/extend", json={"ttl": "1d"}),
            "destroy": reader.delete(f"/resources/{resource_id}"),
        }
        openapi = httpx.get(f"{server.url}/api/openapi.json").json()
        swept = 0
        for path, methods in openapi["paths"].items():
            for method in methods:
                if method in ("get", "head", "options"):
                    continue
                url = re.sub(r"\{[^}]+\}", "x" * 12, path.removeprefix("/api/v1"))
                answer = reader.request(method.upper(), url, json={})
                assert answer.status_code not in range(200, 300), (method, path, answer.text)
                assert answer.status_code < 500, (method, path, answer.text)
                swept += 1
        still = reader.get(f"/resources/{resource_id}").json()
    for what, answer in attempts.items():
        assert answer.status_code == 403, (what, answer.status_code, answer.text)
        assert SCOPE_REFUSAL in answer.text, (what, answer.text)
    assert swept >= 15
    assert still["state"] == "active"
