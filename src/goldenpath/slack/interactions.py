"""Modal submissions and button clicks: the form (errors back into the modal), the preview's
submit, the exception request, approvals, and a confirmed destroy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from goldenpath.errors import Conflict, GoldenPathError, InvalidInput, InvalidInputs, PolicyDenied
from goldenpath.identity.actor import Actor
from goldenpath.slack import messages
from goldenpath.slack.commands import DESTROY_ACTION
from goldenpath.slack.face import LINK_FIRST, SlackFace, problem
from goldenpath.slack.modals import (
    EXCEPTION_VIEW,
    FORM_VIEW,
    JUSTIFICATION_BLOCK,
    PREVIEW_VIEW,
    TEAM_BLOCK,
    exception_view,
    posted_values,
    preview_view,
)
from goldenpath.slack.webapi import call
from goldenpath.web.forms import fields_of, form_pages, parse
from goldenpath.web.routing import field_errors

FORM_ERRORS = (InvalidInput, InvalidInputs, Conflict)
Ack = Callable[..., None]


def register_interactions(app: App, face: SlackFace) -> None:
    service = face.service

    @app.view(FORM_VIEW)
    def form_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        slack_user = str(body["user"]["id"])
        actor = face.actor(slack_user)
        meta = json.loads(view.get("private_metadata") or "{}")
        if actor is None:
            ack(response_action="errors", errors={_first_block(view): LINK_FIRST[:150]})
            return
        template = service.template(str(meta.get("template")), actor)
        form = form_pages(template.document.spec.parameters)
        posted = posted_values(view)
        chosen_team = posted.pop(TEAM_BLOCK, None)
        team = chosen_team[-1] if chosen_team and chosen_team[-1] else None
        values = parse(form, posted)
        try:
            dry = service.dry_run(template.name, values, actor, team=team)
        except GoldenPathError as error:
            ack(response_action="errors", errors=_inline(error, view, form))
            return
        metadata = {**meta, "team": dry.requester.team, "parameters": values}
        if len(json.dumps(metadata)) > 3000:
            ack(
                response_action="errors",
                errors={_first_block(view): "too long for Slack: use the portal"},
            )
            return
        ack(response_action="update", view=preview_view(dry, metadata))

    @app.view(PREVIEW_VIEW)
    def preview_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()  # the modal closes; the request's message follows in the channel
        slack_user = str(body["user"]["id"])
        actor = face.actor(slack_user)
        if actor is None:
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        channel = str(meta.get("channel") or slack_user)
        name, team = str(meta["template"]), meta.get("team")
        try:
            record = service.submit(name, meta.get("parameters") or {}, actor, team=team)
        except PolicyDenied as denied:
            request_id = str(denied.details["request_id"])
        except GoldenPathError as error:
            face.whisper(channel, slack_user, problem(error))
            return
        else:
            request_id = record.id
        face.audit(actor, "request.submitted", request_id, channel, slack_user)
        face.follow(request_id, channel, slack_user)

    def linked(slack_user: str, channel: str) -> Actor | None:
        """The platform user behind ``slack_user``; an unlinked one is told how to link."""
        actor = face.actor(slack_user)
        if actor is None:
            face.whisper(channel, slack_user, LINK_FIRST)
        return actor

    @app.action(messages.EXCEPTION_ACTION)
    def exception_asked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        slack_user, channel = _who(body)
        actor = linked(slack_user, channel)
        if actor is None:
            return
        try:
            rejected = service.request(str(action["value"]), actor)
        except GoldenPathError as error:
            face.whisper(channel, slack_user, problem(error))
            return
        if rejected.requested_by != actor.user:
            face.whisper(channel, slack_user, "Only its requester may ask for an exception.")
            return
        thread_ts = (body.get("message") or {}).get("ts")
        view = exception_view(
            rejected.id, rejected.template_name, {"channel": channel, "thread_ts": thread_ts}
        )
        try:
            call(face.client, "views.open", trigger_id=body["trigger_id"], view=view)
        except GoldenPathError as error:
            face.whisper(channel, slack_user, problem(error))

    @app.view(EXCEPTION_VIEW)
    def exception_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        slack_user = str(body["user"]["id"])
        actor = face.actor(slack_user)
        meta = json.loads(view.get("private_metadata") or "{}")
        justification = (posted_values(view).get(JUSTIFICATION_BLOCK) or [""])[-1]
        if actor is None:
            ack(response_action="errors", errors={JUSTIFICATION_BLOCK: LINK_FIRST[:150]})
            return
        try:
            rejected = service.request(str(meta["request_id"]), actor)
            record = service.submit(
                rejected.template_name,
                rejected.parameters,
                actor,
                team=rejected.owner_team,
                justification=justification,
            )
        except GoldenPathError as error:
            rule = error.details.get("rule") if isinstance(error, InvalidInput) else None
            ack(response_action="errors", errors={JUSTIFICATION_BLOCK: str(rule or error.message)})
            return
        ack()
        channel = str(meta.get("channel") or slack_user)
        face.audit(actor, "exception.asked", record.id, channel, slack_user)
        face.follow(record.id, channel, slack_user, thread_ts=meta.get("thread_ts"))

    def decide(body: dict[str, Any], action: dict[str, Any], *, approved: bool) -> None:
        slack_user, channel = _who(body)
        actor = linked(slack_user, channel)
        if actor is None:
            return
        comment = _comment(body)
        request_id = str(action["value"])
        try:
            if approved:
                service.approve(request_id, actor, comment)
            else:
                service.reject(request_id, actor, comment)
        except GoldenPathError as error:
            face.whisper(channel, slack_user, problem(error))
            return
        face.audit(actor, "approved" if approved else "rejected", request_id, channel, slack_user)
        face.whisper(channel, slack_user, f"{'Approved' if approved else 'Rejected'}.")

    @app.action(messages.APPROVE_ACTION)
    def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        decide(body, action, approved=True)

    @app.action(messages.REJECT_ACTION)
    def reject(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        decide(body, action, approved=False)

    @app.action(DESTROY_ACTION)
    def destroy(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        slack_user, channel = _who(body)
        actor = linked(slack_user, channel)
        if actor is None:
            return
        try:
            resource = service.destroy(str(action["value"]), actor)
        except GoldenPathError as error:
            face.whisper(channel, slack_user, problem(error))
            return
        face.audit(actor, "resource.destroy", resource.id, channel, slack_user)
        face.whisper(channel, slack_user, f"{resource.kind} `{resource.name}` is being destroyed.")

    @app.action(messages.COMMENT_ACTION)
    def comment_typed(ack: Ack) -> None:
        ack()  # the comment is read from the message's state when a button is clicked


def _who(body: dict[str, Any]) -> tuple[str, str]:
    user = str(body["user"]["id"])
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return user, str(channel or user)


def _comment(body: dict[str, Any]) -> str | None:
    values = (body.get("state") or {}).get("values") or {}
    state = (values.get(messages.COMMENT_BLOCK) or {}).get(messages.COMMENT_ACTION) or {}
    text = str(state.get("value") or "").strip()
    return text or None


def _first_block(view: dict[str, Any]) -> str:
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            return str(block["block_id"])
    return TEAM_BLOCK


def _inline(error: GoldenPathError, view: dict[str, Any], form: Any) -> dict[str, str]:
    """The error's messages by the modal's block ids (Slack shows them under each field)."""
    names = {f.name for f in fields_of(form)}
    aliases = {} if "team" in names else {"team": TEAM_BLOCK}
    if not isinstance(error, FORM_ERRORS):
        return {_first_block(view): error.message[:2000]}
    by_field, general = field_errors(error, names | {TEAM_BLOCK}, aliases)
    blocks = {str(b.get("block_id")) for b in view.get("blocks") or []}
    errors = {name: "; ".join(found)[:2000] for name, found in by_field.items() if name in blocks}
    if general or len(errors) < len(by_field):
        extra = general + [f"{n}: {'; '.join(m)}" for n, m in by_field.items() if n not in blocks]
        first = _first_block(view)
        errors[first] = "; ".join(filter(None, [errors.get(first, ""), *extra]))[:2000]
    return errors
