"""Local stand-ins for GitHub's and GitLab's REST APIs, served over real HTTP on a free port.

They implement only the documented request and response shapes ``ci:secret`` uses, and check
what a real API would: the token, the body's fields, GitLab's masking rule. The GitHub fake holds
a real libsodium key pair and decrypts every sealed secret, so a test sees the value GitHub
would store. Each fake keeps the requests it served, for "left untouched" checks.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from nacl.public import PrivateKey, SealedBox

from goldenpath.actions.base import ActionInputs, Context, ResourceRef
from goldenpath.actions.ci.secret import CiSecret
from goldenpath.actions.testing import MemoryJournal
from goldenpath.settings import BackendSettings

GITHUB_TOKEN = "gh-test-token"
GITLAB_TOKEN = "gl-test-token"
MASKABLE = re.compile(r"\A[a-zA-Z0-9_+=/@:.~-]{8,}\Z")

Reply = tuple[int, Any]


@dataclass
class Seen:
    method: str
    path: str
    body: bytes


class Clock:
    """Seconds that only move forward, one per write, like GitHub's second-precision stamps."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=UTC)

    def tick(self) -> str:
        self._now += timedelta(seconds=1)
        return self._now.isoformat().replace("+00:00", "Z")


@dataclass
class FakeGitHub:
    """GitHub Actions repository secrets: public key, GET / PUT / DELETE of a secret."""

    repositories: set[str] = field(default_factory=lambda: {"acme/payments"})
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    private_key: PrivateKey = field(default_factory=PrivateKey.generate)
    key_id: str = "568250167242549743"
    clock: Clock = field(default_factory=Clock)

    def add_secret(self, repository: str, name: str, value: str) -> None:
        """A secret set outside the platform (by hand, by another tool)."""
        stamp = self.clock.tick()
        self.secrets[(repository, name)] = {
            "value": value,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def handle(self, method: str, url: str, headers: Any, body: bytes) -> Reply:
        if headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            return 401, {"message": "Bad credentials"}
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/secrets/([^/]+)", urlsplit(url).path)
        if not match or match.group(1) not in self.repositories:
            return 404, {"message": "Not Found"}
        repository, name = match.groups()
        if name == "public-key" and method == "GET":
            key = base64.b64encode(bytes(self.private_key.public_key)).decode()
            return 200, {"key_id": self.key_id, "key": key}
        current = self.secrets.get((repository, name))
        if method == "GET":
            if current is None:
                return 404, {"message": "Not Found"}
            return 200, {
                "name": name,
                "created_at": current["created_at"],
                "updated_at": current["updated_at"],
            }
        if method == "PUT":
            sent = json.loads(body)
            if sent.get("key_id") != self.key_id:
                return 422, {"message": "Bad key_id"}
            value = SealedBox(self.private_key).decrypt(base64.b64decode(sent["encrypted_value"]))
            stamp = self.clock.tick()
            created = current["created_at"] if current else stamp
            self.secrets[(repository, name)] = {
                "value": value.decode(),
                "created_at": created,
                "updated_at": stamp,
            }
            return (204 if current else 201), None
        if method == "DELETE":
            if current is None:
                return 404, {"message": "Not Found"}
            del self.secrets[(repository, name)]
            return 204, None
        return 405, {"message": "Method Not Allowed"}


@dataclass
class FakeGitLab:
    """GitLab project CI/CD variables: GET / POST / PUT / DELETE, under ``/api/v4``."""

    projects: set[str] = field(default_factory=lambda: {"acme/payments"})
    variables: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def add_variable(self, project: str, key: str, value: str, **flags: Any) -> None:
        self.variables[(project, key)] = _variable(
            {"key": key, "value": value, "masked": False, "protected": False, **flags}
        )

    def handle(self, method: str, url: str, headers: Any, body: bytes) -> Reply:
        if headers.get("PRIVATE-TOKEN") != GITLAB_TOKEN:
            return 401, {"message": "401 Unauthorized"}
        parts = urlsplit(url)
        # The project id is one URL-encoded path segment ('acme%2Fpayments'): split first.
        match = re.fullmatch(r"/api/v4/projects/([^/]+)/variables(?:/([^/]+))?", parts.path)
        if not match:
            return 404, {"error": "404 Not Found"}
        project, key = unquote(match.group(1)), match.group(2)
        if project not in self.projects:
            return 404, {"message": "404 Project Not Found"}
        if key is not None and parse_qs(parts.query).get("filter[environment_scope]") != ["*"]:
            return 400, {"message": "this fake expects filter[environment_scope]=*"}
        sent = json.loads(body) if body else {}
        if method == "POST" and key is None:
            if (project, sent.get("key")) in self.variables:
                return 400, {"message": {"key": [f"({sent.get('key')}) has already been taken"]}}
            invalid = _invalid(sent)
            if invalid:
                return 400, {"message": invalid}
            self.variables[(project, sent["key"])] = _variable(sent)
            return 201, self.variables[(project, sent["key"])]
        current = self.variables.get((project, key or ""))
        if current is None:
            return 404, {"message": "404 Variable Not Found"}
        if method == "GET":
            return 200, current
        if method == "PUT":
            merged = {**current, **sent, "key": key}
            invalid = _invalid(merged)
            if invalid:
                return 400, {"message": invalid}
            self.variables[(project, key or "")] = _variable(merged)
            return 200, self.variables[(project, key or "")]
        if method == "DELETE":
            del self.variables[(project, key or "")]
            return 204, None
        return 405, {"message": "405 Method Not Allowed"}


def _variable(sent: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": sent["key"],
        "value": sent["value"],
        "variable_type": sent.get("variable_type", "env_var"),
        "protected": bool(sent.get("protected", False)),
        "masked": bool(sent.get("masked", False)),
        "raw": bool(sent.get("raw", False)),
        "environment_scope": sent.get("environment_scope", "*"),
        "description": sent.get("description"),
    }


def _invalid(sent: dict[str, Any]) -> dict[str, list[str]] | None:
    if "key" not in sent or "value" not in sent:
        return {"base": ["key and value are required"]}
    if sent.get("masked") and not MASKABLE.match(str(sent["value"])):
        return {"value": ["is invalid"]}
    return None


@contextmanager
def serve(fake: FakeGitHub | FakeGitLab) -> Iterator[str]:
    """The fake on a free local port, in a thread; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake.seen.append(Seen(self.command, self.path, body))
            status, reply = fake.handle(self.command, self.path, self.headers, body)
            payload = b"" if reply is None else json.dumps(reply).encode()
            self.send_response(status)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request log is noise in a failing test's output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def context(
    inputs: ActionInputs,
    backend: BackendSettings,
    *,
    journal: MemoryJournal | None = None,
    resource_id: str = "r-1",
) -> Context[Any]:
    """What the runner hands ``ci:secret``, with ``backend`` configured as ``ci``."""
    return Context(
        inputs=inputs,
        backends={"ci": backend},
        owner_team="payments",
        requested_by="alice",
        template_name="ci-secret",
        request_id="req-1",
        step_id="secret",
        resource_id=resource_id,
        journal=journal if journal is not None else MemoryJournal(),
    )


def catalogued(ctx: Context[Any], outputs: dict[str, Any]) -> ResourceRef:
    """The catalog's record of what ``apply`` made, as `destroy` and `observe` receive it."""
    planned = CiSecret().plan(ctx)[0]
    return ResourceRef(
        id=ctx.resource_id or "r-1",
        type=planned.type,
        name=planned.name,
        backend=planned.backend,
        config=planned.config,
        outputs=outputs,
    )


def messages(exc: BaseException) -> str:
    """Everything an exception could show: its text, repr, args and details, down its chain."""
    texts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        texts += [str(current), repr(current), repr(current.args)]
        texts.append(repr(getattr(current, "details", "")))
        current = current.__cause__ or current.__context__
    return "\n".join(texts)
