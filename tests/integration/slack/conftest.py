"""The platform with its Slack face on, served over real HTTP (uvicorn in a thread), a worker,
a fake Slack Web API, and users linked to Slack ids; plus signed deliveries in Slack's shapes."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.slack.people import SlackPeople
from tests.conftest import ADMIN
from tests.integration.slack.slack_fake import SlackFake

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
PASSWORD = "correct horse battery staple"
NO_MEDIUM = """package goldenpath.org.no_medium

deny contains msg if {
    input.parameters.size == "medium"
    msg := "medium databases need a capacity review first: choose small"
}
"""
_triggers = itertools.count(1)


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 signature: HMAC-SHA256 over ``v0:{timestamp}:{body}``, hex, ``v0=`` prefix."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def trigger() -> str:
    digest = hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:32]
    return f"{next(_triggers)}.4744562912.{digest}"


@dataclass
class SlackWorld:
    url: str
    platform: Platform
    fake: SlackFake
    http: httpx.Client

    def post(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> httpx.Response:
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(body, ts),
        }
        sent.update(headers or {})
        return self.http.post(f"{self.url}/slack/events", content=body, headers=sent)

    def command(
        self,
        user: str,
        text: str,
        channel: str = "C0PAYMENTS",
        trigger_id: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """A slash command as Slack sends it (form-encoded)."""
        fields = {
            "token": "unused-verification-token",
            "team_id": "T0001",
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "payments",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/golden",
            "text": text,
            "api_app_id": "A0001",
            "response_url": f"{self.fake.url}response/{user}",
            "trigger_id": trigger_id or trigger(),
        }
        return self.post(urlencode(fields).encode(), **extra)

    def interaction(self, payload: dict[str, Any], **extra: Any) -> httpx.Response:
        """An interactivity delivery: ``payload=<JSON>``, form-encoded."""
        payload.setdefault("trigger_id", trigger())
        return self.post(urlencode({"payload": json.dumps(payload)}).encode(), **extra)

    def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, Any], **extra: Any
    ) -> httpx.Response:
        """A view_submission of ``view`` (as the app opened it) with the inputs' state."""
        payload = {
            "type": "view_submission",
            "team": {"id": "T0001", "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
            "api_app_id": "A0001",
            "token": "unused-verification-token",
            "view": {
                **view,
                "id": "V0001",
                "team_id": "T0001",
                "hash": "h1",
                "state": {"values": values},
                "app_id": "A0001",
            },
            "response_urls": [],
        }
        return self.interaction(payload, **extra)

    def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str,
        state: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A block_actions delivery: a button clicked in a message."""
        payload = {
            "type": "block_actions",
            "team": {"id": "T0001", "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
            "api_app_id": "A0001",
            "token": "unused-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "channel": {"id": channel, "name": "payments"},
            "message": {"type": "message", "ts": message_ts, "text": "..."},
            "state": {"values": state or {}},
            "response_url": f"{self.fake.url}response/{user}",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        return self.interaction(payload)

    def wait(self, check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or check}")

    def opened_view(self, after: int = 0) -> dict[str, Any]:
        calls = self.wait(lambda: self.fake.of("views.open")[after:], what="views.open")
        view = calls[0].args["view"]
        return json.loads(view) if isinstance(view, str) else dict(view)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def slack_world(make_platform: Callable[..., Platform], tmp_path: Path) -> Iterator[SlackWorld]:
    fake = SlackFake(bot_token=BOT_TOKEN).start()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "no_medium.rego").write_text(NO_MEDIUM)
    platform = make_platform(
        url=url,
        policy_dir=policies,
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=fake.url,
    )
    directory = platform.directory
    directory.create_team(ADMIN, "payments")
    directory.create_team(ADMIN, "search")
    people = SlackPeople(platform.database, directory)
    for user, team, role, slack_id in (
        ("alice", "payments", "developer", "UALICE"),
        ("bob", "payments", "approver", "UBOB"),
        ("carol", "search", "approver", "UCAROL"),
    ):
        directory.create_user(ADMIN, user, password=PASSWORD)
        directory.add_member(ADMIN, team, user, role)
        people.link(ADMIN, user, slack_id)
    directory.add_member(ADMIN, "payments", "bob", "developer")
    api = create_api(platform)
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    worker = WorkerThread(platform).start()
    http = httpx.Client(timeout=30)
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield SlackWorld(url=url, platform=platform, fake=fake, http=http)
    finally:
        http.close()
        worker.stop()
        server.should_exit = True
        thread.join(timeout=15)
        fake.stop()
