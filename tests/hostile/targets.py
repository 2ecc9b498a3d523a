"""Where the hostile values go, enumerated from what the platform itself publishes.

- every field of every golden path the catalog serves (``GET /api/v1/templates/{name}``: the
  merged JSON Schema), plus the parameter names themselves;
- every property of every JSON request body in the OpenAPI document, and every POST, PUT and
  PATCH body as a whole;
- every path and query parameter of every operation;
- the portal's forms: sign-in, and each golden path's form and preview;
- Slack's deliveries, signed: a slash command's text and user, a modal's field, a payload.

A new endpoint, body field or golden path is covered without a change here. Each value is
sent in a request that is valid apart from it (`Baselines`): fresh names of the run's own,
ids of a request and a resource made at the start, the run's team and a user to spare.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from tests.hostile.corpus import Hostile
from tests.hostile.stage import REPOSITORY, SLACK_SECRET, SLACK_USER, TEAM, Stage

SENTINEL = "@@hostile@@"
BODY_METHODS = frozenset({"post", "put", "patch"})
FORM = "application/x-www-form-urlencoded"
SLACK_FORM = "application/x-www-form-urlencoded; charset=utf-8"  # Slack's, not a portal form
VICTIM = "hostile-victim"  # a user the run may disable, re-password and remove


@dataclass(frozen=True)
class Call:
    """One HTTP request, ready to send."""

    method: str
    path: str
    content: bytes | None = None
    content_type: str = "application/json"
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    family: str  # golden path, api body, api whole body, api path, api query, portal form
    name: str
    call: Callable[[Hostile], Call]
    # A golden path field is sent as a dry run first, then for real when the dry run accepts.
    real: Callable[[Hostile], Call] | None = None


def with_value(document: Any, value_json: str) -> bytes:
    """``document`` as JSON with the sentinel string replaced by the hostile JSON text."""
    return json.dumps(document).replace(json.dumps(SENTINEL), value_json, 1).encode()


@dataclass
class Baselines:
    """Valid values for everything but the field under test."""

    stage: Stage
    request_id: str = ""  # a request waiting for approval
    resource_id: str = ""  # a live resource (a Redis user)
    token_id: str = ""  # a token of the victim

    def parameters(self, template: str) -> dict[str, Any]:
        s = self.stage
        by_template: dict[str, Callable[[], dict[str, Any]]] = {
            "postgres-database": lambda: {"name": s.fresh("d")},
            "mysql-database": lambda: {"name": s.fresh("m")},
            "redis": lambda: {"name": s.fresh("r", "-")},
            "s3-bucket": lambda: {"name": s.fresh("b", "-"), "cost_center": "cc-1"},
            "ec2-instance": lambda: {"name": s.fresh("e", "-"), "cost_center": "cc-1"},
            "new-repo": lambda: {"name": s.fresh("g", "-")},
            "ci-secret": lambda: {
                "repository": REPOSITORY,
                "name": s.fresh("s").upper(),
                "value": "typed-value-1",
            },
            "service-onboarding": lambda: {
                "name": s.fresh("o", "-"),
                "owner": "payments",
                "tier": "bronze",
            },
        }
        make = by_template.get(template)
        return make() if make else {}

    def path_value(self, operation: str, name: str) -> str:
        if name == "request_id":
            return self.request_id
        if name == "resource_id":
            return self.resource_id
        if name == "token_id":
            return self.token_id
        if name == "name":
            return VICTIM if "User" in operation else "postgres-database"
        return {"team": TEAM, "user": VICTIM, "source": "hostile", "key": "T-1"}.get(name, "x")

    def body(self, operation: str, schema: dict[str, Any]) -> dict[str, Any]:
        s = self.stage
        known: dict[str, Callable[[], dict[str, Any]]] = {
            "dryRunTemplate": lambda: {"parameters": self.parameters("redis"), "team": TEAM},
            "createRequest": lambda: {
                "template": "redis",
                "parameters": self.parameters("redis"),
                "team": TEAM,
            },
            "approveRequest": lambda: {"comment": "fine by me"},
            "rejectRequest": lambda: {"comment": "not now"},
            "extendResource": lambda: {"ttl": "1d"},
            "confirmSlackLink": lambda: {"code": "ABCD-EFGH"},
            "createUser": lambda: {"name": s.fresh("u", "-"), "display_name": "A user"},
            "setUserPassword": lambda: {"password": "correct horse battery"},
            "linkSlackUser": lambda: {"slack_user_id": "U0HOSTILE"},
            "createTeam": lambda: {"name": s.fresh("t", "-")},
            "addTeamMember": lambda: {"user": VICTIM, "role": "developer"},
            "createToken": lambda: {"name": "hostile token", "user": VICTIM},
            "setTicketClass": lambda: {"class_name": "postgres-database"},
            "upgradeResource": lambda: {"dry_run": True},
        }
        make = known.get(operation)
        return make() if make else _from_schema(schema, s)


def _from_schema(schema: dict[str, Any], stage: Stage) -> dict[str, Any]:
    """A body for an operation nobody wrote a baseline for: its required members, plainly."""
    plain: dict[str, Any] = {"string": stage.fresh("x", "-"), "integer": 1, "number": 1}
    plain |= {"boolean": False, "array": [], "object": {}}
    body: dict[str, Any] = {}
    for name in schema.get("required", []):
        member = schema.get("properties", {}).get(name, {})
        kind = member.get("type") or next(
            (v.get("type") for v in member.get("anyOf", []) if v.get("type") != "null"), "string"
        )
        body[name] = member.get("default", plain.get(kind, "x"))
    return body


def golden_paths(stage: Stage) -> Iterator[tuple[str, list[str]]]:
    """Each golden path the catalog serves, with the fields of its merged form."""
    for summary in stage.admin.get("/api/v1/templates", params={"limit": 500}).json()["items"]:
        detail = stage.admin.get(f"/api/v1/templates/{summary['name']}").json()
        yield summary["name"], list(detail["schema"].get("properties", {}))


def golden_path_targets(stage: Stage, base: Baselines) -> Iterator[Target]:
    for name, fields in golden_paths(stage):
        for field_name in fields:
            yield _field_target(name, field_name, base)
        yield _parameter_name_target(name, base)


def _request(template: str, parameters: dict[str, Any], value: str, dry_run: bool) -> Call:
    document = {"template": template, "parameters": parameters, "team": TEAM, "dry_run": dry_run}
    return Call("POST", "/api/v1/requests", with_value(document, value))


def _field_target(template: str, field_name: str, base: Baselines) -> Target:
    def call(hostile: Hostile, dry_run: bool) -> Call:
        parameters = base.parameters(template) | {field_name: SENTINEL}
        return _request(template, parameters, hostile.json, dry_run)

    return Target(
        "golden path",
        f"{template}.{field_name}",
        lambda h: call(h, True),
        lambda h: call(h, False),
    )


def _parameter_name_target(template: str, base: Baselines) -> Target:
    def call(hostile: Hostile, dry_run: bool) -> Call:
        parameters = base.parameters(template) | {hostile.text: "x"}
        return _request(template, parameters, json.dumps("x"), dry_run)

    return Target(
        "golden path",
        f"{template}.(parameter name)",
        lambda h: call(h, True),
        lambda h: call(h, False),
    )


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, operation


def schema_of(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return dict(schema)


def api_targets(document: dict[str, Any], base: Baselines) -> Iterator[Target]:
    for method, path, operation in operations(document):
        op = operation["operationId"]
        if op == "streamRequestEvents":
            continue  # a stream that stays open for a request that exists; its id is covered
        schema = schema_of(document, operation)
        for member in (schema or {}).get("properties", {}):
            yield _body_target(method, path, op, member, schema or {}, base)
        if method in BODY_METHODS:
            yield _whole_body_target(method, path, op, base)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                yield _path_target(method, path, op, parameter["name"], schema, base)
            elif parameter["in"] == "query":
                yield _query_target(method, path, op, parameter["name"], schema, base)
    yield _ticket_cell_target(base)


def _path(path: str, operation: str, base: Baselines, **given: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = given[name] if name in given else base.path_value(operation, name)
        return quote(value, safe="")

    return re.sub(r"\{([^}]+)\}", fill, path)


def _baseline_body(op: str, schema: dict[str, Any] | None, base: Baselines) -> bytes | None:
    return None if schema is None else json.dumps(base.body(op, schema)).encode()


def _whole_body_target(method: str, path: str, op: str, base: Baselines) -> Target:
    def call(hostile: Hostile) -> Call:
        return Call(method.upper(), _path(path, op, base), hostile.json.encode())

    return Target("api whole body", f"{op} body", call)


def _body_target(
    method: str, path: str, op: str, member: str, schema: dict[str, Any], base: Baselines
) -> Target:
    def call(hostile: Hostile) -> Call:
        document = base.body(op, schema) | {member: SENTINEL}
        return Call(method.upper(), _path(path, op, base), with_value(document, hostile.json))

    return Target("api body", f"{op} body.{member}", call)


def _path_target(
    method: str, path: str, op: str, name: str, schema: dict[str, Any] | None, base: Baselines
) -> Target:
    def call(hostile: Hostile) -> Call:
        filled = _path(path, op, base, **{name: hostile.text})
        return Call(method.upper(), filled, _baseline_body(op, schema, base))

    return Target("api path", f"{op} path.{name}", call)


def _query_target(
    method: str, path: str, op: str, name: str, schema: dict[str, Any] | None, base: Baselines
) -> Target:
    def call(hostile: Hostile) -> Call:
        body = _baseline_body(op, schema, base)
        return Call(method.upper(), _path(path, op, base), body, params={name: hostile.text})

    return Target("api query", f"{op} query.{name}", call)


def _ticket_cell_target(base: Baselines) -> Target:
    """A ticket export is a body of its own kind: the value goes in a CSV cell."""

    def call(hostile: Hostile) -> Call:
        cell = '"' + hostile.text.replace('"', '""') + '"'
        row = f"T-{base.stage.fresh('k')},{cell},2026-01-01,2026-01-02"
        export = f"key,summary,created,resolved\n{row}\n"
        return Call(
            "POST",
            "/api/v1/insights/tickets",
            export.encode("utf-8", errors="surrogatepass"),
            "text/csv",
            {"source": "hostile"},
        )

    return Target("api body", "importTickets csv.summary", call)


def portal_targets(stage: Stage, base: Baselines) -> Iterator[Target]:
    """The portal's forms, as a signed-in browser posts them (`Call.content` lacks only the
    CSRF token, which the prober adds)."""
    login = {"user": "admin", "password": "not the password", "next": "/"}
    for field_name in login:
        yield _form_target("POST /login", "/login", lambda: dict(login), field_name)
    for name, fields in golden_paths(stage):

        def form(template: str = name) -> dict[str, str]:
            values = base.parameters(template) | {"_team": TEAM}
            return {k: v for k, v in values.items() if isinstance(v, str)}

        for field_name in fields:
            for path in (f"/paths/{name}/preview", f"/paths/{name}"):
                yield _form_target(f"POST {path}", path, form, field_name)


def _form_target(
    label: str, path: str, given: Callable[[], dict[str, str]], field_name: str
) -> Target:
    def call(hostile: Hostile) -> Call:
        fields = given() | {field_name: hostile.text}
        return Call("POST", path, urlencode(fields).encode(), FORM)

    return Target("portal form", f"{label} form.{field_name}", call)


def slack_targets(stage: Stage) -> Iterator[Target]:
    """What Slack delivers to ``POST /slack/events``, signed with the app's secret."""
    yield Target("slack", "slash command text", lambda h: _slack(_command(SLACK_USER, h.text)))
    yield Target("slack", "slash command user_id", lambda h: _slack(_command(h.text, "redis")))
    yield Target(
        "slack",
        "interaction payload",
        lambda h: _slack(urlencode({"payload": h.json}).encode()),
    )

    def submitted(hostile: Hostile) -> Call:
        """The redis modal, opened by ``/golden redis``, sent back with the name typed."""
        opened = len(stage.slack.of("views.open"))
        sent = _slack(_command(SLACK_USER, "redis"))
        stage.admin.post("/slack/events", content=sent.content, headers=sent.headers)
        deadline = time.monotonic() + 30  # the app may open the modal just after its ack
        while not (views := stage.slack.of("views.open")[opened:]) and time.monotonic() < deadline:
            time.sleep(0.05)
        shown = views[-1].args["view"] if views else {}
        view = json.loads(shown) if isinstance(shown, str) else dict(shown)
        state = {"name": {"v": {"type": "plain_text_input", "value": hostile.text}}}
        payload = {
            "type": "view_submission",
            "team": {"id": "T0001", "domain": "hostile"},
            "user": {"id": SLACK_USER, "username": "hostile-dev", "team_id": "T0001"},
            "api_app_id": "A0001",
            "view": {**view, "id": "V0001", "state": {"values": state}},
        }
        return _slack(urlencode({"payload": json.dumps(payload)}).encode())

    yield Target("slack", "modal field redis.name", submitted)


def _command(user: str, text: str) -> bytes:
    fields = {
        "team_id": "T0001",
        "channel_id": "C0HOSTILE",
        "user_id": user,
        "user_name": "hostile",
        "command": "/golden",
        "text": text,
        "api_app_id": "A0001",
        "trigger_id": f"{time.time_ns()}.1.hostile",
    }
    return urlencode(fields).encode()


def _slack(body: bytes) -> Call:
    stamp = str(int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    return Call("POST", "/slack/events", body, SLACK_FORM, headers=headers)
