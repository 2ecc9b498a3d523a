"""A denied request, its exception asked for in Slack, and the decision taken there: the
"Ask for an exception" button, the justification modal, the approvers' message with its
buttons, the rules (approvers of that team only, never your own request, decided once), the
request then running for real, and another team that can neither see nor touch any of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg

from goldenpath.slack.commands import DESTROY_ACTION
from goldenpath.slack.messages import (
    APPROVE_ACTION,
    COMMENT_ACTION,
    COMMENT_BLOCK,
    EXCEPTION_ACTION,
)
from tests.conftest import ADMIN
from tests.integration.slack.conftest import MEDIUM_DENIED, SlackWorld, form_state, justified


def _comment(text: str) -> dict[str, Any]:
    return {COMMENT_BLOCK: {COMMENT_ACTION: {"type": "plain_text_input", "value": text}}}


def _database_exists(outputs: dict[str, Any], name: str) -> bool:
    with psycopg.connect(
        host=outputs["host"], port=outputs["port"], dbname="postgres", user="postgres"
    ) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def test_denied_then_excepted_then_approved_in_slack(
    slack_world: SlackWorld, unique_name: Callable[[str], str]
) -> None:
    world, service = slack_world, slack_world.platform.service
    name = unique_name("big")
    preview = world.previewed("UBOB", form_state(name, "medium"))
    assert "denied" in json.dumps(preview) and MEDIUM_DENIED in json.dumps(preview)
    assert world.submit_view("UBOB", preview, {}).status_code == 200

    # The denied request's message: the violated guardrail and the button.
    (denied,) = world.wait(lambda: service.requests(ADMIN), what="the denied request")
    assert denied.status == "rejected"
    thread = world.thread_of()
    world.wait(lambda: EXCEPTION_ACTION in world.shown(thread), what="the exception button")
    shown = world.shown(thread)
    assert "Denied by the guardrails" in shown and MEDIUM_DENIED in shown

    # Someone of another team clicking it learns nothing and opens nothing.
    world.click("UCAROL", *thread, EXCEPTION_ACTION, denied.id)
    assert f"No request with id '{denied.id}'" in world.told("UCAROL")
    assert world.fake.of("views.open")[1:] == []  # only bob's own form was opened

    opened = len(world.fake.of("views.open"))
    world.click("UBOB", *thread, EXCEPTION_ACTION, denied.id)
    modal = world.opened_view(after=opened)
    assert modal["callback_id"] == "gp_exception"
    short = world.submit_view("UBOB", modal, justified("pls"))
    assert short.json() == {
        "response_action": "errors",
        "errors": {"justification": "must be 10 to 2000 characters"},
    }
    assert len(service.requests(ADMIN)) == 1  # nothing asked yet
    asked = world.submit_view("UBOB", modal, justified("load test of the orders service"))
    assert asked.status_code == 200 and asked.text == ""
    exception = next(r for r in service.requests(ADMIN) if r.id != denied.id)
    assert exception.status == "pending_approval" and exception.is_exception

    # The approvers hear of it: dave by DM; never bob (his own), never carol (another team).
    approval = world.wait(
        lambda: [k for k in world.messages_about(exception.id) if k[0] == "DDAVE"],
        what="dave's approval message",
    )[0]
    message = world.shown(approval)
    assert APPROVE_ACTION in message and "load test of the orders service" in message
    assert MEDIUM_DENIED in message
    assert {k[0] for k in world.messages_about(exception.id)} <= {"DDAVE", "C0PAYMENTS"}

    # bob may approve for payments, but not his own request; carol is of another team.
    world.click("UBOB", *approval, APPROVE_ACTION, exception.id)
    assert "nobody may approve or reject their own request" in world.told("UBOB")
    world.click("UCAROL", *approval, APPROVE_ACTION, exception.id)
    assert f"No request with id '{exception.id}'" in world.told("UCAROL", after=1)
    assert service.request(exception.id, ADMIN).status == "pending_approval"

    world.click("UDAVE", *approval, APPROVE_ACTION, exception.id, _comment("ok until Friday"))
    assert world.told("UDAVE") == "Approved."
    world.wait(
        lambda: service.request(exception.id, ADMIN).status in ("succeeded", "failed"),
        what="the excepted request to run",
    )
    ran = service.request(exception.id, ADMIN)
    assert ran.status == "succeeded", ran.error
    assert ran.decided_by == "dave" and ran.decision_comment == "ok until Friday"
    assert _database_exists(ran.outputs["values"], name)  # type: ignore[index]

    # Decided once: a second click says so and changes nothing.
    world.click("UDAVE", *approval, APPROVE_ACTION, exception.id)
    assert "is succeeded, not waiting for approval" in world.told("UDAVE", after=1)

    # bob's thread: the exception's own message (steps, the DSN) and the decision, both in the
    # denied request's thread; dave's message now says who decided.
    def caught_up() -> bool:
        about = world.messages_about(exception.id)
        in_thread = [m for k, m in about.items() if m.get("thread_ts") == thread[1]]
        texts = json.dumps(in_thread)
        return (
            "succeeded" in texts
            and "Approved by dave: ok until Friday" in texts
            and "Approved by dave" in world.shown(approval)
        )

    world.wait(caught_up, what="the thread and the approval message to catch up")
    assert APPROVE_ACTION not in world.shown(approval)  # the buttons are gone
    assert "asked for approval" in world.shown(approval)
    assert "needs approval" not in world.shown(approval)

    # carol (search) can neither see the request nor touch what it made.
    (resource,) = service.resources(ADMIN)
    status = world.command("UCAROL", f"status {exception.id}")
    assert f"No request with id '{exception.id}'" in status.text and name not in status.text
    destroy = world.command("UCAROL", f"destroy {resource.id}")
    assert f"No resource with id '{resource.id}'" in destroy.text
    assert DESTROY_ACTION not in destroy.text  # no confirm button to click
    world.click("UCAROL", *approval, DESTROY_ACTION, resource.id)
    assert f"No resource with id '{resource.id}'" in world.told("UCAROL", after=2)
    assert service.resource(resource.id, ADMIN).state == "active"
    assert _database_exists(ran.outputs["values"], name)  # type: ignore[index]

    # bob, of the team, sees it.
    mine = world.command("UBOB", f"status {exception.id}")
    assert "succeeded" in mine.text
