"""Who a Slack user is on the platform: a linked identity (by an admin, or self-service with a
one-time code confirmed in the portal), or, when enabled, their confirmed email's name."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient

from goldenpath.errors import BackendUnavailable, GoldenPathError, InvalidInput
from goldenpath.identity.actor import Actor
from goldenpath.identity.directory import Directory
from goldenpath.identity.permissions import authorize
from goldenpath.slack.webapi import call
from goldenpath.store import identity as identity_store
from goldenpath.store import queries
from goldenpath.store import slack as slack_store
from goldenpath.store.database import Database

logger = logging.getLogger(__name__)
SLACK_USER_PATTERN = r"^[UW][A-Z0-9]{2,30}$"
CODE_LIFETIME = timedelta(minutes=15)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen


def check_slack_user(slack_user_id: str) -> str:
    if not re.match(SLACK_USER_PATTERN, slack_user_id or ""):
        raise InvalidInput(
            field="slack_user_id", rule=f"must be a Slack user id matching {SLACK_USER_PATTERN}"
        )
    return slack_user_id


def _digest(code: str) -> str:
    normal = re.sub(r"[\s-]", "", code).upper()
    return hashlib.sha256(normal.encode()).hexdigest()


@dataclass
class SlackPeople:
    database: Database
    directory: Directory
    client: WebClient | None = None
    email_domain: str | None = None

    def actor(self, slack_user_id: str) -> Actor | None:
        """The platform user this Slack user is, or None (unlinked, or disabled)."""
        with self.database.begin() as conn:
            user = slack_store.linked_user(conn, slack_user_id)
            if user is None and self.email_domain:
                user = self._by_email(conn, slack_user_id)
        if user is None:
            return None
        try:
            return self.directory.actor_for(user)
        except GoldenPathError:
            return None

    def _by_email(self, conn: object, slack_user_id: str) -> str | None:
        if self.client is None:
            return None
        try:
            info = call(self.client, "users.info", user=slack_user_id).get("user") or {}
        except BackendUnavailable as exc:
            logger.warning("users.info failed for %s: %s", slack_user_id, exc.message)
            return None
        email = str((info.get("profile") or {}).get("email") or "").lower()
        if not info.get("is_email_confirmed") or info.get("deleted") or "@" not in email:
            return None
        local, domain = email.rsplit("@", 1)
        for name in (email, local if domain == str(self.email_domain).lower() else None):
            if name is None:
                continue
            try:
                record = identity_store.get_user(conn, name)  # type: ignore[arg-type]
            except GoldenPathError:
                continue
            if record.external_id is None:  # an OIDC user is bound to its provider instead
                return record.name
        return None

    def new_link_code(self, slack_user_id: str) -> str:
        """A one-time code for this Slack user to type into the portal (15 minutes)."""
        check_slack_user(slack_user_id)
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        with self.database.begin() as conn:
            slack_store.add_link_code(
                conn, _digest(raw), slack_user_id, datetime.now(UTC) + CODE_LIFETIME
            )
        return f"{raw[:4]}-{raw[4:]}"

    def confirm_code(self, code: str, actor: Actor) -> str:
        """Link the Slack user who got ``code`` to the signed-in ``actor``; audited."""
        with self.database.begin() as conn:
            slack_user_id = slack_store.take_link_code(conn, _digest(code), datetime.now(UTC))
            if slack_user_id is None:
                raise InvalidInput(
                    field="code",
                    rule="is unknown, used or expired: run /golden link again for a new one",
                )
            slack_store.link(conn, slack_user_id, actor.user, linked_by=actor.user)
            queries.record_event(
                conn, actor.user, "slack.linked", actor.user, {"slack_user": slack_user_id}
            )
        return slack_user_id

    def link(self, actor: Actor, user: str, slack_user_id: str) -> None:
        """An admin links a Slack user to a platform user; audited."""
        authorize(actor, "identity.manage")
        check_slack_user(slack_user_id)
        with self.database.begin() as conn:
            identity_store.get_user(conn, user)
            slack_store.link(conn, slack_user_id, user, linked_by=actor.user)
            queries.record_event(
                conn, actor.user, "slack.linked", user, {"slack_user": slack_user_id}
            )
