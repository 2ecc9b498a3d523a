"""The ``/golden`` commands besides a golden path's modal: linking (a one-time code confirmed
through the API, or a confirmed email from ``users.info`` when enabled), ``mine``, ``extend``
(a bad ttl is a clear answer and changes nothing), ``destroy`` behind its confirm dialog, and
an unlinked user, who gets the one "link your account" answer to everything."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from goldenpath.slack.commands import DESTROY_ACTION
from goldenpath.slack.face import LINK_FIRST
from goldenpath.slack.messages import APPROVE_ACTION, EXCEPTION_ACTION, REJECT_ACTION
from goldenpath.store import queries
from goldenpath.store.records import ResourceRecord
from tests.conftest import ADMIN
from tests.e2e.conftest import Cli
from tests.integration.slack.conftest import SlackWorld, form_state

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _code(answer: str) -> str:
    found = re.search(r"\*([A-Z0-9]{4}-[A-Z0-9]{4})\*", answer)
    assert found, answer
    return found.group(1)


def _database_exists(world: SlackWorld, resource: ResourceRecord) -> bool:
    outputs = world.platform.service.request(resource.request_id, ADMIN).outputs
    values = outputs["values"]
    with psycopg.connect(
        host=values["host"], port=values["port"], dbname="postgres", user="postgres"
    ) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (values["database"],)
        ).fetchone()
    return found is not None


def test_link_with_a_code_confirmed_through_the_api(
    slack_world: SlackWorld, tmp_path: Path
) -> None:
    world = slack_world
    token = world.platform.directory.create_token(ADMIN, name="erin-laptop", user="erin").token
    api = {"Authorization": f"Bearer {token}"}
    code = _code(world.command("UERIN", "link").text)
    assert world.command("UERIN", "list").text == LINK_FIRST  # not before it is confirmed

    for bad, rule in (("nope", "code"), ("ZZZZ-ZZZZ", "is unknown, used or expired")):
        refused = world.http.post(f"{world.url}/api/v1/me/slack", json={"code": bad}, headers=api)
        assert refused.status_code == 422 and rule in refused.text, refused.text
    done = Cli(url=world.url, cwd=tmp_path, token=token)("users", "confirm-slack", code)
    assert done.code == 0, done.stderr
    assert "Slack user UERIN is now you in Slack." in done.stdout
    again = world.http.post(f"{world.url}/api/v1/me/slack", json={"code": code}, headers=api)
    assert again.status_code == 422  # one time only
    assert "postgres-database" in world.command("UERIN", "list").text
    assert world.command("UERIN", "mine").text.startswith("Your teams' resources")
    # A second Slack account, confirmed by the API itself.
    other = _code(world.command("UERIN2", "link").text)
    linked = world.http.post(f"{world.url}/api/v1/me/slack", json={"code": other}, headers=api)
    assert linked.status_code == 200 and linked.json() == {"slack_user_id": "UERIN2"}
    with world.platform.database.begin() as conn:
        events = [e for e in queries.events(conn) if e["action"] == "slack.linked"]
    assert [(e["actor"], e["details"]["slack_user"]) for e in events][-2:] == [
        ("erin", "UERIN"),
        ("erin", "UERIN2"),
    ]


def test_a_confirmed_email_maps_when_enabled(make_slack_world: Callable[..., SlackWorld]) -> None:
    world = make_slack_world(slack_email_domain="example.com")

    def person(email: str, confirmed: bool = True, deleted: bool = False) -> dict[str, Any]:
        return {
            "id": "U0",
            "name": email.split("@")[0],
            "deleted": deleted,
            "is_email_confirmed": confirmed,
            "profile": {"email": email, "real_name": "Erin"},
        }

    world.fake.users.update(
        {
            "UERINMAIL": person("Erin@Example.com"),
            "UUNCONFIRMED": person("erin@example.com", confirmed=False),
            "UELSEWHERE": person("erin@elsewhere.org"),
            "UDELETED": person("erin@example.com", deleted=True),
            "UNOSUCHUSER": person("zed@example.com"),
        }
    )
    assert "postgres-database" in world.command("UERINMAIL", "list").text
    asked = [c.args["user"] for c in world.fake.of("users.info")]
    assert asked == ["UERINMAIL"]
    for stranger in ("UUNCONFIRMED", "UELSEWHERE", "UDELETED", "UNOSUCHUSER", "UNOTINSLACK"):
        assert world.command(stranger, "list").text == LINK_FIRST, stranger
    # A linked identity needs no lookup.
    before = len(world.fake.of("users.info"))
    assert "postgres-database" in world.command("UALICE", "list").text
    assert len(world.fake.of("users.info")) == before


def _made(world: SlackWorld, name: str) -> ResourceRecord:
    """A database alice's team owns, requested through Slack."""
    service = world.platform.service
    world.submit_view("UALICE", world.previewed("UALICE", form_state(name)), {})
    (request,) = world.wait(lambda: service.requests(ADMIN), what="the request")
    world.wait(
        lambda: service.request(request.id, ADMIN).status in ("succeeded", "failed"),
        what="the request to finish",
    )
    assert service.request(request.id, ADMIN).status == "succeeded"
    (resource,) = service.resources(ADMIN)
    return resource  # type: ignore[no-any-return]


def test_mine_extend_and_destroy(
    slack_world: SlackWorld, unique_name: Callable[[str], str]
) -> None:
    world, service = slack_world, slack_world.platform.service
    resource = _made(world, unique_name("cmd"))
    assert _database_exists(world, resource)

    mine = world.command("UALICE", "mine").text
    assert f"`{resource.id}`" in mine and f"`{resource.name}`" in mine and "payments" in mine
    assert resource.id not in world.command("UCAROL", "mine").text  # another team's

    extended = world.command("UALICE", f"extend {resource.id} 30d").text
    after = service.resource(resource.id, ADMIN)
    assert after.expires_at is not None
    assert timedelta(days=29) < after.expires_at - datetime.now(UTC) <= timedelta(days=30)
    assert f"now expires {after.expires_at:%Y-%m-%d %H:%M} UTC" in extended

    before = world.footprint()
    for ttl, told in (
        ("forever", "Invalid value for 'ttl': must be a duration like 12h, 30d or 2w"),
        ("-3d", "Invalid value for 'ttl': must be a duration like 12h, 30d or 2w"),
        ("100d", "Invalid value for 'ttl': would outlive the 90d this golden path allows"),
        ("999999w", "Invalid value for 'ttl': must be at most"),
    ):
        answer = world.command("UALICE", f"extend {resource.id} {ttl}").text
        assert answer.startswith(":warning:") and told in answer, (ttl, answer)
    usage = world.command("UALICE", f"extend {resource.id}").text
    assert usage == "Usage: `/golden extend <resource-id> <ttl> (a duration like 12h, 30d or 2w)`"
    assert "No resource with id" in world.command("UALICE", f"extend {UNKNOWN_ID} 1d").text
    changed = world.footprint()
    assert {k: changed[k] - before[k] for k in changed} == {
        "gp_requests": 0,
        "gp_resources": 0,
        "gp_events": 0,
        "gp_slack_deliveries": 6,  # each command's trigger, nothing else
        "gp_slack_messages": 0,
        "gp_slack_link_codes": 0,
        "gp_slack_identities": 0,
        "slack_calls": 0,
    }
    assert service.resource(resource.id, ADMIN).expires_at == after.expires_at

    asked = world.command("UALICE", f"destroy {resource.id}").json()
    (button,) = next(b for b in asked["blocks"] if b["type"] == "actions")["elements"]
    assert button["action_id"] == DESTROY_ACTION and button["value"] == resource.id
    assert button["confirm"]["title"]["text"] == "Destroy it?"  # Slack asks before it sends
    assert service.resource(resource.id, ADMIN).state == "active"  # asking destroys nothing
    world.click("UALICE", "C0PAYMENTS", "1700000000.999999", DESTROY_ACTION, resource.id)
    assert world.told("UALICE") == f"{resource.kind} `{resource.name}` is being destroyed."
    world.wait(
        lambda: service.resource(resource.id, ADMIN).state == "destroyed", what="the destroy"
    )
    assert not _database_exists(world, resource)


def test_an_unlinked_user_is_only_told_to_link(slack_world: SlackWorld) -> None:
    world = slack_world
    before = world.footprint()
    for text in (
        "",
        "help",
        "list",
        "mine",
        "postgres-database",
        f"status {UNKNOWN_ID}",
        f"destroy {UNKNOWN_ID}",
        f"extend {UNKNOWN_ID} 30d",
        "no such verb",
    ):
        assert world.command("UNOBODY", text).text == LINK_FIRST, text
    for action in (APPROVE_ACTION, REJECT_ACTION, EXCEPTION_ACTION, DESTROY_ACTION):
        world.click("UNOBODY", "C0PAYMENTS", "1700000000.000001", action, UNKNOWN_ID)
    told = world.wait(
        lambda: [c for c in world.fake.of("chat.postEphemeral") if c.args["user"] == "UNOBODY"][3:],
        what="the four answers",
    )
    assert told and all(c.args["text"] == LINK_FIRST for c in world.fake.of("chat.postEphemeral"))
    view = {"type": "modal", "callback_id": "gp_preview", "private_metadata": json.dumps({})}
    assert world.submit_view("UNOBODY", view, {}).text == ""  # acknowledged, nothing submitted
    submitted = world.submit_view(
        "UNOBODY",
        {
            "type": "modal",
            "callback_id": "gp_form",
            "private_metadata": json.dumps({"template": "postgres-database"}),
            "blocks": [{"type": "input", "block_id": "name"}],
        },
        form_state("nobody_db"),
    ).json()
    assert submitted["response_action"] == "errors"
    assert "/golden link" in submitted["errors"]["name"]
    after = world.footprint()
    # No modal, no users.info, no message: only the answers (and bolt's own auth.test).
    assert {c.method for c in world.fake.calls} - {"auth.test"} == {"chat.postEphemeral"}
    assert after["gp_requests"] == before["gp_requests"] == 0
    assert after["gp_events"] == before["gp_events"]
    assert after["gp_slack_messages"] == before["gp_slack_messages"]
