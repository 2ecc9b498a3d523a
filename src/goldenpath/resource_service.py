"""Use cases on what requests created: the catalog, secrets, drift, destruction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from goldenpath import notifications
from goldenpath.actions.base import Observation
from goldenpath.errors import Conflict, Hidden, InvalidInput, ResourceNotFound
from goldenpath.execution.queue import Queue
from goldenpath.execution.runner import Runner
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target, authorize
from goldenpath.paging import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    newest_first_cursor,
    newest_first_key,
    page_after,
)
from goldenpath.secretbox import SecretBox
from goldenpath.service_rules import authorize_or_hide, check_uuid, duration_input, visible
from goldenpath.store import queries
from goldenpath.store.database import Database
from goldenpath.store.records import ResourceRecord
from goldenpath.templates.loader import Template
from goldenpath.templates.model import parse_duration

logger = logging.getLogger(__name__)


class ResourceUseCases:
    """Part of `Service`: its fields are declared there."""

    database: Database
    queue: Queue
    box: SecretBox
    runner: Runner | None
    webhooks: bool
    expiry_warning: timedelta
    team_channels: Mapping[str, str]
    portal_url: str

    # --- resources ------------------------------------------------------------------------

    def resources(
        self, actor: Actor, *, team: str | None = None, include_destroyed: bool = False
    ) -> list[ResourceRecord]:
        teams = visible(actor, team)
        with self.database.begin() as conn:
            return queries.list_resources(conn, teams=teams, include_destroyed=include_destroyed)

    def resource_page(
        self,
        actor: Actor,
        *,
        team: str | None = None,
        include_destroyed: bool = False,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> Page[ResourceRecord]:
        """One page of what `resources` lists, newest first, and how many there are."""
        check_limit(limit)
        teams = visible(actor, team)
        before = newest_first_key(cursor)
        with self.database.begin() as conn:
            found = queries.list_resources(
                conn,
                teams=teams,
                include_destroyed=include_destroyed,
                limit=limit + 1,
                before=before,
            )
            total = queries.count_resources(conn, teams=teams, include_destroyed=include_destroyed)
        return page_after(found, limit, total, lambda r: newest_first_cursor(r.created_at, r.id))

    def resource(self, resource_id: str, actor: Actor) -> ResourceRecord:
        check_uuid("resource_id", resource_id)
        with self.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id)
        target = Target(team=resource.owner_team)
        authorize_or_hide(actor, "resource.read", target, ResourceNotFound, resource_id)
        return resource

    def reveal_resource_secrets(self, resource_id: str, actor: Actor) -> dict[str, Any]:
        """The secret outputs of the step that made a resource, to its team; audited."""
        check_uuid("resource_id", resource_id)
        with self.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id)
            target = Target(team=resource.owner_team)
            authorize_or_hide(actor, "secret.reveal", target, ResourceNotFound, resource_id)
            step = queries.get_request(conn, resource.request_id).step(resource.step_id)
            sealed = step.secret_outputs if step else None
            queries.record_event(
                conn, actor.user, "secret.revealed", resource_id, {"request": resource.request_id}
            )
        return dict(self.box.open(sealed)) if sealed else {}

    def authorize_repository(self, actor: Actor, name: str, *, push: bool) -> None:
        """Whether ``actor`` may clone from (or, with ``push``, push to) the platform's local
        repository ``name``: members of the team that owns it, and platform admins, with a
        token whose scopes cover it (a read token clones, never pushes)."""
        with self.database.begin() as conn:
            owners = queries.live_owners(conn, "git:repo", name)
        if not owners:
            raise Hidden()
        action = "repository.push" if push else "repository.read"
        for team in owners:
            authorize(actor, action, Target(team=team))

    def check(self, resource_id: str, actor: Actor) -> Observation:
        """Compare the resource's live state with what was made (``drifted`` when they differ)."""
        resource = self.resource(resource_id, actor)
        if resource.state not in ("active", "drifted"):
            raise Conflict(problem=f"resource {resource_id} is {resource.state}; nothing to check")
        assert self.runner is not None
        return self.runner.observe_resource(resource, actor=actor.user)

    def sweep_drift(self) -> int:
        """Check every live resource (a periodic task, every ``drift_check_minutes``)."""
        assert self.runner is not None
        with self.database.begin() as conn:
            live = [
                r
                for r in queries.list_resources(conn, limit=10_000)
                if r.state in ("active", "drifted")
            ]
        for resource in live:
            try:
                self.runner.observe_resource(resource, actor="drift-check")
            except Exception as exc:  # one unreachable backend must not stop the sweep
                logger.warning("drift check of %s failed: %s", resource.id, exc)
        return len(live)

    def extend(self, resource_id: str, actor: Actor, ttl: str) -> ResourceRecord:
        """Push a resource's expiry to ``ttl`` from now, within its template's ``max``."""
        resource = self.resource(resource_id, actor)
        authorize_or_hide(
            actor,
            "resource.destroy",
            Target(team=resource.owner_team),
            ResourceNotFound,
            resource_id,
        )
        if resource.state not in ("active", "drifted"):
            raise Conflict(problem=f"resource {resource_id} is {resource.state}")
        with self.database.begin() as conn:
            request = queries.get_request(conn, resource.request_id)
            template = Template.from_snapshot(request.template_snapshot)
            wanted = datetime.now(UTC) + duration_input(ttl)
            longest = template.document.spec.lifecycle.ttl.max
            if longest is not None and wanted > resource.created_at + parse_duration(longest):
                raise InvalidInput(
                    field="ttl",
                    rule=f"would outlive the {longest} this golden path allows from creation",
                )
            # A new expiry gets its own warning.
            queries.update_resource(conn, resource_id, expires_at=wanted, expiry_warned_at=None)
            queries.record_event(
                conn, actor.user, "resource.extended", resource_id, {"expires_at": wanted}
            )
            return queries.get_resource(conn, resource_id)

    def extension_offer(self, resource: ResourceRecord) -> str | None:
        """The lifetime from now the portal's one-click extend asks for: the golden path's
        default (else 7 days) cut to the whole hours its ``max`` still allows, or all of those
        when the default buys nothing; None when no offer buys an hour more (or the resource
        never expires)."""
        if resource.expires_at is None or resource.state not in ("active", "drifted"):
            return None
        with self.database.begin() as conn:
            request = queries.get_request(conn, resource.request_id)
        ttl = Template.from_snapshot(request.template_snapshot).document.spec.lifecycle.ttl
        now = datetime.now(UTC)
        wanted = parse_duration(ttl.default or "7d")
        worth = resource.expires_at + timedelta(hours=1)
        if ttl.max is not None:
            left = resource.created_at + parse_duration(ttl.max) - now
            whole_hours = timedelta(hours=int(left.total_seconds() // 3600))
            wanted = min(wanted, whole_hours) if now + wanted >= worth else whole_hours
        if now + wanted < worth:
            return None
        hours = int(wanted.total_seconds() // 3600)
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"

    def expiring_soon(self, resource: ResourceRecord, now: datetime | None = None) -> bool:
        """Whether the resource's expiry is within the warning period (the portal's banner)."""
        moment = now or datetime.now(UTC)
        return (
            bool(self.expiry_warning)
            and resource.expires_at is not None
            and resource.state in ("active", "drifted")
            and moment < resource.expires_at <= moment + self.expiry_warning
        )

    def warn_of_expiry(self, now: datetime | None = None) -> list[str]:
        """Tell the owners of every live resource that expires within the warning period, once
        per expiry: a webhook event ``resource.expiring`` and a message to the team's Slack
        channel, queued in the transaction that records the warning (worker housekeeping)."""
        if not self.expiry_warning:
            return []
        moment = now or datetime.now(UTC)
        warned = []
        with self.database.begin() as conn:
            for resource in queries.expiring_resources(conn, moment, moment + self.expiry_warning):
                assert resource.expires_at is not None
                queries.update_resource(conn, resource.id, expiry_warned_at=moment)
                queries.record_event(
                    conn,
                    "lifecycle",
                    "resource.expiring",
                    resource.id,
                    {"expires_at": resource.expires_at},
                )
                if self.webhooks:
                    self.queue.defer_notification(
                        conn,
                        notifications.resource_payload(
                            "resource.expiring", resource, url=self._resource_url(resource)
                        ),
                    )
                channel = self.team_channels.get(resource.owner_team)
                if channel:
                    self.queue.defer_slack_post(conn, channel, self._expiry_text(resource))
                warned.append(resource.id)
        return warned

    def _resource_url(self, resource: ResourceRecord) -> str:
        return f"{self.portal_url.rstrip('/')}/resources/{resource.id}"

    def _expiry_text(self, resource: ResourceRecord) -> str:
        assert resource.expires_at is not None
        when = resource.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{resource.kind} '{resource.name}' of team {resource.owner_team} expires {when} "
            f"and will then be destroyed. Extend it: {self._resource_url(resource)}"
        )

    def expire_resources(self, now: datetime | None = None) -> list[str]:
        """Queue the destruction of every live resource whose time is over (worker housekeeping)."""
        moment = now or datetime.now(UTC)
        expired = []
        with self.database.begin() as conn:
            for resource in queries.expired_resources(conn, moment):
                queries.update_resource(conn, resource.id, state="destroying", error=None)
                queries.record_event(
                    conn,
                    "lifecycle",
                    "resource.expired",
                    resource.id,
                    {"expires_at": resource.expires_at},
                )
                self.queue.defer_destroy(conn, resource.id)
                expired.append(resource.id)
        return expired

    def destroy(self, resource_id: str, actor: Actor) -> ResourceRecord:
        """Queue the destruction of a resource; its state becomes ``destroying`` at once."""
        check_uuid("resource_id", resource_id)
        with self.database.begin() as conn:
            resource = queries.get_resource(conn, resource_id)
            target = Target(team=resource.owner_team)
            authorize_or_hide(actor, "resource.destroy", target, ResourceNotFound, resource_id)
            if resource.state == "destroyed":
                raise Conflict(problem=f"resource {resource_id} is already destroyed")
            if resource.state in ("creating",):
                raise Conflict(problem=f"resource {resource_id} is still being created")
            queries.update_resource(conn, resource_id, state="destroying", error=None)
            queries.record_event(conn, actor.user, "resource.destroy_requested", resource_id, {})
            self.queue.defer_destroy(conn, resource_id)
            return queries.get_resource(conn, resource_id)
