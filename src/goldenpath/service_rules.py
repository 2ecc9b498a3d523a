"""The rules the use cases share: names, ids, justifications, and who may see what."""

from __future__ import annotations

import uuid
from datetime import timedelta

from goldenpath.errors import GoldenPathError, Hidden, InvalidInput, RequestNotFound
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target, authorize, visible_teams
from goldenpath.policy import Verdict
from goldenpath.store.records import RequestRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.model import parse_duration

TEAM_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
# The longest lifetime anything may be given, with or without a template max: an expiry date
# must stay a date (a typo like 999999w would overflow past the year 9999).
LONGEST_TTL = "520w"


def denial_text(verdict: Verdict) -> str:
    return "; ".join(f"{v.policy}: {v.message}" for v in verdict.violations)


def check_justification(text: str, field: str = "justification", shortest: int = 10) -> str:
    text = text.strip()
    if not shortest <= len(text) <= 2000:
        raise InvalidInput(field=field, rule=f"must be {shortest} to 2000 characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidInput(field=field, rule="must not contain control characters")
    return text


def request_target(request: RequestRecord) -> Target:
    return Target(team=request.owner_team, requested_by=request.requested_by)


def authorize_or_hide(
    actor: Actor,
    action: str,
    target: Target,
    not_found: type[GoldenPathError],
    identifier: str,
) -> None:
    """`authorize`, answering "not found" (with the id) where the actor may not even look."""
    try:
        authorize(actor, action, target)
    except Hidden:
        key = "request_id" if not_found is RequestNotFound else "resource_id"
        raise not_found(**{key: identifier}) from None


def visible(actor: Actor, team: str | None) -> list[str] | None:
    """The teams a listing covers: the one asked for (if the actor may see it), else all the
    actor may see; None means every team (platform admins)."""
    allowed = visible_teams(actor)
    if team is None:
        return None if allowed is None else list(allowed)
    if allowed is not None and team not in allowed:
        return []
    return [team]


def check_uuid(field: str, value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise InvalidInput(field=field, rule="must be a UUID") from None


def lifetime_seconds(template: Template, ttl: str | None) -> int | None:
    """How long a request's resources may live: the asked ``ttl`` (at most the template's
    ``max``), else the template's default; None means until someone destroys them."""
    policy = template.document.spec.lifecycle.ttl
    chosen = ttl if ttl is not None else policy.default
    if chosen is None:
        return None
    seconds = int(duration_input(chosen).total_seconds())
    if policy.max is not None and seconds > parse_duration(policy.max).total_seconds():
        raise InvalidInput(field="ttl", rule=f"must be at most {policy.max} for this golden path")
    return seconds


def duration_input(text: str) -> timedelta:
    """A duration a user typed (``ttl``), or the error naming the field and the rule."""
    try:
        duration = parse_duration(text)
    except ValueError:
        raise InvalidInput(field="ttl", rule="must be a duration like 12h, 30d or 2w") from None
    if duration > parse_duration(LONGEST_TTL):
        raise InvalidInput(field="ttl", rule=f"must be at most {LONGEST_TTL} on this platform")
    return duration
