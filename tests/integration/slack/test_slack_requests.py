"""`/golden postgres-database` through the real bolt app over HTTP: the modal from the JSON
Schema, field errors inside it, the preview, a real database, the thread message kept up to
date by the worker, and the password revealed through the portal link (never in Slack)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import psycopg
import pytest

from tests.conftest import ADMIN
from tests.integration.slack.conftest import SlackWorld, csrf, form_state


def portal_reveal(world: SlackWorld, user: str, request_url: str) -> dict[str, str]:
    """Sign in to the portal, follow the message's link, click Reveal; the secrets shown."""
    world.sign_in(user)
    page = world.http.get(request_url)
    assert page.status_code == 200, page.text
    revealed = world.http.post(f"{request_url}/secrets", data={"_csrf": csrf(page.text)})
    assert revealed.status_code == 200, revealed.text
    return {
        k: html.unescape(v)
        for k, v in re.findall(r'<code data-secret="([^"]+)">([^<]*)</code>', revealed.text)
    }


def test_modal_to_a_real_database_with_its_thread(
    slack_world: SlackWorld, unique_name: Callable[[str], str]
) -> None:
    world, service = slack_world, slack_world.platform.service
    answer = world.command("UALICE", "postgres-database")
    assert answer.status_code == 200
    view = world.opened_view()
    assert view["callback_id"] == "gp_form"
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    # The portal's reading of the schema: an enum of two is radio buttons, the default chosen.
    assert blocks["size"]["element"]["type"] == "radio_buttons"
    assert blocks["size"]["element"]["initial_option"]["value"] == "small"
    assert blocks["name"]["optional"] is False

    bad = world.submit_view("UALICE", view, form_state("Bad Name!"))
    assert bad.status_code == 200
    assert bad.json()["response_action"] == "errors"
    assert "must be 3-31 lower-case letters" in bad.json()["errors"]["name"]
    assert service.requests(ADMIN) == []

    name = unique_name("sl")
    preview = world.submit_view("UALICE", view, form_state(name))
    assert preview.json()["response_action"] == "update"
    preview_view = preview.json()["view"]
    text = json.dumps(preview_view)
    assert "allowed" in text and "$15.00/month" in text and name in text
    assert service.requests(ADMIN) == []  # a preview creates nothing

    submitted = world.submit_view("UALICE", preview_view, {})
    assert submitted.status_code == 200 and submitted.text == ""
    key = world.thread_of()
    world.wait(lambda: "succeeded" in world.shown(key), what="the thread to show success")
    final = world.shown(key)
    assert "Create database and owner role" in final and ":white_check_mark:" in final
    assert f"*database*: `{name}`" in final and f"*user*: `{name}`" in final
    (request,) = service.requests(ADMIN)
    assert request.status == "succeeded" and request.requested_by == "alice"
    link = re.search(r"<(http[^|>]+/requests/[0-9a-f-]+)\|", final).group(1)  # type: ignore[union-attr]
    secrets = portal_reveal(world, "alice", link)
    everything_sent = json.dumps([c.args for c in world.fake.calls])
    assert secrets["password"] not in everything_sent  # never posted to Slack
    outputs = request.outputs["values"]  # type: ignore[index]
    with psycopg.connect(
        host=outputs["host"],
        port=outputs["port"],
        dbname=name,
        user=name,
        password=secrets["password"],
    ) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (name,)

    with world.platform.database.begin() as conn:
        from goldenpath.store import queries

        events = [e for e in queries.events(conn) if str(e["action"]).startswith("slack.")]
    assert any(
        e["details"].get("channel") == "C0PAYMENTS" and e["details"].get("slack_user") == "UALICE"
        for e in events
    )


def test_unlinked_user_can_only_link(slack_world: SlackWorld) -> None:
    world = slack_world
    answer = world.command("UNOBODY", "postgres-database")
    assert "link your Slack account" in answer.text
    assert world.fake.of("views.open") == []
    linked = world.command("UNOBODY", "link")
    code = re.search(r"\*([A-Z0-9]{4}-[A-Z0-9]{4})\*", linked.text).group(1)  # type: ignore[union-attr]
    world.sign_in("carol")
    http = world.http
    token = csrf(http.get(f"{world.url}/slack/link").text)
    wrong = http.post(f"{world.url}/slack/link", data={"_csrf": token, "code": "AAAA-BBBB"})
    assert wrong.status_code == 422
    done = http.post(f"{world.url}/slack/link", data={"_csrf": token, "code": code})
    assert done.status_code == 200 and "UNOBODY" in done.text
    again = http.post(f"{world.url}/slack/link", data={"_csrf": token, "code": code})
    assert again.status_code == 422  # one time only
    listed = world.command("UNOBODY", "list")
    assert "postgres-database" in listed.text


@pytest.mark.parametrize("text", ["help", ""])
def test_help(slack_world: SlackWorld, text: str) -> None:
    assert "/golden list" in slack_world.command("UALICE", text).text
