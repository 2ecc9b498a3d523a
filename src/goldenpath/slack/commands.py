"""The ``/golden`` slash command: help, list, a golden path's modal, status, mine, destroy
(behind a confirm dialog), extend, and link."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from goldenpath.errors import GoldenPathError
from goldenpath.slack import messages
from goldenpath.slack.face import LINK_FIRST, SlackFace, problem
from goldenpath.slack.modals import form_view
from goldenpath.slack.webapi import call
from goldenpath.web.forms import form_pages

DESTROY_ACTION = "gp_destroy"
# The command is named in the app's manifest (`/golden` in ours); whatever name a workspace
# gave it, the deliveries that reach this app are answered alike.
ANY_COMMAND = re.compile(r"^/")
HELP = """*Golden Path* in Slack:
• `/golden list`: the golden paths you may run
• `/golden <path>`: fill in its form, preview the guardrails' verdict and cost, submit
• `/golden status <request-id>`: where a request is
• `/golden mine`: your teams' resources
• `/golden destroy <resource-id>` · `/golden extend <resource-id> <ttl>` (e.g. `30d`)
• `/golden link`: link your Slack account to your Golden Path user"""


def register_commands(app: App, face: SlackFace) -> None:
    service = face.service

    @app.command(ANY_COMMAND)
    def golden(ack: Callable[..., None], command: dict[str, Any]) -> None:
        words = str(command.get("text") or "").split()
        slack_user, channel = str(command["user_id"]), command.get("channel_id")
        if words[:1] == ["link"]:
            code = face.people.new_link_code(slack_user)
            ack(
                text=f"Your one-time code is *{code}* (15 minutes). Sign in to "
                f"{face.portal_url}/slack/link and type it there to link this Slack account."
            )
            return
        actor = face.actor(slack_user)
        if actor is None:
            ack(text=LINK_FIRST)
            return
        verb = words[0] if words else "help"
        try:
            if verb == "help":
                ack(text=HELP)
            elif verb == "list":
                found = face.runnable(actor)
                lines = [f"• `{t.name}`: {t.title}" for t in found] or ["_none_"]
                ack(text="Golden paths you may run:\n" + "\n".join(lines))
            elif verb == "status" and len(words) == 2:
                record = service.request(words[1], actor)
                text, blocks = messages.thread_message(record, face.portal_url)
                ack(text=text, blocks=blocks)
            elif verb == "mine":
                found = service.resources(actor)
                lines = [
                    f"• `{r.id}` {r.kind} `{r.name}` (team `{r.owner_team}`, {r.state}"
                    + (f", expires {r.expires_at:%Y-%m-%d}" if r.expires_at else "")
                    + ")"
                    for r in found
                ] or ["_none_"]
                ack(text="Your teams' resources:\n" + "\n".join(lines))
            elif verb == "destroy" and len(words) == 2:
                resource = service.resource(words[1], actor)
                ack(text=f"Destroy {resource.kind} {resource.name}?", blocks=_confirm(resource))
            elif verb == "extend" and len(words) == 3:
                resource = service.extend(words[1], actor, words[2])
                ack(
                    text=f"{resource.kind} `{resource.name}` now expires "
                    f"{resource.expires_at:%Y-%m-%d %H:%M} UTC."
                )
            elif verb in USAGE:
                ack(text=f"Usage: `/golden {USAGE[verb]}`")
                return
            elif len(words) == 1 and verb in {t.name for t in service.templates(actor)}:
                template = service.template(verb, actor)
                if template not in face.runnable(actor):
                    ack(text=f":no_entry: You may not run golden path '{verb}'.")
                    return
                ack()
                form = form_pages(template.document.spec.parameters)
                metadata = {"template": template.name, "channel": channel}
                view = form_view(template, form, actor.teams, metadata)
                _open(face, command, view, channel, slack_user)
            else:
                ack(text=f"I don't know `{' '.join(words)}`.\n{HELP}")
                return
        except GoldenPathError as error:
            ack(text=problem(error))
            return
        face.audit(
            actor,
            f"command.{verb if verb in _VERBS else 'open'}",
            " ".join(words),
            channel,
            slack_user,
        )


def _open(
    face: SlackFace, command: dict[str, Any], view: dict[str, Any], channel: Any, user: str
) -> None:
    try:
        call(face.client, "views.open", trigger_id=command["trigger_id"], view=view)
    except GoldenPathError as error:
        face.whisper(channel, user, problem(error))


_VERBS = {"help", "list", "status", "mine", "destroy", "extend"}
# What a verb takes, told when it is given the wrong number of words.
USAGE = {
    "status": "status <request-id>",
    "destroy": "destroy <resource-id>",
    "extend": "extend <resource-id> <ttl> (a duration like 12h, 30d or 2w)",
}


def _confirm(resource: Any) -> messages.Blocks:
    destroy = messages.button("Destroy", DESTROY_ACTION, resource.id, "danger")
    destroy["confirm"] = {
        "title": {"type": "plain_text", "text": "Destroy it?"},
        "text": {
            "type": "mrkdwn",
            "text": f"{resource.kind} *{resource.name}* and its data are deleted for good.",
        },
        "confirm": {"type": "plain_text", "text": "Destroy"},
        "deny": {"type": "plain_text", "text": "Keep it"},
        "style": "danger",
    }
    return [
        messages.section(
            f"Destroy {resource.kind} *{resource.name}* of team `{resource.owner_team}`?"
        ),
        {"type": "actions", "elements": [destroy]},
    ]
