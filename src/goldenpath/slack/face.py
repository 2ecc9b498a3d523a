"""What the Slack listeners share: who the Slack user is, the audit of what they did in which
channel, the messages that follow a request, and answers only the asker sees."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.signature import Clock

from goldenpath.app import Platform
from goldenpath.errors import BackendUnavailable, GoldenPathError
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target, authorize
from goldenpath.slack.people import SlackPeople
from goldenpath.slack.webapi import call
from goldenpath.store import queries
from goldenpath.store import slack as slack_store
from goldenpath.templates.loader import Template

logger = logging.getLogger(__name__)
LINK_FIRST = (
    "I don't know who you are on Golden Path yet. Run `/golden link` to link your Slack "
    "account (you confirm a one-time code in the portal), or ask an admin to run "
    "`goldenpath users link-slack <user> <your Slack id>`."
)


@dataclass
class SlackFace:
    platform: Platform
    people: SlackPeople
    client: WebClient
    # Counted for the operator (and the tests): refused signatures, repeated deliveries.
    counts: Counter[str] = field(default_factory=Counter)
    # What deliveries' timestamps are checked against (a test sets Slack's documented example's).
    clock: Clock = field(default_factory=Clock)

    @property
    def service(self) -> Any:
        return self.platform.service

    @property
    def portal_url(self) -> str:
        return self.platform.settings.url.rstrip("/")

    def actor(self, slack_user_id: str) -> Actor | None:
        return self.people.actor(slack_user_id)

    def audit(
        self, actor: Actor, action: str, target: str, channel: str | None, slack_user_id: str
    ) -> None:
        """Every Slack interaction, with where it happened and who did it in Slack."""
        with self.platform.database.begin() as conn:
            queries.record_event(
                conn,
                actor.user,
                f"slack.{action}",
                target,
                {"channel": channel, "slack_user": slack_user_id},
            )

    def follow(
        self, request_id: str, channel: str, slack_user_id: str, thread_ts: str | None = None
    ) -> None:
        """Post the request's message in ``channel`` (the requester's DM if the app is not
        there), kept up to date by the worker as the request runs."""
        with self.platform.database.begin() as conn:
            slack_store.add_message(
                conn,
                request_id,
                "thread",
                channel,
                slack_user_id=slack_user_id,
                thread_ts=thread_ts,
            )
            self.platform.queue.defer_slack_sync(conn, request_id)

    def whisper(self, channel: str | None, slack_user_id: str, text: str) -> None:
        """An answer only the asker sees; Slack failing here is logged, never raised."""
        try:
            call(
                self.client,
                "chat.postEphemeral",
                channel=channel or slack_user_id,
                user=slack_user_id,
                text=text,
            )
        except BackendUnavailable as exc:
            logger.warning("could not answer %s in Slack: %s", slack_user_id, exc.message)

    def runnable(self, actor: Actor) -> list[Template]:
        """The golden paths this user may run for at least one of their teams."""
        found = []
        teams = actor.teams or ((self.platform.settings.default_team,) if actor.is_admin else ())
        for template in self.service.templates(actor):
            access = template.document.spec.access
            for team in teams:
                try:
                    authorize(
                        actor,
                        "template.run",
                        Target(
                            team=team,
                            access_teams=tuple(access.teams),
                            access_roles=tuple(access.roles),
                        ),
                    )
                except GoldenPathError:
                    continue
                found.append(template)
                break
        return found


def problem(error: GoldenPathError) -> str:
    return f":warning: {error.message}"
