"""The platform with its Slack face on, served over real HTTP (uvicorn in a thread), a worker,
a fake Slack Web API, and users linked to Slack ids; plus signed deliveries in Slack's shapes."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.slack.face import SlackFace
from goldenpath.slack.people import SlackPeople
from goldenpath.store import tables
from tests.conftest import ADMIN, eventually
from tests.integration.slack.slack_fake import SlackFake

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
PASSWORD = "correct horse battery staple"
# What the starter guardrail database_sizes.rego says of a medium database on the platform's own
# PostgreSQL server (the tests configure no postgres backend of their own).
MEDIUM_DENIED = "own PostgreSQL server, which hosts small ones only"
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
    face: SlackFace | None  # None when no signing secret is configured
    signing_secret: str | None

    def post(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> httpx.Response:
        """A delivery signed as Slack signs it (now, with the world's secret)."""
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": (
                signature
                if signature is not None
                else sign(body, ts, self.signing_secret or SIGNING_SECRET)
            ),
        }
        sent.update(headers or {})
        return self.send(body, sent)

    def send(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """A delivery with exactly these headers: nothing added, nothing signed."""
        return self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    def command_body(
        self, user: str, text: str, channel: str = "C0PAYMENTS", trigger_id: str | None = None
    ) -> bytes:
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
        return urlencode(fields).encode()

    def command(
        self,
        user: str,
        text: str,
        channel: str = "C0PAYMENTS",
        trigger_id: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        return self.post(self.command_body(user, text, channel, trigger_id), **extra)

    @staticmethod
    def interaction_body(payload: dict[str, Any]) -> bytes:
        """An interactivity delivery: ``payload=<JSON>``, form-encoded."""
        payload.setdefault("trigger_id", trigger())
        return urlencode({"payload": json.dumps(payload)}).encode()

    def interaction(self, payload: dict[str, Any], **extra: Any) -> httpx.Response:
        return self.post(self.interaction_body(payload), **extra)

    def view_submission(
        self, user: str, view: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any]:
        """The view_submission payload of ``view`` (as the app opened it) with the inputs' state."""
        return {
            **_envelope("view_submission", user),
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

    def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, Any], **extra: Any
    ) -> httpx.Response:
        return self.interaction(self.view_submission(user, view, values), **extra)

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
            **_envelope("block_actions", user),
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
        return eventually(check, timeout, what or str(check))

    def footprint(self) -> dict[str, int]:
        """Everything a delivery could change, counted: rows of the platform's tables that a
        Slack action writes, and calls made to Slack."""
        counted = {}
        with self.platform.database.begin() as conn:
            for table in (
                tables.requests,
                tables.resources,
                tables.events,
                tables.slack_deliveries,
                tables.slack_messages,
                tables.slack_link_codes,
                tables.slack_identities,
            ):
                rows = sa.select(sa.func.count()).select_from(table)
                if table is tables.events:
                    # The cluster's hourly drift sweep records its checks whenever the hour
                    # turns, whatever the test does: not a delivery's doing.
                    rows = rows.where(tables.events.c.action != "resource.checked")
                counted[table.name] = int(conn.execute(rows).scalar_one())
        counted["slack_calls"] = len(self.fake.calls)
        return counted

    def previewed(self, user: str, state: dict[str, Any], path: str = "postgres-database") -> Any:
        """``/golden <path>``, the modal filled with ``state``: the preview the app shows."""
        before = len(self.fake.of("views.open"))
        assert self.command(user, path).status_code == 200
        answer = self.submit_view(user, self.opened_view(after=before), state)
        assert answer.json()["response_action"] == "update", answer.text
        return answer.json()["view"]

    def ask_exception(self, user: str, name: str) -> tuple[str, str, tuple[str, str]]:
        """A medium database (which the starter guardrails deny) asked for in Slack, then its
        exception through the button and the justification modal: the denied request's id,
        the exception's id, and the denied request's message (whose thread the rest joins)."""
        service = self.platform.service
        self.submit_view(user, self.previewed(user, form_state(name, "medium")), {})
        (denied,) = self.wait(lambda: service.requests(ADMIN), what="the denied request")
        thread = self.thread_of()
        self.wait(lambda: "gp_exception" in self.shown(thread), what="the exception button")
        opened = len(self.fake.of("views.open"))
        self.click(user, *thread, "gp_exception", denied.id)
        asked = self.submit_view(
            user, self.opened_view(after=opened), justified("a load test this week")
        )
        assert asked.status_code == 200 and asked.text == "", asked.text
        exception = next(r for r in service.requests(ADMIN) if r.id != denied.id)
        return denied.id, exception.id, thread

    def thread_of(self, channel: str = "C0PAYMENTS", after: int = 0) -> tuple[str, str]:
        """(channel, ts) of a request's message in ``channel`` (the ``after``-th), once posted.
        Found by position: matching its text would race the worker's chat.update."""

        def top_level() -> list[tuple[str, str]]:
            with self.fake._lock:
                return [
                    k
                    for k, m in self.fake.messages.items()
                    if k[0] == channel and not m.get("thread_ts")
                ][after:]

        return self.wait(top_level, what=f"a message in {channel}")[0]  # type: ignore[no-any-return]

    def messages_about(self, request_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The posted messages that show this request (each names it in its footer)."""
        with self.fake._lock:
            return {
                k: m for k, m in self.fake.messages.items() if f"Request {request_id}>" in str(m)
            }

    def told(self, user: str, after: int = 0) -> str:
        """The ``after``-th ephemeral answer given to ``user``, once given."""
        found = self.wait(
            lambda: [c for c in self.fake.of("chat.postEphemeral") if c.args["user"] == user][
                after:
            ],
            what=f"an answer to {user}",
        )
        return str(found[0].args["text"])

    def shown(self, key: tuple[str, str]) -> str:
        """What a posted message shows now (its text and blocks, as JSON)."""
        return json.dumps(self.fake.messages[key])

    def sign_in(self, user: str) -> None:
        """Sign in to the portal as ``user`` (the world's HTTP client keeps the session)."""
        page = self.http.get(f"{self.url}/login")
        self.http.post(
            f"{self.url}/login",
            data={"_csrf": csrf(page.text), "user": user, "password": PASSWORD, "next": "/"},
        )

    def opened_view(self, after: int = 0) -> dict[str, Any]:
        calls = self.wait(lambda: self.fake.of("views.open")[after:], what="views.open")
        view = calls[0].args["view"]
        return json.loads(view) if isinstance(view, str) else dict(view)


def csrf(page: str) -> str:
    """The CSRF token of a portal page's form."""
    found = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def form_state(name: str, size: str = "small") -> dict[str, Any]:
    """The submitted state of postgres-database's modal: a name typed, a size chosen."""
    return {
        "name": {"v": {"type": "plain_text_input", "value": name}},
        "size": {
            "v": {
                "type": "radio_buttons",
                "selected_option": {"text": {"type": "plain_text", "text": size}, "value": size},
            }
        },
    }


def justified(text: str) -> dict[str, Any]:
    """The submitted state of the exception modal: the justification typed."""
    return {"justification": {"v": {"type": "plain_text_input", "value": text}}}


def _envelope(kind: str, user: str) -> dict[str, Any]:
    """What every interactivity payload starts with: its type, the workspace and the user."""
    return {
        "type": kind,
        "team": {"id": "T0001", "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "unused-verification-token",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def make_slack_world(
    make_platform: Callable[..., Platform],
) -> Iterator[Callable[..., SlackWorld]]:
    """Build a world; keyword arguments override the platform's settings (the signing secret,
    the email domain...). Users: alice (payments developer), bob (payments developer and
    approver), dave (payments approver), carol (search approver), each linked to U<NAME>;
    erin (payments developer) is linked to no Slack user."""
    stops: list[Callable[[], None]] = []

    def make(**overrides: Any) -> SlackWorld:
        fake = SlackFake(bot_token=BOT_TOKEN).start()
        stops.append(fake.stop)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        settings: dict[str, Any] = {
            "url": url,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_bot_token": BOT_TOKEN,
            "slack_api_url": fake.url,
            **overrides,
        }
        platform = make_platform(**settings)
        directory = platform.directory
        directory.create_team(ADMIN, "payments")
        directory.create_team(ADMIN, "search")
        people = SlackPeople(platform.database, directory)
        for user, team, role, slack_id in (
            ("alice", "payments", "developer", "UALICE"),
            ("bob", "payments", "approver", "UBOB"),
            ("dave", "payments", "approver", "UDAVE"),
            ("carol", "search", "approver", "UCAROL"),
            ("erin", "payments", "developer", None),
        ):
            directory.create_user(ADMIN, user, password=PASSWORD)
            directory.add_member(ADMIN, team, user, role)
            if slack_id:
                people.link(ADMIN, user, slack_id)
        directory.add_member(ADMIN, "payments", "bob", "developer")
        api = create_api(platform)
        server = uvicorn.Server(
            uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        worker = WorkerThread(platform).start()
        http = httpx.Client(timeout=30)

        def stop() -> None:
            http.close()
            worker.stop()
            server.should_exit = True
            thread.join(timeout=15)

        stops.append(stop)
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return SlackWorld(
            url=url,
            platform=platform,
            fake=fake,
            http=http,
            face=getattr(api.state, "slack_face", None),
            signing_secret=settings["slack_signing_secret"],
        )

    yield make
    for stop in reversed(stops):
        stop()


@pytest.fixture
def slack_world(make_slack_world: Callable[..., SlackWorld]) -> SlackWorld:
    return make_slack_world()
