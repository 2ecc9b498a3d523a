"""A small Slack Web API for the tests: the methods the platform calls, in the request and
response shapes Slack documents, every call recorded, and failures (HTTP 500, 429 with
Retry-After) served on demand.

Slack's Web API takes form-encoded or JSON bodies with ``Authorization: Bearer xoxb-...`` and
answers HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

METHODS = (
    "auth.test",
    "views.open",
    "views.update",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "users.info",
)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    status: int


@dataclass
class SlackFake:
    bot_token: str = "xoxb-test-token"
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # method -> list of (status, retry_after) to answer before answering normally
    failures: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (status, retry_after) every method answers with until `recover()`: Slack down.
    outage: tuple[int, int | None] | None = None
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SlackFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[-1] for k, v in parse_qs(raw).items()}
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth else args.get("token")
                status, body, headers = fake.answer(
                    self.path.strip("/").split("/")[-1], args, token
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def fail(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        with self._lock:
            self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def go_down(self, status: int, retry_after: int | None = None) -> None:
        """From now on every method answers ``status`` (500: Slack is down; 429: rate limited,
        with ``Retry-After``), until `recover`."""
        with self._lock:
            self.outage = (status, retry_after)

    def recover(self) -> None:
        with self._lock:
            self.outage = None

    def answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            pending = self.failures.get(method) or []
            if pending or self.outage is not None:
                status, retry_after = pending.pop(0) if pending else self.outage  # type: ignore[misc]
                self.calls.append(Call(method, args, token, status))
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                error = "ratelimited" if status == 429 else "internal_error"
                return status, {"ok": False, "error": error}, headers
            self.calls.append(Call(method, args, token, 200))
            if token != self.bot_token:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            return 200, self._ok(method, args), {}

    def _ok(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T0001",
                "team": "Test",
                "user": "goldenpath",
                "url": "https://test.slack.com/",
            }
        if method in ("views.open", "views.update"):
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {**(view or {}), "id": "V0001", "hash": "h1"}}
        if method == "chat.postMessage":
            channel = str(args["channel"])
            if channel.startswith("U"):  # a user id: Slack posts in the app's DM with them
                channel = "D" + channel[1:]
            ts = f"1700000000.{next(self._ts):06d}"
            self.messages[(channel, ts)] = dict(args)
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}
        if method == "chat.update":
            key = (str(args["channel"]), str(args["ts"]))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key] = {**self.messages[key], **args}
            return {"ok": True, "channel": key[0], "ts": key[1], "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        return {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]
