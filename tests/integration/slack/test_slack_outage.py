"""Slack down (HTTP 500) and then rate limiting (HTTP 429 with Retry-After) while a request
runs: the request is approved, runs and succeeds all the same, and once Slack answers again the
messages catch up with everything that happened: the thread, the decision, the approvers'."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from goldenpath.slack.messages import APPROVE_ACTION
from tests.conftest import ADMIN
from tests.integration.slack.conftest import SlackWorld


def test_requests_run_through_a_slack_outage_and_the_messages_catch_up(
    slack_world: SlackWorld, unique_name: Callable[[str], str]
) -> None:
    world, fake, service = slack_world, slack_world.fake, slack_world.platform.service
    name = unique_name("outage")
    _, exception_id, thread = world.ask_exception("UBOB", name)

    def message(where: str) -> tuple[str, str]:
        return world.wait(  # type: ignore[no-any-return]
            lambda: [k for k in world.messages_about(exception_id) if k[0] == where],
            what=f"the exception's message in {where}",
        )[0]

    approval, waiting = message("DDAVE"), message("C0PAYMENTS")
    world.wait(lambda: "waiting for approval" in world.shown(waiting), what="the waiting thread")
    assert fake.messages[waiting]["thread_ts"] == thread[1]

    def failed(status: int) -> list[Any]:
        return [c for c in fake.calls if c.status == status]

    fake.go_down(500)
    assert world.click("UDAVE", *approval, APPROVE_ACTION, exception_id).status_code == 200
    world.wait(
        lambda: service.request(exception_id, ADMIN).status in ("succeeded", "failed"),
        what="the request to run while Slack is down",
    )
    ran = service.request(exception_id, ADMIN)
    assert ran.status == "succeeded", ran.error
    # The update job failed, was retried by the queue and failed again (each run tries 3 times).
    world.wait(
        lambda: len([c for c in failed(500) if c.method == "chat.update"]) >= 4,
        what="two rounds of failed chat.update",
    )
    assert "waiting for approval" in world.shown(waiting)  # nothing got through

    fake.go_down(429, retry_after=1)
    world.wait(lambda: failed(429), what="Slack to rate-limit an update")
    assert "waiting for approval" in world.shown(waiting)

    fake.recover()
    values = ran.outputs["values"]  # type: ignore[index]

    def caught_up() -> bool:
        thread_text = world.shown(waiting)
        return (
            "succeeded" in thread_text
            and f"*database*: `{name}`" in thread_text
            and "Approved by dave" in world.shown(approval)
        )

    world.wait(caught_up, timeout=120, what="the messages to catch up")
    updates = [
        c.args
        for c in fake.of("chat.update")
        if c.status == 200 and (c.args["channel"], c.args["ts"]) == waiting
    ]
    final = json.dumps(updates[-1])
    assert "succeeded" in final and f"*host*: `{values['host']}`" in final
    assert ":white_check_mark: Create database and owner role" in final
    assert "reveal them in the portal" in final  # the password itself is never posted
    assert APPROVE_ACTION not in world.shown(approval)
    decision = world.wait(
        lambda: [
            m
            for k, m in world.messages_about(exception_id).items()
            if k not in (waiting, approval) and m.get("thread_ts") == thread[1]
        ],
        what="the decision in the thread",
    )
    assert "Approved by dave" in json.dumps(decision)
    assert failed(500) and failed(429)
