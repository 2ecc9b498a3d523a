"""Keeps a request's Slack messages in step with the request, from the worker side.

`sync` is a queued job (deferred after every change of the request: by the runner as steps
run, by the service when a request waits for or gets a decision, by the Slack face after a
submission). It reads the request as it is now and brings each of its messages there: posts
those not posted yet, updates those whose content changed, adds the approvers' messages and
the decision told in the requester's thread. Because it shows the latest state, a job that
failed (Slack down, 429, 500) and runs again later catches up with everything at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from goldenpath.errors import BackendUnavailable
from goldenpath.slack import messages
from goldenpath.slack.webapi import call
from goldenpath.store import identity as identity_store
from goldenpath.store import queries
from goldenpath.store import slack as slack_store
from goldenpath.store.database import Database
from goldenpath.store.records import RequestRecord
from goldenpath.store.slack import SlackMessage

logger = logging.getLogger(__name__)
# Errors after which a message to a channel goes to the user's DM instead.
NOT_A_MEMBER = ("not_in_channel", "channel_not_found", "is_archived")


@dataclass
class SlackNotifier:
    database: Database
    client: WebClient
    portal_url: str
    approval_channels: Mapping[str, str] = field(default_factory=dict)

    def sync(self, request_id: str) -> None:
        """Bring every Slack message of the request up to date; raises while Slack fails, so
        the queue tries again later."""
        with self.database.begin() as conn:
            request = queries.get_request(conn, request_id)
            if request.status == "pending_approval":
                self._add_approval_messages(conn, request)
            found = slack_store.messages(conn, request_id)
        for message in found:
            self._bring_up_to_date(request, message)
        with self.database.begin() as conn:
            found = slack_store.messages(conn, request_id)
            thread = next((m for m in found if m.purpose == "thread" and m.ts), None)
            told = any(m.purpose == "decision" for m in found)
            if request.decided_by and thread is not None and not told:
                slack_store.add_message(
                    conn,
                    request_id,
                    "decision",
                    thread.channel,
                    thread_ts=thread.thread_ts or thread.ts,
                )
                found = slack_store.messages(conn, request_id)
        for message in found:
            if message.purpose == "decision":
                self._bring_up_to_date(request, message)

    def post(self, channel: str, text: str) -> None:
        """One message to a channel (a team's notice); raises while Slack fails, so the queue
        tries again later."""
        call(self.client, "chat.postMessage", channel=channel, text=text)

    def _add_approval_messages(self, conn: Any, request: RequestRecord) -> None:
        """Approvers hear of a waiting request once: in their team's channel, or else each
        approver (never the requester) who linked a Slack account, by DM."""
        if any(m.purpose == "approval" for m in slack_store.messages(conn, request.id)):
            return
        channel = self.approval_channels.get(request.owner_team)
        if channel:
            slack_store.add_message(conn, request.id, "approval", channel)
            return
        team = identity_store.get_team(conn, request.owner_team)
        approvers = sorted(
            {u for u, role in team.members if role == "approver" and u != request.requested_by}
        )
        for slack_id in sorted(slack_store.slack_ids_of(conn, approvers)):
            slack_store.add_message(conn, request.id, "approval", slack_id, slack_user_id=slack_id)
        if not approvers:
            logger.info(
                "request %s waits for approval, but team %s has no approver in Slack",
                request.id,
                request.owner_team,
            )

    def _bring_up_to_date(self, request: RequestRecord, message: SlackMessage) -> None:
        text, blocks = self._content(request, message.purpose)
        digest = hashlib.sha256(json.dumps([text, blocks], sort_keys=True).encode()).hexdigest()
        if message.ts is not None and digest == message.posted_hash:
            return
        body = {"text": text, "blocks": blocks}
        if message.ts is not None:
            call(self.client, "chat.update", channel=message.channel, ts=message.ts, **body)
            ts, channel = message.ts, message.channel
        else:
            posted = self._post(message, body)
            ts, channel = str(posted["ts"]), str(posted.get("channel") or message.channel)
        with self.database.begin() as conn:
            slack_store.mark_posted(conn, message.id, ts=ts, channel=channel, posted_hash=digest)

    def _post(self, message: SlackMessage, body: dict[str, Any]) -> dict[str, Any]:
        extra = {"thread_ts": message.thread_ts} if message.thread_ts else {}
        try:
            return call(self.client, "chat.postMessage", channel=message.channel, **body, **extra)
        except BackendUnavailable as exc:
            if message.slack_user_id and any(code in exc.message for code in NOT_A_MEMBER):
                # The app is not in that channel: the requester hears of it by DM.
                return call(self.client, "chat.postMessage", channel=message.slack_user_id, **body)
            raise

    def _content(self, request: RequestRecord, purpose: str) -> tuple[str, messages.Blocks]:
        if purpose == "approval":
            return messages.approval_message(request, self.portal_url)
        if purpose == "decision":
            return messages.decision_message(request, self.portal_url)
        return messages.thread_message(request, self.portal_url)
