"""Sending the corpus to the targets, and counting what came of it.

Per target: tried, refused (4xx), accepted (2xx/3xx, the value kept as inert data), accepted
with side effects, 5xx, and no answer (the connection dropped). A golden path field is sent as
a dry run; a value the dry run accepts is then submitted for real and the request watched to
its end, so that it reaches its backend. After every accepted value, and at the end of every
target, the backends are listed again: a new object with a suspicious name is a side effect,
and so is a ``/tmp/pwned-*`` file or a template expression that came back rendered. At the
end of the run, the portal's pages, the git repositories and the fake GitHub's secrets are
searched for traces, and the platform's own tables, canaries and credentials checked intact.
"""

from __future__ import annotations

import json
import secrets
import select
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import redis
import sqlalchemy as sa

from tests.hostile.corpus import Hostile, HostileBody
from tests.hostile.effects import (
    Backends,
    mysql_admin,
    platform_tables,
    portal_pages,
    pwned_files,
    repository_files,
    signed_in,
    traces,
)
from tests.hostile.stage import REDIS_URL, TEAM, Stage
from tests.hostile.targets import FORM, VICTIM, Baselines, Call, Target

PIECE = 4096  # bytes of a long request sent at a time
SAMPLED = frozenset({"api path", "api query", "portal form"})


@dataclass
class Tally:
    family: str
    target: str
    tried: int = 0
    refused: int = 0
    accepted: int = 0
    side_effects: int = 0
    server_errors: int = 0
    no_answer: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    accepted_values: list[str] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "target": self.target,
            "tried": self.tried,
            "refused": self.refused,
            "accepted": self.accepted,
            "side_effects": self.side_effects,
            "server_errors": self.server_errors,
            "no_answer": self.no_answer,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "accepted_values": self.accepted_values,
            "effects": self.effects,
            "errors": self.errors,
        }


@dataclass
class Outcome:
    status: int | None  # None: no answer
    text: str = ""
    location: str = ""


class Prober:
    def __init__(
        self, stage: Stage, values: list[Hostile], bodies: list[HostileBody], *, sample: int = 0
    ) -> None:
        """``sample`` > 0 sends only that many of the values to URL parameters and portal forms
        (the test suite's run)."""
        self.stage = stage
        self.values = values
        self.bodies = bodies
        self.sample = sample
        self.backends = Backends(stage)
        self.base = Baselines(stage)
        self.password = "hostile-admin-" + secrets.token_urlsafe(12)
        self.tables: set[str] = set()
        self.portal: httpx.Client | None = None
        self.csrf = ""
        self.progress = False

    # --- before and after ----------------------------------------------------------------

    def prepare(self) -> None:
        """The baselines' request, resource, victim and token; the canaries."""
        s, admin = self.stage, self.stage.admin
        admin.put("/api/v1/users/admin/password", json={"password": self.password})
        admin.post("/api/v1/users", json={"name": VICTIM}).raise_for_status()
        admin.post(f"/api/v1/teams/{TEAM}/members", json={"user": VICTIM}).raise_for_status()
        made = admin.post("/api/v1/tokens", json={"name": "victim", "user": VICTIM})
        self.base.token_id = made.json()["id"]
        resource = s.developer.post(
            "/api/v1/requests",
            json={"template": "redis", "parameters": self.base.parameters("redis"), "team": TEAM},
        )
        done = s.wait(resource.json()["id"])
        assert done["status"] == "succeeded", done
        self.base.resource_id = done["resources"][0]["id"] if done.get("resources") else ""
        if not self.base.resource_id:
            found = admin.get("/api/v1/resources", params={"limit": 1}).json()["items"]
            self.base.resource_id = found[0]["id"]
        waiting = s.developer.post(
            "/api/v1/requests",
            json={
                "template": "redis",
                "parameters": self.base.parameters("redis"),
                "team": TEAM,
                "justification": "needed for the hostile-input run",
            },
        )
        self.base.request_id = waiting.json()["id"]
        with s.platform.database.begin() as conn:
            conn.execute(sa.text("CREATE TABLE x (id int)"))
        with mysql_admin() as conn, conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{s.prefix}_canary`")
            cursor.execute(f"CREATE TABLE `{s.prefix}_canary`.x (id int)")
        client = redis.Redis.from_url(REDIS_URL)
        client.set(f"{s.prefix}:canary", "1")
        client.close()
        self.tables = platform_tables(s)
        self.portal, self.csrf = signed_in(s, self.password)

    def finish(self) -> Tally:
        """The run-wide checks, as one row: traces in pages, repositories and secrets, and the
        platform intact."""
        s = self.stage
        tally = Tally("platform", "(whole run)")
        assert self.portal is not None
        pages = portal_pages(self.portal, s)
        for path, text in pages.items():
            tally.effects += [f"{path}: {t}" for t in traces([text], s.marker, page=True)]
        tally.effects += [f"git: {t}" for t in traces(repository_files(s), s.marker)]
        stored = [v["value"] for v in list(s.github.secrets.values())]
        tally.effects += [f"github secret: {t}" for t in traces(stored, s.marker)]
        posted = [json.dumps(c.args) for c in list(s.slack.calls)]
        tally.effects += [f"slack: {t}" for t in traces(posted, s.marker)]
        tally.effects += [f"file {f}" for f in pwned_files(s.marker)]
        tally.effects += self._intact()
        tally.tried = len(pages)
        tally.side_effects = len(tally.effects)
        return tally

    def _intact(self) -> list[str]:
        s, broken = self.stage, []
        missing = self.tables - platform_tables(s)
        if missing:
            broken.append(f"platform tables gone: {sorted(missing)}")
        with mysql_admin() as conn, conn.cursor() as cursor:
            cursor.execute(f"SHOW TABLES IN `{s.prefix}_canary`")
            if not cursor.fetchall():
                broken.append("MariaDB canary table gone")
        client = redis.Redis.from_url(REDIS_URL)
        if client.get(f"{s.prefix}:canary") is None:
            broken.append("Redis canary key gone")
        client.close()
        for who, api in (("admin", s.admin), ("developer", s.developer)):
            if api.get("/api/v1/me").status_code != 200:
                broken.append(f"the {who}'s token no longer works")
        return broken

    def close(self) -> None:
        self.backends.close()
        if self.portal is not None:
            self.portal.close()

    # --- the targets ---------------------------------------------------------------------

    def run(self, targets: Iterable[Target]) -> list[Tally]:
        return [self.probe(t) for t in targets]

    def probe(self, target: Target) -> Tally:
        started = time.monotonic()
        tally = Tally(target.family, target.name)
        before = self.backends.objects()
        made: dict[str, str] = {}  # request id -> the label of the value that made it
        for label, call, real in self._calls(target):
            outcome = self.send(call)
            if real is not None and _accepted(outcome):
                outcome = self.send(real)
            self._count(tally, label, outcome, made)
        # The worker runs what was accepted meanwhile; only then are the backends compared.
        for request_id, label in made.items():
            found = traces([json.dumps(self.stage.wait(request_id))], self.stage.marker)
            if found:
                self._side_effect(tally, label, found)
        late = self.backends.new_suspicious(before) + pwned_files(self.stage.marker)
        if late:
            tally.side_effects += 1
            tally.effects.append(f"after the target: {late}")
        if self.progress:
            took = time.monotonic() - started
            print(f"{target.name}: {tally.tried} tried in {took:.1f} s", file=sys.stderr)
        return tally

    def _calls(self, target: Target) -> Iterator[tuple[str, Call, Call | None]]:
        values = self.values
        if target.family in SAMPLED and self.sample:
            values = values[:: max(1, len(values) // self.sample)][: self.sample]
        for hostile in values:
            try:
                call = target.call(hostile)
                real = target.real(hostile) if target.real is not None else None
                urlencode(call.params)
            except UnicodeEncodeError:
                continue  # a lone surrogate cannot be put in a URL or a form at all
            yield hostile.short_label, call, real
        if target.family == "api whole body":
            like = target.call(self.values[0])
            for body in self.bodies:
                call = Call(like.method, like.path, body.content, body.content_type)
                yield f"body:{body.label}", call, None

    def _count(self, tally: Tally, label: str, outcome: Outcome, made: dict[str, str]) -> None:
        tally.tried += 1
        if outcome.status is None:
            tally.no_answer += 1
            tally.errors.append(f"{label}: no answer ({outcome.text})")
            return
        tally.statuses[outcome.status] += 1
        if outcome.status >= 500:
            tally.server_errors += 1
            tally.errors.append(f"{label}: {outcome.status} {outcome.text[:300]}")
        elif outcome.status >= 400 or _slack_refused(outcome):
            tally.refused += 1
        else:
            tally.accepted += 1
            tally.accepted_values.append(label)
            request = _request_id(outcome)
            if request is not None:
                made[request] = label
            found = traces([outcome.text], self.stage.marker)
            if found:
                self._side_effect(tally, label, found)

    @staticmethod
    def _side_effect(tally: Tally, label: str, found: list[str]) -> None:
        """An accepted value turns out to have done something: it moves to side effects."""
        if label in tally.accepted_values:
            tally.accepted_values.remove(label)
            tally.accepted -= 1
            tally.side_effects += 1
        tally.effects.append(f"{label}: {found}")

    def send(self, call: Call) -> Outcome:
        headers = {"Content-Type": call.content_type} if call.content is not None else {}
        headers |= call.headers
        client, content = self.stage.admin, call.content
        if call.content_type == FORM and self.portal is not None:
            client = self.portal
            content = (content or b"") + b"&" + urlencode({"_csrf": self.csrf}).encode()
        for attempt in (1, 2):
            try:
                answer = client.request(
                    call.method, call.path, content=content, params=call.params, headers=headers
                )
            except httpx.InvalidURL:
                return self._send_long_url(call, client, headers)
            except httpx.TransportError as exc:
                # Once more on a new connection: the server may have closed a kept-alive one.
                if attempt == 2:
                    return Outcome(None, f"{type(exc).__name__}: {exc}")
                continue
            return Outcome(answer.status_code, answer.text, answer.headers.get("location", ""))
        raise AssertionError("unreachable")

    def _send_long_url(self, call: Call, client: httpx.Client, headers: dict[str, str]) -> Outcome:
        """httpx refuses URLs past 64 KiB, so this one goes over a socket. The server refuses a
        request head that long as soon as it has read past its limit and closes the connection;
        the head is sent a piece at a time, waiting for that answer, so that the server has
        read everything it was sent when it closes (else the close resets the connection and
        the answer is lost)."""
        target = call.path + ("?" + urlencode(call.params) if call.params else "")
        url = urlsplit(self.stage.url)
        body = call.content or b""
        lines = [f"{call.method} {target} HTTP/1.1", f"Host: {url.netloc}"]
        sent = headers | {"Authorization": client.headers.get("Authorization", "")}
        lines += [f"{k}: {v}" for k, v in sent.items()] + [f"Content-Length: {len(body)}", ""]
        request = "\r\n".join(lines).encode() + b"\r\n" + body
        with socket.create_connection((url.hostname or "", url.port or 80), timeout=120) as sock:
            for start in range(0, len(request), PIECE):
                try:
                    sock.sendall(request[start : start + PIECE])
                except OSError:
                    break  # answered and closed already
                if select.select([sock], [], [], 1 if start > PIECE * 4 else 0)[0]:
                    break
            try:
                reply = sock.recv(65536)
            except OSError as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}")
        status = reply.split(b" ", 2)[1:2]
        if not status or not status[0].isdigit():
            return Outcome(None, f"not an HTTP answer: {reply[:80]!r}")
        return Outcome(int(status[0]), reply.partition(b"\r\n\r\n")[2].decode(errors="replace"))


def _slack_refused(outcome: Outcome) -> bool:
    """Slack's way to refuse a modal's input: 200 with ``response_action: errors``."""
    if '"response_action"' not in outcome.text[:40]:
        return False
    try:
        answer = json.loads(outcome.text)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("response_action") == "errors"


def _accepted(outcome: Outcome) -> bool:
    return outcome.status is not None and outcome.status < 400


def _request_id(outcome: Outcome) -> str | None:
    """The id of a request an answer says was made: a submit's 202 body, or the portal's
    redirect to the new request's page."""
    if outcome.location.startswith("/requests/"):
        return outcome.location.removeprefix("/requests/")
    try:
        body = json.loads(outcome.text)
    except ValueError:
        return None
    if isinstance(body, dict) and "status" in body and "template" in body and "id" in body:
        return str(body["id"])
    return None
