"""The Slack face: a slack-bolt app served by the platform at ``POST /slack/events``.

Every delivery's signature (``X-Slack-Signature``, v0 HMAC-SHA256 over ``v0:{ts}:{body}``,
timestamps within 5 minutes either way) is checked here, once, before its body is read as
anything but bytes; a wrong, missing or malformed one gets 401 and changes nothing. A delivery
seen before (Slack retries, with ``X-Slack-Retry-Num``) is acknowledged and not handled again.
Bolt then acknowledges within Slack's 3 seconds and the listeners carry on with the heavy work
after the ack.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier

from goldenpath.app import Platform
from goldenpath.slack.commands import HELP, register_commands
from goldenpath.slack.face import SlackFace
from goldenpath.slack.interactions import register_interactions
from goldenpath.slack.people import SlackPeople
from goldenpath.slack.webapi import web_client
from goldenpath.store import slack as slack_store

__all__ = ["EVENTS_PATH", "mount_slack", "signed"]

EVENTS_PATH = "/slack/events"


def build_bolt_app(face: SlackFace, signing_secret: str) -> App:
    app = App(
        signing_secret=signing_secret,
        client=face.client,
        token_verification_enabled=False,
        # Checked once, at the edge, against the face's clock: see `signed`.
        request_verification_enabled=False,
        process_before_response=False,
    )
    register_commands(app, face)
    register_interactions(app, face)

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], say: Any) -> None:
        say(text=HELP, thread_ts=event.get("ts"))

    return app


def mount_slack(api: FastAPI, platform: Platform) -> SlackFace | None:
    """Serve the Slack app when a signing secret is configured; otherwise the path is 404."""
    settings = platform.settings
    secret = settings.slack_signing_secret
    if not secret:
        return None
    client = platform.slack_client or web_client(settings.slack_bot_token, settings.slack_api_url)
    people = SlackPeople(
        platform.database, platform.directory, client, email_domain=settings.slack_email_domain
    )
    face = SlackFace(platform=platform, people=people, client=client)
    bolt = build_bolt_app(face, secret)
    api.state.slack_face = face

    @api.post(EVENTS_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if not signed(
            SignatureVerifier(secret, clock=face.clock),
            body,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
        ):
            face.counts["bad_signature"] += 1
            return Response(status_code=401, content="invalid signature")
        if not well_formed(body):
            face.counts["malformed"] += 1
            return Response(status_code=400, content="not a Slack delivery")
        key = delivery_key(body)
        if key is not None:
            first = await asyncio.to_thread(_first_delivery, platform, key)
            if not first:
                face.counts["repeated"] += 1
                return Response(status_code=200)
        bolt_response = await asyncio.to_thread(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    from goldenpath.slack.link_pages import mount_link_pages

    mount_link_pages(api, platform, people)
    return face


def signed(
    verifier: SignatureVerifier, body: bytes, timestamp: str | None, signature: str | None
) -> bool:
    """Whether Slack signed this delivery within 5 minutes of the verifier's clock. A missing
    or non-numeric timestamp, or a body that is not UTF-8, is unsigned, never an error."""
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return verifier.is_valid(body, timestamp, signature)


def well_formed(body: bytes) -> bool:
    """Whether a signed body has the shape Slack sends: a JSON object (events), or a form whose
    ``payload``, if any, is a JSON object (interactions); and no NUL anywhere, which no Slack
    text holds and PostgreSQL text refuses. Anything else would fail deep in the app."""
    text = body.decode("utf-8")
    try:
        if text.startswith("{"):
            return isinstance(json.loads(text), dict) and not _holds_nul(text)
        form = parse_qs(text, keep_blank_values=True)
        fields = [value for values in form.values() for value in values]
        payload = form.get("payload", ["{}"])[-1]
        return isinstance(json.loads(payload), dict) and not any(map(_holds_nul, fields))
    except (ValueError, RecursionError):
        return False


def _holds_nul(text: str) -> bool:
    return "\x00" in text or "\\u0000" in text


def _first_delivery(platform: Platform, key: str) -> bool:
    with platform.database.begin() as conn:
        return slack_store.first_delivery(conn, key)


def delivery_key(body: bytes) -> str | None:
    """What makes a Slack delivery unique: the event's id, or the interaction's trigger."""
    text = body.decode("utf-8", errors="replace")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return f"event:{data['event_id']}" if data.get("event_id") else None
    form = parse_qs(text)
    if "payload" in form:
        try:
            data = json.loads(form["payload"][-1])
        except ValueError:
            return None
        trigger = data.get("trigger_id")
        if trigger:
            return f"trigger:{trigger}"
        return "payload:" + hashlib.sha256(body).hexdigest()
    if form.get("trigger_id"):
        return f"trigger:{form['trigger_id'][-1]}"
    return None
